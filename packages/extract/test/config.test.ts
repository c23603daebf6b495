/**
 * Config injection into sources, resources and transformers (issue 7, item 1): real environment
 * variables and real `.dlt/*.toml` files in a temp project folder and a temp home.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigFieldMissingError,
  type ConfigProvider,
  ConfigValueNotSecretError,
  clearRegisteredSecrets,
  declaredConfigs,
  redactText,
  registerConfigProvider,
  secret,
  setActivePipelineName,
  z,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DltResource,
  type DltSource,
  extractSource,
  resource,
  source,
  transformer,
} from "../src/index.js";
import { createFixture, type Fixture, items } from "./helpers.js";

let fixture: Fixture;
let root: string;
let settingsDir: string;
const saved = new Map<string, string | undefined>();

function setEnv(vars: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(vars)) {
    if (!saved.has(key)) saved.set(key, process.env[key]);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

function writeProject(file: string, content: string): void {
  writeFileSync(join(settingsDir, file), content);
}

beforeEach(() => {
  fixture = createFixture();
  root = mkdtempSync(join(tmpdir(), "tsdlt-extract-config-"));
  settingsDir = join(root, "project", ".dlt");
  mkdirSync(settingsDir, { recursive: true });
  mkdirSync(join(root, "home"), { recursive: true });
  const cleared: Record<string, undefined> = {};
  for (const key of Object.keys(process.env)) {
    if (key.includes("__") || key.startsWith("DLT_")) cleared[key] = undefined;
  }
  setEnv({ ...cleared, DLT_PROJECT_DIR: join(root, "project"), HOME: join(root, "home") });
  setActivePipelineName(undefined);
});

afterEach(() => {
  for (const [key, value] of saved) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  saved.clear();
  setActivePipelineName(undefined);
  clearRegisteredSecrets();
  fixture.cleanup();
  rmSync(root, { recursive: true, force: true });
});

async function rowsOf(src: DltSource, table: string): Promise<unknown[]> {
  const result = await extractSource({
    source: src,
    schema: fixture.schema,
    naming: fixture.naming,
    storage: fixture.storage,
  });
  return items(result.package, table);
}

async function pagesOf(res: DltResource): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const page of res.pages()) out.push(...page);
  return out;
}

const githubSpec = z.object({
  repoName: z.string(),
  accessToken: secret(z.string()),
  perPage: z.int().default(100),
});

/** The tutorial's github_source: one row per endpoint carrying what the source was configured with. */
const githubSource = source(
  function* github_source({ repoName, accessToken, perPage }, endpoints: string[] = ["issues"]) {
    for (const endpoint of endpoints) {
      yield resource(
        [{ id: 1, repo: repoName, token_length: accessToken.length, per_page: perPage, endpoint }],
        { name: endpoint },
      );
    }
  },
  { section: "github", config: githubSpec },
);

