/**
 * Test support for scenarios that run as a user's script would: `node <script>.mjs` in a plain Node
 * process, in a project folder whose `node_modules` links the built workspace packages. That is why
 * they run as child processes rather than in the vitest worker: package names resolve from the
 * project to the packages' `dist/` (build first: `npx tsc -b`) as after `npm install`, and config
 * comes only from the environment and files the test gives the script, where a vitest worker loads
 * the TypeScript sources (the `@tsdlt/source` condition of `tooling/vitest.shared.ts`) with the test
 * runner's environment.
 *
 * Scripts print their result with `result(value)` ({@link RESULT_FUNCTION}, also in
 * {@link SCRIPT_HELPERS}) and the test reads it with {@link resultOf}.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { expect } from "vitest";

/** The repository root. */
export const REPO: string = resolve(import.meta.dirname, "../../..");

/** Packages a project can link, by package name. */
export const WORKSPACE_PACKAGES: Readonly<Record<string, string>> = {
  tsdlt: join(REPO, "packages/tsdlt"),
  "@tsdlt/core": join(REPO, "packages/core"),
  "@tsdlt/destination-postgres": join(REPO, "packages/destination-postgres"),
  "@tsdlt/destination-filesystem": join(REPO, "packages/destination-filesystem"),
  "@tsdlt/rest-client": join(REPO, "packages/rest-client"),
};

/**
 * The Postgres server of the integration tests (`TSDLT_POSTGRES_URL`; `.ci/run` starts one), or
 * `undefined`: the suites that need it are skipped.
 */
export const POSTGRES_URL: string | undefined = process.env.TSDLT_POSTGRES_URL;

/** The environment that gives a script's `destination: "postgres"` the server of {@link POSTGRES_URL}. */
export const POSTGRES_ENV: Readonly<Record<string, string>> = {
  DESTINATION__POSTGRES__CREDENTIALS: POSTGRES_URL ?? "",
};

/** `title` for a suite that needs {@link POSTGRES_URL}, saying how to run it when it is not set. */
export function postgresTitle(title: string): string {
  return POSTGRES_URL
    ? title
    : `${title} (skipped: set TSDLT_POSTGRES_URL=postgresql://user:password@host:port/db; .ci/run starts one)`;
}

/** Fails, naming what is missing, unless every file in `files` (built outputs) exists. */
export function assertBuilt(files: readonly string[]): void {
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0)
    throw new Error(`Build the packages first (\`npx tsc -b\`); missing: ${missing.join(", ")}`);
}

/** What a finished `node` process left behind. */
export interface NodeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Creates `dir` as an ES module project linking `packages` (names of {@link WORKSPACE_PACKAGES}) and
 * holding `files` (relative path → text).
 */
export function nodeProject(
  dir: string,
  packages: readonly string[],
  files: Readonly<Record<string, string>> = {},
): string {
  mkdirSync(join(dir, "node_modules", "@tsdlt"), { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "project", private: true, type: "module" }),
  );
  for (const name of packages) {
    const target = WORKSPACE_PACKAGES[name];
    if (target === undefined) throw new Error(`unknown workspace package ${name}`);
    symlinkSync(target, join(dir, "node_modules", name), "dir");
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/**
 * The environment of a child process: this process's environment without config variables (`X__Y`,
 * `DLT_*`) and `NODE_OPTIONS`, with `HOME` and `DLT_DATA_DIR` inside `home`, plus `env`.
 */
export function cleanEnv(home: string, env: Readonly<Record<string, string>> = {}): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.includes("__") && !key.startsWith("DLT_") && key !== "NODE_OPTIONS")
      clean[key] = value;
  }
  return { ...clean, HOME: join(home, "home"), DLT_DATA_DIR: join(home, "dlt-data"), ...env };
}

/** Runs `node <args…>` in `cwd` with `env` (see {@link cleanEnv}). */
export function runNode(
  cwd: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  options: { readonly timeoutMs?: number } = {},
): Promise<NodeRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs ?? 120_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Prints `value` as the script's result line (bigints as text). For scripts: `result(value)`. */
export const RESULT_FUNCTION = `export function result(value) {
  process.stdout.write("RESULT " + JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) + "\\n");
}`;

/**
 * The `helpers.mjs` of a project with scripts: `dlt` (the `tsdlt` package), a `silent` logger,
 * `result(value)` ({@link RESULT_FUNCTION}) and `drop(pipeline)`, which drops the pipeline's dataset
 * and its staging dataset through the pipeline's SQL client.
 */
export const SCRIPT_HELPERS = `
import * as dlt from "tsdlt";
export { dlt };
export const silent = { debug() {}, info() {}, warn() {}, error() {} };
${RESULT_FUNCTION}
export async function drop(pipeline) {
  const client = await pipeline.sqlClient();
  try {
    for (const name of [pipeline.datasetName, pipeline.datasetName + "_staging"]) {
      await client.query("DROP SCHEMA IF EXISTS " + JSON.stringify(name) + " CASCADE");
    }
  } finally {
    await client[Symbol.asyncDispose]();
  }
}
`;

/**
 * The value a script printed with `result(...)`; fails with its output when it printed none or
 * exited with an error.
 */
export function resultOf<T>(run: NodeRun): T {
  const line = run.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (run.code !== 0 || line === undefined)
    throw new Error(
      `the script failed or printed no result (exit ${run.code}):\n${run.stdout}\n${run.stderr}`,
    );
  return JSON.parse(line.slice("RESULT ".length)) as T;
}

/**
 * Writes `code` as the script `name` in the project `cwd` and runs it with `args`, in the
 * environment {@link cleanEnv} gives `cwd` plus `env`.
 */
export function runScript(
  cwd: string,
  name: string,
  code: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<NodeRun> {
  writeFileSync(join(cwd, name), code);
  return runNode(cwd, [name, ...args], cleanEnv(cwd, env));
}

/**
 * Drops `datasets` and their staging datasets from the server of {@link POSTGRES_URL}, by a script
 * in `cwd` (a project holding {@link SCRIPT_HELPERS} as `helpers.mjs`), which must print nothing to
 * stderr.
 */
export async function dropPostgresDatasets(cwd: string, ...datasets: string[]): Promise<void> {
  const code = `import { dlt, drop, silent } from "./helpers.mjs";
for (const name of process.argv.slice(2)) {
  await drop(dlt.pipeline({ pipelineName: "cleanup", destination: "postgres", datasetName: name, logger: silent }));
}`;
  const run = await runScript(cwd, "drop.mjs", code, datasets, POSTGRES_ENV);
  expect(run.stderr).toBe("");
}
