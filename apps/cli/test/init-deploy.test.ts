import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tsdlt } from "./helpers.js";

const repo = resolve(import.meta.dirname, "../../..");
const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");

let root: string;
let server: Server | undefined;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-init-"));
});
afterEach(async () => {
  if (server) await new Promise((done) => server?.close(done));
  server = undefined;
  rmSync(root, { recursive: true, force: true });
});

/**
 * Installs the workspace's `tsdlt` under its published name (a link to the built package, as a
 * registry install would place it) plus `@types/node`, then type-checks and builds the project with
 * the project's own tsconfig, which knows nothing of the workspace.
 */
function installAndBuild(project: string): void {
  mkdirSync(join(project, "node_modules", "@types"), { recursive: true });
  symlinkSync(join(repo, "packages", "tsdlt"), join(project, "node_modules", "tsdlt"), "dir");
  symlinkSync(
    join(repo, "node_modules", "@types", "node"),
    join(project, "node_modules", "@types", "node"),
    "dir",
  );
  const result = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  expect(result.stdout + result.stderr).toBe("");
  expect(result.status).toBe(0);
}

/** Serves `pages` (path+query → body, link) on the loopback interface; records request headers. */
async function serve(
  handler: (request: IncomingMessage, url: URL, base: string) => { body: unknown; link?: string },
): Promise<string> {
  let base = "";
  server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", base);
    const { body, link } = handler(request, url, base);
    response.writeHead(200, { "content-type": "application/json", ...(link ? { link } : {}) });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((done) => server?.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return base;
}

/** Runs a built script without blocking this process's event loop (the fixture server lives here). */
function runScript(
  project: string,
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [script], { cwd: project, env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => done({ code, out, err }));
  });
}

