/** Runs built examples like a user would (`node dist/<example>.js` in a project folder) and reads their DuckDB files. */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

const EXAMPLES = resolve(import.meta.dirname, "..");

/** What a run printed and how it ended. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `dist/<script>` with `node` in `cwd`, without blocking this process (a local server must answer).
 * The environment is this process's minus config variables (`A__B`) and `DLT_*`, plus `env`.
 */
export function runExample(script: string, cwd: string, env: Record<string, string>): Promise<RunResult> {
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

/** Rows of `sql` on the DuckDB file `file`, through a connection of its own (closed afterwards). */
export async function query(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
