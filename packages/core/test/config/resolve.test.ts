import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ConfigContext,
  isTsdltError,
  resolveConfig,
  resolveConfigWithProvenance,
  secret,
  sectionLookupPaths,
  setActivePipelineName,
  z,
} from "../../src/index.js";
import { type ConfigSandbox, createSandbox } from "./sandbox.js";

const GITHUB = ["sources", "github", "github_source"];
const githubSpec = z.object({
  repoName: z.string(),
  accessToken: secret(z.string()),
  perPage: z.int().default(100),
});

describe("resolveConfig", () => {
  let sb: ConfigSandbox;

  beforeEach(() => {
    sb = createSandbox();
  });

  afterEach(() => {
    sb.restore();
  });

  describe("provider precedence", () => {
    /** Puts `repo_name` in every provider; each test removes the winners one by one. */
    function everywhere(): void {
      sb.setEnv({ SOURCES__GITHUB__REPO_NAME: "env/repo" });
      sb.writeProject("secrets.toml", '[sources.github]\nrepo_name = "project-secrets/repo"\n');
      sb.writeGlobal("secrets.toml", '[sources.github]\nrepo_name = "global-secrets/repo"\n');
      sb.writeProject("config.toml", '[sources.github]\nrepo_name = "project-config/repo"\n');
      sb.writeGlobal("config.toml", '[sources.github]\nrepo_name = "global-config/repo"\n');
    }
    const spec = z.object({ repoName: z.string().default("default/repo") });
    const resolveRepo = (explicit?: string) =>
      resolveConfigWithProvenance(spec, {
        sections: GITHUB,
        ...(explicit ? { explicit: { repoName: explicit } } : {}),
      }).fields[0];

    it("should let an explicit argument win over every provider", () => {
      everywhere();
      expect(resolveRepo("explicit/repo")).toMatchObject({ origin: "explicit", display: '"explicit/repo"' });
    });

    it("should take environment variables before secrets.toml", () => {
      everywhere();
      expect(resolveRepo()).toMatchObject({
        origin: "provider",
        provider: "Environment Variables",
        providerKey: "SOURCES__GITHUB__REPO_NAME",
        display: '"env/repo"',
      });
    });

    it("should take secrets.toml (project, then global) before config.toml", () => {
      everywhere();
      sb.setEnv({ SOURCES__GITHUB__REPO_NAME: undefined });
      expect(resolveRepo()).toMatchObject({
        provider: "secrets.toml",
        providerKey: "sources.github.repo_name",
        location: join(sb.settingsDir, "secrets.toml"),
        display: '"project-secrets/repo"',
      });
      sb.writeProject("secrets.toml", "");
      expect(resolveRepo()).toMatchObject({
        provider: "secrets.toml",
        location: join(sb.home, ".dlt", "secrets.toml"),
        display: '"global-secrets/repo"',
      });
    });

    it("should take config.toml (project, then global) after the secrets", () => {
      everywhere();
      sb.setEnv({ SOURCES__GITHUB__REPO_NAME: undefined });
      sb.writeProject("secrets.toml", "");
      sb.writeGlobal("secrets.toml", "");
      expect(resolveRepo()).toMatchObject({
        provider: "config.toml",
        location: join(sb.settingsDir, "config.toml"),
        display: '"project-config/repo"',
      });
      sb.writeProject("config.toml", "");
      expect(resolveRepo()).toMatchObject({
        provider: "config.toml",
        location: join(sb.home, ".dlt", "config.toml"),
        display: '"global-config/repo"',
      });
    });

    it("should fall back to the schema default when no provider has the value", () => {
      expect(resolveRepo()).toMatchObject({ origin: "default", display: '"default/repo"' });
      expect(resolveConfig(spec, { sections: GITHUB })).toEqual({ repoName: "default/repo" });
    });
  });

  describe("sections", () => {
    it("should drop sections from the right, with the compact source path after sources.<section>", () => {
      expect(sectionLookupPaths(GITHUB, [], "access_token").map((p) => p.join("."))).toEqual([
        "sources.github.github_source.access_token",
        "sources.github.access_token",
        "sources.github_source.access_token",
        "sources.access_token",
        "access_token",
      ]);
    });

    it("should keep embedded sections while dropping (REFERENCE §8.3 postgres password)", () => {
      expect(
        sectionLookupPaths(["destination", "postgres"], ["credentials"], "password").map((p) => p.join(".")),
      ).toEqual([
        "destination.postgres.credentials.password",
        "destination.credentials.password",
        "credentials.password",
      ]);
    });

    it.each([
      ["[sources.github.github_source]", "most specific"],
      ["[sources.github]", "source section"],
      ["[sources.github_source]", "compact source name"],
      ["[sources]", "all sources"],
      ["", "top level"],
    ])("should find a value at %s (%s)", (table) => {
      sb.writeProject("config.toml", `${table}\nrepo_name = "found"\n`);
      const field = resolveConfigWithProvenance(z.object({ repoName: z.string() }), { sections: GITHUB })
        .fields[0];
      expect(field?.display).toBe('"found"');
      expect(field?.providerKey).toBe(`${table.slice(1, -1)}${table ? "." : ""}repo_name`);
    });

    it("should prefer the more specific section within a provider", () => {
      sb.writeProject(
        "config.toml",
        '[sources]\nrepo_name = "general"\n[sources.github]\nrepo_name = "github"\n',
      );
      expect(resolveConfig(z.object({ repoName: z.string() }), { sections: GITHUB }).repoName).toBe("github");
    });

    it("should prefer a higher provider over a more specific section in a lower one", () => {
      sb.setEnv({ REPO_NAME: "bare-env" });
      sb.writeProject("config.toml", '[sources.github.github_source]\nrepo_name = "specific-toml"\n');
      expect(resolveConfig(z.object({ repoName: z.string() }), { sections: GITHUB }).repoName).toBe(
        "bare-env",
      );
    });
  });

  describe("pipeline-prefixed lookups", () => {
    it("should try the pipeline-prefixed keys first across all providers", () => {
      sb.setEnv({ SOURCES__GITHUB__REPO_NAME: "unprefixed-env" });
      sb.writeProject("config.toml", '[my_pipeline.sources.github]\nrepo_name = "prefixed-config"\n');
      const field = resolveConfigWithProvenance(z.object({ repoName: z.string() }), {
        sections: GITHUB,
        pipelineName: "my_pipeline",
      }).fields[0];
      expect(field).toMatchObject({
        provider: "config.toml",
        providerKey: "my_pipeline.sources.github.repo_name",
        display: '"prefixed-config"',
      });
      expect(field?.tried.slice(0, 5).map((t) => t.key)).toEqual([
        "MY_PIPELINE__SOURCES__GITHUB__GITHUB_SOURCE__REPO_NAME",
        "MY_PIPELINE__SOURCES__GITHUB__REPO_NAME",
        "MY_PIPELINE__SOURCES__GITHUB_SOURCE__REPO_NAME",
        "MY_PIPELINE__SOURCES__REPO_NAME",
        "MY_PIPELINE__REPO_NAME",
      ]);
    });

    it("should use a prefixed env var (CHESS_PIPELINE__DESTINATION__...) before the unprefixed one", () => {
      sb.setEnv({
        CHESS_PIPELINE__DESTINATION__POSTGRES__CREDENTIALS__PASSWORD: "prefixed",
        DESTINATION__POSTGRES__CREDENTIALS__PASSWORD: "unprefixed",
      });
      const spec = z.object({ credentials: z.object({ password: secret(z.string()) }) });
      const options = { sections: ["destination", "postgres"] };
      expect(resolveConfig(spec, { ...options, pipelineName: "chess_pipeline" }).credentials.password).toBe(
        "prefixed",
      );
      expect(resolveConfig(spec, { ...options, pipelineName: "other" }).credentials.password).toBe(
        "unprefixed",
      );
      expect(resolveConfig(spec, options).credentials.password).toBe("unprefixed");
    });

    it("should use the active pipeline's name when none is given", () => {
      sb.setEnv({ ACTIVE__SOURCES__GITHUB__REPO_NAME: "active" });
      const spec = z.object({ repoName: z.string().optional() });
      expect(resolveConfig(spec, { sections: GITHUB }).repoName).toBeUndefined();
      setActivePipelineName("active");
      expect(resolveConfig(spec, { sections: GITHUB }).repoName).toBe("active");
      expect(resolveConfig(spec, { sections: GITHUB, pipelineName: null }).repoName).toBeUndefined();
    });

    it("should resolve the tutorial's pipeline-name sections: repo_name in config.toml, access_token in secrets.toml", () => {
      sb.writeProject("config.toml", '[github_with_source_secrets]\nrepo_name = "dlt-hub/dlt"\n');
      sb.writeGlobal("secrets.toml", '[github_with_source_secrets]\naccess_token = "ghp_A123"\n');
      const resolved = resolveConfigWithProvenance(githubSpec, {
        sections: GITHUB,
        pipelineName: "github_with_source_secrets",
      });
      expect(resolved.value).toEqual({ repoName: "dlt-hub/dlt", accessToken: "ghp_A123", perPage: 100 });
      expect(resolved.fields.map((f) => [f.field, f.provider, f.providerKey])).toEqual([
        ["repoName", "config.toml", "github_with_source_secrets.repo_name"],
        ["accessToken", "secrets.toml", "github_with_source_secrets.access_token"],
        ["perPage", undefined, undefined],
      ]);
    });
  });

  describe("values", () => {
    it("should coerce environment strings to the spec's types", () => {
      sb.setEnv({
        LOAD__WORKERS: "7",
        LOAD__RAISE_ON_FAILED_JOBS: "false",
        LOAD__RATIO: "0.5",
        LOAD__TABLES: '["a", "b"]',
        LOAD__PRAGMAS: "['enable_logging', 'x']",
        LOAD__HEADERS: '{"accept": "json"}',
        LOAD__MODE: "fast",
      });
      const spec = z.object({
        workers: z.int(),
        raiseOnFailedJobs: z.boolean(),
        ratio: z.number(),
        tables: z.array(z.string()),
        pragmas: z.array(z.string()),
        headers: z.record(z.string(), z.string()),
        mode: z.enum(["fast", "slow"]),
      });
      expect(resolveConfig(spec, { sections: ["load"] })).toEqual({
        workers: 7,
        raiseOnFailedJobs: false,
        ratio: 0.5,
        tables: ["a", "b"],
        pragmas: ["enable_logging", "x"],
        headers: { accept: "json" },
        mode: "fast",
      });
    });

    it("should keep TOML types and accept TOML numbers for string fields", () => {
      sb.writeProject("config.toml", "[load]\nworkers = 3\nname = 42\nflag = true\n");
      const spec = z.object({ workers: z.int(), name: z.string(), flag: z.boolean() });
      expect(resolveConfig(spec, { sections: ["load"] })).toEqual({ workers: 3, name: "42", flag: true });
    });

    it("should accept snake_case schema keys as they are", () => {
      sb.setEnv({ SOURCES__GITHUB__REPO_NAME: "snake" });
      expect(resolveConfig(z.object({ repo_name: z.string() }), { sections: GITHUB })).toEqual({
        repo_name: "snake",
      });
    });

    it("should fail with CONFIG_VALUE_INVALID naming the field and its provider key, without the value", () => {
      sb.setEnv({ LOAD__WORKERS: "many-workers" });
      let caught: unknown;
      try {
        resolveConfig(z.object({ workers: z.int() }), { sections: ["load"] });
      } catch (error) {
        caught = error;
      }
      expect(isTsdltError(caught, "CONFIG_VALUE_INVALID")).toBe(true);
      expect((caught as Error).message).toContain("`workers` (from Environment Variables `LOAD__WORKERS`)");
      expect((caught as Error).message).not.toContain("many-workers");
    });

    it("should read embedded objects field by field or as a whole TOML table", () => {
      sb.writeProject("config.toml", "[normalize.data_writer]\nbuffer_max_items = 10\n");
      sb.writeProject("secrets.toml", "[data_writer]\nfile_max_items = 99\n");
      const spec = z.object({
        workers: z.int().default(1),
        dataWriter: z.object({ bufferMaxItems: z.int().default(5000), fileMaxItems: z.int().optional() }),
      });
      const resolved = resolveConfigWithProvenance(spec, { sections: ["normalize"] });
      expect(resolved.value).toEqual({ workers: 1, dataWriter: { bufferMaxItems: 10, fileMaxItems: 99 } });
      expect(resolved.fields.map((f) => [f.field, f.providerKey])).toEqual([
        ["workers", undefined],
        ["dataWriter.bufferMaxItems", "normalize.data_writer.buffer_max_items"],
        ["dataWriter.fileMaxItems", "data_writer.file_max_items"],
      ]);
    });

    it("should leave an optional embedded object undefined when nothing is found", () => {
      const spec = z.object({ proxy: z.object({ host: z.string(), port: z.int() }).optional() });
      expect(resolveConfig(spec, { sections: ["sources", "api"] })).toEqual({ proxy: undefined });
      sb.setEnv({ SOURCES__API__PROXY__HOST: "proxy.local" });
      expect(() => resolveConfig(spec, { sections: ["sources", "api"] })).toThrow(/`proxy.port`/);
    });

    it("should recognise secrets marked with secret() or .meta({ secret: true }), without mutating the schema", () => {
      sb.writeProject("config.toml", "[sources.api]\nkey_a = 'a'\nkey_b = 'b'\nkey_c = 'c'\n");
      const plain = z.string();
      const spec = z.object({ keyA: secret(plain), keyB: z.string().meta({ secret: true }), keyC: plain });
      expect(() => resolveConfig(spec.pick({ keyA: true }), { sections: ["sources", "api"] })).toThrow(
        /Secret `keyA`/,
      );
      expect(() => resolveConfig(spec.pick({ keyB: true }), { sections: ["sources", "api"] })).toThrow(
        /Secret `keyB`/,
      );
      expect(resolveConfig(spec.pick({ keyC: true }), { sections: ["sources", "api"] })).toEqual({
        keyC: "c",
      });
    });

    it("should work with an explicit context instead of the process environment", () => {
      const context = ConfigContext.create({
        env: { SOURCES__GITHUB__REPO_NAME: "from-context" },
        settingsDir: join(sb.root, "nowhere"),
        globalDir: join(sb.root, "nowhere-global"),
      });
      sb.setEnv({ SOURCES__GITHUB__REPO_NAME: "from-process" });
      expect(resolveConfig(z.object({ repoName: z.string() }), { sections: GITHUB, context }).repoName).toBe(
        "from-context",
      );
    });
  });
});