describe("source({ config })", () => {
  it("should inject repo_name from config.toml and access_token from the environment", async () => {
    writeProject("config.toml", '[sources.github]\nrepo_name = "dlt-hub/dlt"\n');
    setEnv({ SOURCES__GITHUB__ACCESS_TOKEN: "ghp_fromEnv123" });
    expect(await rowsOf(githubSource(), "issues")).toEqual([
      { id: 1, repo: "dlt-hub/dlt", token_length: 14, per_page: 100, endpoint: "issues" },
    ]);
  });

  it("should let values passed in code win field by field, and pass the other arguments on", async () => {
    writeProject("config.toml", '[sources.github]\nrepo_name = "dlt-hub/dlt"\nper_page = 20\n');
    writeProject("secrets.toml", '[sources.github.github_source]\naccess_token = "ghp_fromToml"\n');
    const src = githubSource({ repoName: "acme/widgets" }, ["issues", "comments"]);
    expect(src.resourceNames).toEqual(["issues", "comments"]);
    expect(await rowsOf(src, "comments")).toEqual([
      { id: 1, repo: "acme/widgets", token_length: 12, per_page: 20, endpoint: "comments" },
    ]);
  });

  it("should look up the active pipeline's section first (the tutorial's [github_with_source_secrets])", async () => {
    writeProject("config.toml", '[github_with_source_secrets]\nrepo_name = "from/pipeline"\n');
    writeProject("secrets.toml", '[github_with_source_secrets]\naccess_token = "ghp_pipelineSecret"\n');
    setEnv({ SOURCES__GITHUB__REPO_NAME: "from/env-unprefixed" });
    setActivePipelineName("github_with_source_secrets");
    const [row] = (await rowsOf(githubSource(), "issues")) as { repo: string }[];
    expect(row?.repo).toBe("from/pipeline");
    // Without the pipeline, the unprefixed env var wins.
    setActivePipelineName(undefined);
    writeProject("secrets.toml", '[sources]\naccess_token = "ghp_pipelineSecret"\n');
    const [unprefixed] = (await rowsOf(githubSource(), "issues")) as { repo: string }[];
    expect(unprefixed?.repo).toBe("from/env-unprefixed");
  });

  it("should fail when called without a required value, listing every key tried", () => {
    writeProject("config.toml", '[sources.github]\nrepo_name = "dlt-hub/dlt"\n');
    setActivePipelineName("gh");
    let error: unknown;
    try {
      githubSource();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigFieldMissingError);
    const message = (error as Error).message;
    expect(message).toContain("Missing 1 field(s) in configuration `github_source`: `accessToken`");
    const tried = message
      .split("\n")
      .filter((l) => l.startsWith("  (Environment Variables"))
      .map((l) => l.trim());
    expect(tried).toEqual([
      "(Environment Variables, GH__SOURCES__GITHUB__GITHUB_SOURCE__ACCESS_TOKEN)",
      "(Environment Variables, GH__SOURCES__GITHUB__ACCESS_TOKEN)",
      "(Environment Variables, GH__SOURCES__GITHUB_SOURCE__ACCESS_TOKEN)",
      "(Environment Variables, GH__SOURCES__ACCESS_TOKEN)",
      "(Environment Variables, GH__ACCESS_TOKEN)",
      "(Environment Variables, SOURCES__GITHUB__GITHUB_SOURCE__ACCESS_TOKEN)",
      "(Environment Variables, SOURCES__GITHUB__ACCESS_TOKEN)",
      "(Environment Variables, SOURCES__GITHUB_SOURCE__ACCESS_TOKEN)",
      "(Environment Variables, SOURCES__ACCESS_TOKEN)",
      "(Environment Variables, ACCESS_TOKEN)",
    ]);
    expect(message).toContain("(config.toml, sources.github.github_source.access_token)");
    expect(message).toContain("NOTE: following fields in `github_source` got resolved: `repoName`");
  });

  it("should refuse a secret found in config.toml", () => {
    writeProject("config.toml", '[sources.github]\nrepo_name = "r/r"\naccess_token = "ghp_inConfigToml"\n');
    expect(() => githubSource()).toThrow(ConfigValueNotSecretError);
    try {
      githubSource();
    } catch (e) {
      expect((e as Error).message).not.toContain("ghp_inConfigToml");
    }
  });

  it("should mask secrets it resolved or was given, and explain where each value came from", () => {
    writeProject("config.toml", '[sources.github]\nrepo_name = "dlt-hub/dlt"\n');
    setEnv({ SOURCES__GITHUB__ACCESS_TOKEN: "ghp_maskMePlease" });
    githubSource();
    githubSource({ accessToken: "ghp_givenInCode42" });
    expect(redactText("token ghp_maskMePlease and ghp_givenInCode42")).toBe("token *** and ***");

    expect(githubSource.config.sections).toEqual(["sources", "github", "github_source"]);
    const text = githubSource.config.explain().format();
    expect(text).toContain(
      `  repoName    = "dlt-hub/dlt"  <- config.toml \`sources.github.repo_name\` (${settingsDir}/config.toml)`,
    );
    expect(text).toContain("  accessToken = ***  <- Environment Variables `SOURCES__GITHUB__ACCESS_TOKEN`");
    expect(text).toContain("  perPage     = 100  <- default");
    expect(text).toContain(
      "Keys are looked up at: `sources.github.github_source.<key>` → `sources.github.<key>` → `sources.github_source.<key>` → `sources.<key>` → `<key>`",
    );
    expect(text).toContain(
      "where <key> is the field name in snake_case: repoName → repo_name, accessToken → access_token, perPage → per_page",
    );
    expect(text).not.toContain("ghp_maskMePlease");
    expect(declaredConfigs()).toContain(githubSource.config);
  });

  it("should use the source name as section by default, and re-declare on clone", () => {
    const plain = source(({ apiKey }) => [{ id: 1, key: apiKey.length }], {
      name: "notion",
      config: z.object({ apiKey: secret(z.string()) }),
    });
    expect(plain.config.sections).toEqual(["sources", "notion"]);
    const cloned = plain.clone({ name: "my_db", section: "my_db_module" });
    expect(cloned.config.sections).toEqual(["sources", "my_db_module", "my_db"]);
    setEnv({ SOURCES__MY_DB__API_KEY: "key-for-clone" });
    expect(cloned().name).toBe("my_db");
    expect(() => plain()).toThrow(/`apiKey`/);
  });

  it("should reject config values given as something other than an object", () => {
    // @ts-expect-error the first argument holds config values
    expect(() => githubSource("dlt-hub/dlt")).toThrow(/first argument is an object of config values/);
  });

  it("should reject a config that is not a zod object schema", () => {
    expect(() =>
      // @ts-expect-error a config spec must be an object schema
      source(() => [], { name: "bad", config: z.string() }),
    ).toThrow(/must be a zod object schema/);
  });
});

