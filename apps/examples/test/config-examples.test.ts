/**
 * Runs the tutorial's "Handle secrets" and "Configurable sources" examples like a user would: `node`
 * in a project folder with a `.dlt/` folder (copied from `apps/examples/.dlt`), against a local
 * GitHub-like server that insists on the token. Then greps everything the run wrote for the token.
 */
import { spawn } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const EXAMPLES = resolve(import.meta.dirname, "..");
const TOKEN = "ghp_TestToken0123456789SECRET";

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A GitHub-like API: two pages of issues, comments and clones, each requiring `Bearer <token>`. */
class FakeGithub {
  readonly requests: { path: string; authorization: string | undefined }[] = [];
  token = TOKEN;
  #server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((done) => this.#server?.listen(0, "127.0.0.1", done));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => this.#server?.close(() => done()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push({ path: url.pathname + url.search, authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Requires authentication" }));
      return;
    }
    const match = /^\/repos\/([^/]+\/[^/]+)\/(issues|comments|traffic\/clones)$/.exec(url.pathname);
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const [, repo, endpoint] = match;
    let body: unknown;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (endpoint === "issues") {
      const page = url.searchParams.get("page") ?? "1";
      body =
        page === "1"
          ? [
              { id: 1, title: `first issue of ${repo}`, user: { login: "ann" } },
              { id: 2, title: "second", user: { login: "bob" } },
            ]
          : [{ id: 3, title: "third", user: { login: "ann" } }];
      if (page === "1") {
        headers.link = `<${this.url}${url.pathname}?per_page=100&page=2>; rel="next", <${this.url}${url.pathname}?per_page=100&page=2>; rel="last"`;
      }
    } else if (endpoint === "comments") {
      body = [
        { id: 10, body: "hi" },
        { id: 11, body: "there" },
      ];
    } else {
      body = { count: 7, uniques: 3, clones: [{ timestamp: "2024-01-01T00:00:00Z", count: 7, uniques: 3 }] };
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify(body));
  }
}

