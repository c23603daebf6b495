import { type ChildProcess, type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import * as dlt from "tsdlt";

/** The built binary (`pnpm build` / `tsc -b` first). */
export const bin: string = resolve(import.meta.dirname, "../dist/bin.js");

/** Runs the built binary; stdin is not a terminal. */
export function tsdlt(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): { code: number | null; out: string; err: string } {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    input: options.input ?? "",
    timeout: 120_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** A pipeline in `root/pipelines` loading into `root/<name>.duckdb`, dataset `mydata`. */
export function makePipeline(root: string, name: string): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`) }),
    datasetName: "mydata",
  });
}

/** Users with nested tags (→ `users__tags`). */
export const USERS: readonly Record<string, unknown>[] = [
  { id: 1, name: "Alice", tags: ["a", "b"] },
  { id: 2, name: "Bob", tags: [] },
  { id: 3, name: "Carol", tags: ["c"] },
];

/** A running `tsdlt pipeline <name> show` process. */
export interface ShowProcess {
  readonly url: string;
  /** Sends SIGTERM and resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the built binary's data browser (in `cwd`, with `env` when given) and waits for the URL it prints. */
export function startShow(
  pipelinesDir: string,
  name: string,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ShowProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, "pipeline", name, "show", "--pipelines-dir", pipelinesDir],
    {
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
    },
  );
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return new Promise((done, fail) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      fail(new Error(`show did not print its URL in time: ${out} ${err}`));
    }, 30_000);
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const url = /running at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        done({
          url,
          stop: async () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`show exited with ${code}: ${out} ${err}`));
    });
  });
}