describe("resource({ config }) and transformer({ config })", () => {
  const spec = z.object({ apiUrl: z.string(), apiKey: secret(z.string()) });

  it("should resolve a standalone resource's config under sources.<name> when extract calls it", async () => {
    let calls = 0;
    const users = resource(
      function* users({ apiUrl, apiKey }) {
        calls += 1;
        yield { id: 1, url: apiUrl, key: apiKey.slice(0, 3) };
      },
      { config: spec, primaryKey: "id" },
    );
    expect(users.config?.sections).toEqual(["sources", "users"]);
    expect(calls).toBe(0);
    // Nothing is resolved when the resource is declared, so a missing value fails only when it runs.
    const failure = await pagesOf(users).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toContain(
      "Resource `users` failed while it was extracted: [tsdlt] [config] Missing 2 field(s) in configuration `users`: `apiUrl`, `apiKey`",
    );
    expect(failure?.message).toContain("(Environment Variables, SOURCES__USERS__API_URL)");
    expect(failure?.cause).toBeInstanceOf(ConfigFieldMissingError);
    setEnv({ SOURCES__USERS__API_URL: "https://api.example.com", SOURCES__API_KEY: "key-123456" });
    expect(await pagesOf(users)).toEqual([{ id: 1, url: "https://api.example.com", key: "key" }]);
    // bind() gives values in code; they win over providers.
    expect(await pagesOf(users.bind({ apiUrl: "https://override" }))).toEqual([
      { id: 1, url: "https://override", key: "key" },
    ]);
  });

  it("should take the section of the source that creates it, and its name after withName", async () => {
    writeProject(
      "config.toml",
      '[sources.crm]\napi_url = "https://crm"\n[sources.crm.contacts]\napi_url = "https://contacts"\n',
    );
    writeProject("secrets.toml", '[sources.crm]\napi_key = "crm-secret-1"\n');
    const crm = source(
      function crm_source() {
        return [
          resource(
            function* contacts({ apiUrl }) {
              yield { id: 1, url: apiUrl };
            },
            { config: spec },
          ),
          resource(
            function* deals({ apiUrl }) {
              yield { id: 2, url: apiUrl };
            },
            { config: spec },
          ),
        ];
      },
      { section: "crm" },
    );
    const src = crm();
    expect(src.resources.contacts?.config?.sections).toEqual(["sources", "crm", "contacts"]);
    expect(await rowsOf(src, "contacts")).toEqual([{ id: 1, url: "https://contacts" }]);
    expect(await rowsOf(crm(), "deals")).toEqual([{ id: 2, url: "https://crm" }]);
    const renamed = src.resource("deals").withName("contacts_copy");
    expect(renamed.config?.sections).toEqual(["sources", "crm", "contacts_copy"]);
  });

  it("should inject a transformer's config as its second argument, resolving it once per run", async () => {
    // A vault-like provider holding the values, counting how often the URL is read.
    let urlReads = 0;
    const vault: ConfigProvider = {
      name: "test vault",
      supportsSecrets: true,
      supportsSections: true,
      isEmpty: false,
      locations: { loaded: [], notFound: [] },
      keyOf: (path) => path.join("."),
      lookup: (path) => {
        const key = path.join(".");
        if (key === "sources.enrich.api_url") urlReads += 1;
        const values: Record<string, string> = {
          "sources.enrich.api_url": "https://enrich",
          "sources.enrich.api_key": "enrich-key-1",
        };
        return { key, value: values[key] };
      },
    };
    const unregister = registerConfigProvider(vault);
    try {
      const parent = resource([{ id: 1 }, { id: 2 }, { id: 3 }], { name: "ids" });
      const enrich = transformer(
        async (item: { id: number }, { apiUrl }, suffix = "") => ({
          id: item.id,
          url: `${apiUrl}/${item.id}${suffix}`,
        }),
        { name: "enrich", dataFrom: parent, config: spec },
      );
      expect(await pagesOf(enrich)).toEqual([
        { id: 1, url: "https://enrich/1" },
        { id: 2, url: "https://enrich/2" },
        { id: 3, url: "https://enrich/3" },
      ]);
      expect(urlReads).toBe(1);
      expect(await pagesOf(enrich.bind({ apiUrl: "https://bound" }, "?x"))).toEqual([
        { id: 1, url: "https://bound/1?x" },
        { id: 2, url: "https://bound/2?x" },
        { id: 3, url: "https://bound/3?x" },
      ]);
      expect(urlReads).toBe(1);
    } finally {
      unregister();
    }
  });

  it("should refuse a config on data that is not a function", () => {
    expect(() => resource([{ id: 1 }] as unknown as () => unknown, { name: "rows", config: spec })).toThrow(
      /only resource and transformer functions receive config/,
    );
  });
});
