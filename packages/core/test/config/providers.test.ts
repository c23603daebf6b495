import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ConfigContext,
  type ConfigProvider,
  EnvironProvider,
  globalDir,
  isTsdltError,
  projectSettingsDir,
  registerConfigProvider,
  resolveConfig,
  secret,
  z,
} from "../../src/index.js";
import { type ConfigSandbox, createSandbox } from "./sandbox.js";

describe("config providers", () => {
  let sb: ConfigSandbox;

  beforeEach(() => {
    sb = createSandbox();
  });

  afterEach(() => {
    sb.restore();
  });

  it("should find the project folder from DLT_PROJECT_DIR and the global folder in the temp HOME", () => {
    expect(projectSettingsDir()).toBe(sb.settingsDir);
    expect(globalDir()).toBe(join(sb.home, ".dlt"));
    const context = ConfigContext.create();
    expect(context.providers.map((p) => p.name)).toEqual([
      "Environment Variables",
      "secrets.toml",
      "config.toml",
    ]);
    expect(context.provider("secrets.toml")?.locations.notFound).toEqual([
      join(sb.settingsDir, "secrets.toml"),
      join(sb.home, ".dlt", "secrets.toml"),
    ]);
  });

  it("should use DLT_DATA_DIR as the global folder when set", () => {
    sb.restore();
    sb = createSandbox({ useDataDir: true });
    sb.writeGlobal("config.toml", 'value = "global"\n');
    expect(globalDir()).toBe(sb.globalDir);
    expect(resolveConfig(z.object({ value: z.string() }))).toEqual({ value: "global" });
  });

  it("should honour DLT_CONFIG_FOLDER for the project settings folder", () => {
    sb.setEnv({ DLT_CONFIG_FOLDER: "settings" });
    writeFileSync(join(sb.project, "x.txt"), "");
    sb.writeProject("../settings/config.toml", 'value = "from settings"\n');
    expect(resolveConfig(z.object({ value: z.string() }))).toEqual({ value: "from settings" });
  });

  it("should name environment variables with sections joined by __ and upper-cased", () => {
    const env = new EnvironProvider({ SOURCES__GITHUB__ACCESS_TOKEN: "t0ken" });
    expect(env.keyOf(["sources", "github", "access_token"])).toBe("SOURCES__GITHUB__ACCESS_TOKEN");
    expect(env.lookup(["sources", "github", "access_token"]).value).toBe("t0ken");
    expect(env.lookup(["sources", "access_token"]).value).toBeUndefined();
  });

  it("should read a real environment variable, including an empty one", () => {
    sb.setEnv({ SOURCES__GITHUB__REPO_NAME: "dlt-hub/dlt", SOURCES__GITHUB__LABEL: "" });
    const spec = z.object({ repoName: z.string(), label: z.string() });
    expect(resolveConfig(spec, { sections: ["sources", "github"] })).toEqual({
      repoName: "dlt-hub/dlt",
      label: "",
    });
  });

  it("should merge project and global TOML files, the project winning key by key", () => {
    sb.writeGlobal("config.toml", '[sources.github]\nrepo_name = "global/repo"\nper_page = 50\n');
    sb.writeProject("config.toml", '[sources.github]\nrepo_name = "project/repo"\n');
    const spec = z.object({ repoName: z.string(), perPage: z.number() });
    expect(resolveConfig(spec, { sections: ["sources", "github"] })).toEqual({
      repoName: "project/repo",
      perPage: 50,
    });
    const provider = ConfigContext.create().provider("config.toml");
    expect(provider?.locations.loaded).toEqual([
      join(sb.settingsDir, "config.toml"),
      join(sb.home, ".dlt", "config.toml"),
    ]);
  });

  it("should merge a table found in both files when the field asks for the whole table", () => {
    sb.writeGlobal("config.toml", "[sources.api.headers]\naccept = 'json'\nx_global = '1'\n");
    sb.writeProject("config.toml", "[sources.api.headers]\naccept = 'xml'\n");
    const spec = z.object({ headers: z.record(z.string(), z.string()) });
    expect(resolveConfig(spec, { sections: ["sources", "api"] }).headers).toEqual({
      accept: "xml",
      x_global: "1",
    });
  });

  it("should re-read a TOML file after it changes", () => {
    const file = sb.writeProject("config.toml", 'value = "one"\n');
    const spec = z.object({ value: z.string() });
    expect(resolveConfig(spec).value).toBe("one");
    writeFileSync(file, 'value = "two-two"\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(resolveConfig(spec).value).toBe("two-two");
  });

  it("should fail on invalid TOML with the file, line and column, but never the offending text", () => {
    sb.writeProject("secrets.toml", 'ok = 1\napi_key = "sk_live_SUPERSECRET\n');
    let caught: unknown;
    try {
      resolveConfig(z.object({ ok: z.number() }));
    } catch (error) {
      caught = error;
    }
    expect(isTsdltError(caught, "CONFIG_FILE_INVALID")).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain(join(sb.settingsDir, "secrets.toml"));
    expect(message).toContain("line 2");
    expect(message).not.toContain("SUPERSECRET");
    expect(JSON.stringify(caught)).not.toContain("SUPERSECRET");
  });

  it("should skip empty providers: they are not traced", () => {
    sb.writeProject("config.toml", "");
    const context = ConfigContext.create();
    expect(context.provider("config.toml")?.isEmpty).toBe(true);
    expect(context.provider("secrets.toml")?.isEmpty).toBe(true);
  });

  it("should query a registered provider after config.toml", () => {
    const vault: ConfigProvider = {
      name: "Vault",
      supportsSecrets: true,
      supportsSections: true,
      isEmpty: false,
      locations: { loaded: [], notFound: [] },
      keyOf: (path) => path.join("-"),
      lookup: (path) => ({
        key: path.join("-"),
        value: path.join("-") === "sources-github-access_token" ? "from-vault" : undefined,
      }),
    };
    const unregister = registerConfigProvider(vault);
    try {
      sb.writeProject("secrets.toml", "[sources.github]\nother = 1\n");
      const spec = z.object({ accessToken: secret(z.string()) });
      expect(resolveConfig(spec, { sections: ["sources", "github"] }).accessToken).toBe("from-vault");
      sb.setEnv({ SOURCES__GITHUB__ACCESS_TOKEN: "from-env" });
      expect(resolveConfig(spec, { sections: ["sources", "github"] }).accessToken).toBe("from-env");
    } finally {
      unregister();
    }
  });
});
