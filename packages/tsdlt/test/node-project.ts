/**
 * Test support for scenarios that must run in a plain Node process rather than the vitest worker:
 * the vitest config resolves packages with the `import` condition, under which `pg`'s CommonJS
 * `require("pg-pool")` loads the ES build and fails, so anything touching Postgres runs as
 * `node <script>.mjs` in a project folder whose `node_modules` links the built workspace packages.
 */
import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The repository root. */
export const REPO: string = resolve(import.meta.dirname, "../../..");

/** Packages a project can link, by package name. */
export const WORKSPACE_PACKAGES: Readonly<Record<string, string>> = {
  tsdlt: join(REPO, "packages/tsdlt"),
  "@tsdlt/core": join(REPO, "packages/core"),
  "@tsdlt/destination-postgres": join(REPO, "packages/destination-postgres"),
};

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

/** The value a script printed with `result(...)`; fails with its output when it printed none. */
export function resultOf<T>(run: NodeRun): T {
  const line = run.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (line === undefined)
    throw new Error(`the script printed no result (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(line.slice("RESULT ".length)) as T;
}