describe("tsdlt init", () => {
  it("should list its templates", () => {
    const { code, out } = tsdlt(["init", "--list-sources"]);
    expect(code).toBe(0);
    expect(out).toMatch(/^github: /m);
    expect(out).toMatch(/^rest_api: /m);
  });

  it("should scaffold the GitHub example, which type-checks against `tsdlt` and loads paged issues", async () => {
    const project = join(root, "gh");
    mkdirSync(project);
    const init = tsdlt(["init", "github", "duckdb"], { cwd: project });
    expect(init.err).toBe("");
    expect(init.code).toBe(0);
    expect(init.out).toContain("Your new pipeline github is ready to be customized!");
    expect(init.out).toContain("SOURCES__GITHUB__ACCESS_TOKEN, SOURCES__GITHUB__REPOSITORY");
    for (const f of ["github_pipeline.ts", "package.json", "tsconfig.json", ".gitignore", ".env.example"]) {
      expect(existsSync(join(project, f)), f).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).toEqual(["tsdlt"]);
    expect(manifest.scripts.start).toBe("tsc && node dist/github_pipeline.js");
    installAndBuild(project);

    const seen: string[] = [];
    const url = await serve((request, u, base) => {
      seen.push(`${request.headers.authorization} ${u.pathname}${u.search}`);
      const page = u.searchParams.get("page") ?? "1";
      if (page === "1") {
        return {
          body: [
            { id: 1, title: "first", labels: [{ name: "bug" }] },
            { id: 2, title: "second", labels: [] },
          ],
          link: `<${base}/repos/acme/widgets/issues?page=2>; rel="next"`,
        };
      }
      return { body: [{ id: 3, title: "third", labels: [{ name: "docs" }] }] };
    });
    const run = await runScript(project, "dist/github_pipeline.js", {
      SOURCES__GITHUB__BASE_URL: url,
      SOURCES__GITHUB__REPOSITORY: "acme/widgets",
      SOURCES__GITHUB__ACCESS_TOKEN: "test-token",
      DLT_DATA_DIR: join(root, "dlt"),
    });
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    expect(run.out).toContain(
      "1 load package(s) were loaded to destination duckdb and into dataset github_data",
    );
    expect(seen[0]).toMatch(/^Bearer test-token \/repos\/acme\/widgets\/issues\?per_page=100&state=all/);
    expect(seen).toHaveLength(2);
    const info = tsdlt([
      "pipeline",
      "github_pipeline",
      "info",
      "--pipelines-dir",
      join(root, "dlt", "pipelines"),
    ]);
    expect(info.out).toMatch(/ {2}issues: 3 row\(s\)/);
    expect(info.out).toMatch(/ {2}issues__labels: 2 row\(s\)/);
  });

  it("should scaffold the REST API starter under any source name, for another destination too", async () => {
    const project = join(root, "pokemon");
    mkdirSync(project);
    const init = tsdlt(["init", "pokemon", "duckdb"], { cwd: project });
    expect(init.code).toBe(0);
    const script = readFileSync(join(project, "pokemon_pipeline.ts"), "utf8");
    expect(script).toContain('pipelineName: "pokemon_pipeline"');
    expect(script).toContain("process.env.SOURCES__POKEMON__BASE_URL");
    installAndBuild(project);
    const url = await serve((_request, u, base) => {
      const offset = Number(u.searchParams.get("offset") ?? "0");
      const kind = u.pathname.split("/").at(-1) as string;
      const next = offset === 0 ? `${base}${u.pathname}?offset=2` : null;
      return {
        body: {
          results: [
            { name: `${kind}${offset}`, url: "x" },
            { name: `${kind}${offset + 1}`, url: "y" },
          ],
          next,
        },
      };
    });
    const run = await runScript(project, "dist/pokemon_pipeline.js", {
      SOURCES__POKEMON__BASE_URL: `${url}/api/v2/`,
      DLT_DATA_DIR: join(root, "dlt"),
    });
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    const info = tsdlt([
      "pipeline",
      "pokemon_pipeline",
      "info",
      "--pipelines-dir",
      join(root, "dlt", "pipelines"),
    ]);
    expect(info.out).toMatch(/ {2}pokemon: 4 row\(s\)/);
    expect(info.out).toMatch(/ {2}berry: 4 row\(s\)/);

    // postgres: the destination package joins the dependencies and its credentials the secrets
    const pg = join(root, "pg");
    mkdirSync(pg);
    const pgInit = tsdlt(["init", "rest_api", "postgres"], { cwd: pg });
    expect(pgInit.code).toBe(0);
    expect(pgInit.out).toContain("DESTINATION__POSTGRES__CREDENTIALS");
    const deps = (JSON.parse(readFileSync(join(pg, "package.json"), "utf8")) as { dependencies: object })
      .dependencies;
    expect(Object.keys(deps)).toEqual(["tsdlt", "@tsdlt/destination-postgres"]);
    expect(readFileSync(join(pg, "rest_api_pipeline.ts"), "utf8")).toContain(
      "credentials: process.env.DESTINATION__POSTGRES__CREDENTIALS,",
    );
  });

  it("should refuse to overwrite files without --yes and reject bad names", () => {
    const project = join(root, "again");
    mkdirSync(project);
    expect(tsdlt(["init", "github", "duckdb"], { cwd: project }).code).toBe(0);
    const again = tsdlt(["init", "github", "duckdb"], { cwd: project });
    expect(again.code).toBe(1);
    expect(again.err).toContain("already exist");
    expect(tsdlt(["init", "github", "duckdb", "--yes"], { cwd: project }).code).toBe(0);
    expect(tsdlt(["init", "bad-name", "duckdb"], { cwd: project }).code).toBe(2);
    const dest = tsdlt(["init", "github", "oracle"], { cwd: project });
    expect(dest.code).toBe(2);
    expect(dest.err).toContain(
      "Destination `oracle` is not known. Use one of: duckdb, postgres, filesystem.",
    );
  });
});

