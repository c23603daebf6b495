import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigFieldMissingError, config, redactText, secrets, z } from "../../src/index.js";
import { type ConfigSandbox, createSandbox } from "./sandbox.js";

describe("config and secrets accessors", () => {
  let sb: ConfigSandbox;

  beforeEach(() => {
    sb = createSandbox();
  });

  afterEach(() => {
    sb.restore();
  });

  it("should read exact dotted keys from TOML and env (no section dropping, no pipeline prefix)", () => {
    sb.writeProject("config.toml", '[sources.github]\nrepo_name = "dlt-hub/dlt"\n');
    expect(config.get("sources.github.repo_name")).toBe("dlt-hub/dlt");
    expect(config.get("sources.repo_name")).toBeUndefined();
    expect(config.get("repo_name")).toBeUndefined();
    sb.setEnv({ SOURCES__GITHUB__REPO_NAME: "env/repo" });
    expect(config.get("sources.github.repo_name")).toBe("env/repo");
  });

  it("should auto-cast environment strings and coerce to a schema", () => {
    sb.setEnv({ LOAD__WORKERS: "4", LOAD__FLAG: "true", LOAD__NAMES: '["a"]', LOAD__TEXT: "hello" });
    expect(config.get("load.workers")).toBe(4);
    expect(config.get("load.flag")).toBe(true);
    expect(config.get("load.names")).toEqual(["a"]);
    expect(config.get("load.text")).toBe("hello");
    expect(config.get("load.workers", z.string())).toBe("4");
    expect(config.get("load.missing", z.int())).toBeUndefined();
  });

  it("should return whole tables as plain objects", () => {
    sb.writeProject(
      "secrets.toml",
      '[destination.postgres.credentials]\nhost = "h"\npassword = "TablePw123"\n',
    );
    const table = secrets.get("destination.postgres.credentials");
    expect(table).toEqual({ host: "h", password: "TablePw123" });
    expect(Object.getPrototypeOf(table)).toBe(Object.prototype);
    expect(redactText("pw=TablePw123")).toBe("pw=***");
  });

  it("should read secrets only from env and secrets.toml", () => {
    sb.writeProject("config.toml", '[sources.github]\naccess_token = "in-config"\n');
    expect(config.get("sources.github.access_token")).toBe("in-config");
    expect(secrets.get("sources.github.access_token")).toBeUndefined();
    sb.writeProject("secrets.toml", '[sources.github]\naccess_token = "ghp_FromSecrets"\n');
    expect(secrets.get("sources.github.access_token")).toBe("ghp_FromSecrets");
    expect(redactText("token ghp_FromSecrets")).toBe("token ***");
  });

  it("should fail require() with the keys tried", () => {
    let caught: unknown;
    try {
      config.require("sources.github.repo_name");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigFieldMissingError);
    expect((caught as Error).message).toContain("(Environment Variables, SOURCES__GITHUB__REPO_NAME)");
    expect(() => config.require("sources..x")).toThrow(/is not a config key/);
  });

  it("should set values in memory, below environment variables", () => {
    config.set("sources.github.repo_name", "set/in-code");
    expect(config.get("sources.github.repo_name")).toBe("set/in-code");
    secrets.set("sources.github.access_token", "ghp_SetInCode");
    expect(secrets.get("sources.github.access_token")).toBe("ghp_SetInCode");
    expect(redactText("ghp_SetInCode")).toBe("***");
    sb.setEnv({ SOURCES__GITHUB__REPO_NAME: "env-wins" });
    expect(config.get("sources.github.repo_name")).toBe("env-wins");
  });
});