/** Runs a built example with `node` in `cwd`, without blocking this process (the server must answer). */
function runExample(script: string, cwd: string, env: Record<string, string>): Promise<RunResult> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.includes("__") && !key.startsWith("DLT_")) clean[key] = value;
  }
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(EXAMPLES, "dist", script)], {
      cwd,
      env: { ...clean, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

async function query(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

describe("config examples (tutorial: handle secrets, configurable sources)", () => {
  const github = new FakeGithub();
  let root: string;
  let project: string;
  let home: string;
  let dataDir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-config-examples-"));
    project = join(root, "project");
    home = join(root, "home");
    dataDir = join(root, "dlt-data");
    mkdirSync(project, { recursive: true });
    mkdirSync(home, { recursive: true });
    cpSync(join(EXAMPLES, ".dlt"), join(project, ".dlt"), { recursive: true });
    // The user's step: put a real token in place of the placeholder.
    const secrets = readFileSync(join(project, ".dlt", "secrets.toml"), "utf8").replace("ghp_XXXXX", TOKEN);
    writeFileSync(join(project, ".dlt", "secrets.toml"), secrets);
    github.requests.length = 0;
    github.token = TOKEN;
    await github.start();
    env = { HOME: home, DLT_DATA_DIR: dataDir, SOURCES__GITHUB__BASE_URL: github.url };
  });

  afterEach(async () => {
    await github.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("should load with the token from .dlt/secrets.toml and never write the token anywhere", async () => {
    const result = await runExample("secrets.js", project, env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[1]).toBe("1 load package(s) were loaded to destination duckdb and into dataset github_data");
    // Extract pulls the resources side by side (dlt's round_robin `next_item_mode`, issue 12): every
    // resource's pages come in order, and the resources' requests interleave.
    const paths = github.requests.map((r) => r.path);
    expect([...paths].sort()).toEqual([
      "/repos/dlt-hub/dlt/comments?per_page=100",
      "/repos/dlt-hub/dlt/issues?per_page=100",
      "/repos/dlt-hub/dlt/issues?per_page=100&page=2",
      "/repos/dlt-hub/dlt/traffic/clones?per_page=100",
    ]);
    expect(paths.filter((p) => p.includes("/issues"))).toEqual([
      "/repos/dlt-hub/dlt/issues?per_page=100",
      "/repos/dlt-hub/dlt/issues?per_page=100&page=2",
    ]);
    expect(github.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);

    const db = join(project, "github_with_source_secrets.duckdb");
    const counts = await query(
      db,
      "SELECT (SELECT count(*) FROM github_data.issues)::INT AS issues, (SELECT count(*) FROM github_data.comments)::INT AS comments, (SELECT count(*) FROM github_data.traffic_clones)::INT AS clones",
    );
    expect(counts).toEqual([{ issues: 3, comments: 2, clones: 1 }]);

    // Issue 7: secrets never reach logs, traces, LoadInfo, state or data. Grep everything the run wrote.
    expect(result.stdout).not.toContain(TOKEN);
    const written = [
      ...filesUnder(dataDir),
      ...filesUnder(project).filter((f) => !f.endsWith("secrets.toml")),
    ];
    expect(written.some((f) => f.endsWith("trace.json"))).toBe(true);
    expect(written.some((f) => f.endsWith("state.json"))).toBe(true);
    for (const file of written) {
      expect(readFileSync(file).includes(TOKEN), `token found in ${file}`).toBe(false);
    }
  });

  it("should prefer the pipeline-prefixed env var, which beats the pipeline's section in secrets.toml", async () => {
    // Pipeline-prefixed keys are tried first across all providers (REFERENCE §8.2), so the
    // `[github_with_source_secrets]` table in secrets.toml beats the unprefixed SOURCES__GITHUB__ACCESS_TOKEN.
    const unprefixed = await runExample("secrets.js", project, {
      ...env,
      SOURCES__GITHUB__ACCESS_TOKEN: "ghp_UnprefixedLoses",
    });
    expect(unprefixed.code).toBe(0);
    expect(github.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`);

    github.requests.length = 0;
    github.token = "ghp_FromTheEnvironment42";
    const prefixed = await runExample("secrets.js", project, {
      ...env,
      GITHUB_WITH_SOURCE_SECRETS__SOURCES__GITHUB__ACCESS_TOKEN: "ghp_FromTheEnvironment42",
    });
    expect(prefixed.stderr).toBe("");
    expect(prefixed.code).toBe(0);
    expect(github.requests[0]?.authorization).toBe("Bearer ghp_FromTheEnvironment42");
  });

  it("should take SOURCES__GITHUB__ACCESS_TOKEN from the environment when no file has a token", async () => {
    rmSync(join(project, ".dlt", "secrets.toml"));
    const result = await runExample("secrets.js", project, { ...env, SOURCES__GITHUB__ACCESS_TOKEN: TOKEN });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(github.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(result.stdout).not.toContain(TOKEN);
  });

  it("should fail without a token, listing every key tried and the files read", async () => {
    rmSync(join(project, ".dlt", "secrets.toml"));
    const result = await runExample("secrets.js", project, env);
    expect(result.code).toBe(1);
    expect(github.requests).toEqual([]);
    const message = result.stderr;
    expect(message).toContain("Missing 1 field(s) in configuration `github_source`: `accessToken`");
    expect(message).toContain(
      "  (Environment Variables, GITHUB_WITH_SOURCE_SECRETS__SOURCES__GITHUB__GITHUB_SOURCE__ACCESS_TOKEN)",
    );
    expect(message).toContain("  (Environment Variables, SOURCES__GITHUB__ACCESS_TOKEN)");
    expect(message).toContain(`\t- ${join(project, ".dlt", "secrets.toml")}`);
    expect(message).toContain(`\t- ${join(dataDir, "secrets.toml")}`);
    expect(message).toContain(
      `set the environment variable \`SOURCES__GITHUB__ACCESS_TOKEN\`, or add \`access_token = ...\` under \`[sources.github]\` in ${join(project, ".dlt", "secrets.toml")}`,
    );
  });

  it("should refuse a token put in config.toml and say where it belongs", async () => {
    rmSync(join(project, ".dlt", "secrets.toml"));
    writeFileSync(
      join(project, ".dlt", "config.toml"),
      `[github_with_source_secrets]\nrepo_name = "dlt-hub/dlt"\naccess_token = "${TOKEN}"\n`,
    );
    const result = await runExample("configurable-source.js", project, env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "Secret `accessToken` was found in config.toml under `github_with_source_secrets.access_token`",
    );
    expect(result.stderr).toContain("Move it to");
    expect(result.stderr).not.toContain(TOKEN);
  });

  it("should load the repository named in config.toml and explain where each value came from", async () => {
    writeFileSync(
      join(project, ".dlt", "config.toml"),
      '[github_with_source_secrets]\nrepo_name = "acme/widgets"\n',
    );
    const result = await runExample("configurable-source.js", project, env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(github.requests[0]?.path).toBe("/repos/acme/widgets/issues?per_page=100");
    const out = result.stdout;
    expect(out).toContain("Configuration `github_source` (pipeline `github_with_source_secrets`):");
    expect(out).toContain(
      `  repoName    = "acme/widgets"  <- config.toml \`github_with_source_secrets.repo_name\` (${join(project, ".dlt", "config.toml")})`,
    );
    expect(out).toContain(
      `  accessToken = ***  <- secrets.toml \`github_with_source_secrets.access_token\` (${join(project, ".dlt", "secrets.toml")})`,
    );
    expect(out).toContain(
      `  baseUrl     = "${github.url}"  <- Environment Variables \`SOURCES__GITHUB__BASE_URL\``,
    );
    expect(out).toContain(
      "Keys are looked up at (each first prefixed with `github_with_source_secrets.`): `sources.github.github_source.<key>` → `sources.github.<key>` → `sources.github_source.<key>` → `sources.<key>` → `<key>`",
    );
    expect(out).not.toContain(TOKEN);
    const [row] = await query(
      join(project, "github_with_source_secrets.duckdb"),
      "SELECT title FROM github_data.issues WHERE id = 1",
    );
    expect(row?.title).toBe("first issue of acme/widgets");
  });

  it("should let the repository given in code win over config.toml (explicit arguments first)", async () => {
    writeFileSync(
      join(project, ".dlt", "config.toml"),
      '[github_with_source_secrets]\nrepo_name = "acme/widgets"\n',
    );
    const result = await runExample("secrets.js", project, env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(github.requests[0]?.path).toBe("/repos/dlt-hub/dlt/issues?per_page=100");
  });

  it("should read the token from the global ~/.dlt/secrets.toml when the project has none", async () => {
    const global = join(home, ".dlt");
    mkdirSync(global, { recursive: true });
    cpSync(join(project, ".dlt", "secrets.toml"), join(global, "secrets.toml"));
    rmSync(join(project, ".dlt", "secrets.toml"));
    const { DLT_DATA_DIR: _unused, ...withoutDataDir } = env;
    const result = await runExample("secrets.js", project, withoutDataDir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(github.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });
});