describe("tsdlt deploy <script> github-action", () => {
  it("should write a scheduled workflow with the script's secrets and print what to set", () => {
    const project = join(root, "repo", "pipelines");
    mkdirSync(project, { recursive: true });
    expect(spawnSync("git", ["init", "-q", join(root, "repo")]).status).toBe(0);
    writeFileSync(
      join(root, "repo", ".git", "config"),
      `${readFileSync(join(root, "repo", ".git", "config"), "utf8")}[remote "origin"]\n\turl = git@github.com:acme/data.git\n`,
    );
    expect(tsdlt(["init", "github", "postgres"], { cwd: project }).code).toBe(0);
    mkdirSync(join(project, ".dlt"));
    writeFileSync(join(project, ".dlt", "secrets.toml"), '[sources.github]\nextra_key = "s3cret-value"\n');

    const { code, out, err } = tsdlt(
      ["deploy", "github_pipeline.ts", "github-action", "--schedule", "*/30 * * * *"],
      {
        cwd: project,
      },
    );
    expect(err).toBe("");
    expect(code).toBe(0);
    const file = join(root, "repo", ".github", "workflows", "run_github_pipeline.yml");
    const workflow = parse(readFileSync(file, "utf8")) as {
      on: { schedule: { cron: string }[]; workflow_dispatch: null };
      env: Record<string, string>;
      jobs: { run_pipeline: { steps: { run?: string; uses?: string; "working-directory"?: string }[] } };
    };
    expect(workflow.on.schedule).toEqual([{ cron: "*/30 * * * *" }]);
    expect("workflow_dispatch" in workflow.on).toBe(true);
    const secretNames = [
      "DESTINATION__POSTGRES__CREDENTIALS",
      "SOURCES__GITHUB__ACCESS_TOKEN",
      "SOURCES__GITHUB__BASE_URL",
      "SOURCES__GITHUB__EXTRA_KEY",
      "SOURCES__GITHUB__REPOSITORY",
    ];
    expect(workflow.env).toEqual(Object.fromEntries(secretNames.map((n) => [n, `\${{ secrets.${n} }}`])));
    const steps = workflow.jobs.run_pipeline.steps;
    expect(steps.map((s) => s.run ?? s.uses)).toEqual([
      "actions/checkout@v4",
      "actions/setup-node@v4",
      "npm install",
      "npx tsc",
      "node dist/github_pipeline.js",
    ]);
    expect(steps[4]?.["working-directory"]).toBe("pipelines");
    expect(out).toContain(
      "Your github-action deployment for pipeline github_pipeline in script github_pipeline.ts is ready!",
    );
    expect(out).toContain(
      "* A github workflow file run_github_pipeline.yml was created in .github/workflows.",
    );
    expect(out).toMatch(/^SOURCES__GITHUB__ACCESS_TOKEN$/m);
    expect(out).toMatch(/^SOURCES__GITHUB__EXTRA_KEY$/m);
    expect(out).toContain("in https://github.com/acme/data/settings/secrets/actions");
    expect(out).toContain("git add .github/workflows/run_github_pipeline.yml pipelines/github_pipeline.ts");
    expect(out).not.toContain("s3cret-value");
  });

  it("should reject a bad schedule, an unknown method, a missing script and a folder outside git", () => {
    const project = join(root, "nogit");
    mkdirSync(project);
    writeFileSync(join(project, "p.js"), "console.log(1)\n");
    const bad = tsdlt(["deploy", "p.js", "github-action", "--schedule", "every hour"], { cwd: project });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("is not a valid cron expression");
    expect(tsdlt(["deploy", "p.js", "airflow", "--schedule", "0 * * * *"], { cwd: project }).code).toBe(2);
    expect(
      tsdlt(["deploy", "missing.js", "github-action", "--schedule", "0 * * * *"], { cwd: project }).code,
    ).toBe(1);
    const nogit = tsdlt(["deploy", "p.js", "github-action", "--schedule", "0 * * * *"], { cwd: project });
    expect(nogit.code).toBe(1);
    expect(nogit.err).toContain("is not in a git repository");
  });
});
