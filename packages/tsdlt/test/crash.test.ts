/**
 * Crash safety (issue 6): a child process running a pipeline is killed with SIGKILL at points spread
 * over extract, normalize and load; after each kill, running the same script again must end with
 * exactly the expected rows — none lost, none duplicated — for append and for merge.
 *
 * The script uses an incremental cursor, as production pipelines do: its state commits with the data
 * package, so a re-run extracts only what the killed run did not commit, and pending packages are
 * finished first. Loads commit a whole package in one DuckDB transaction (exactly-once).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROWS = 20_000;
const KILLS_PER_STEP = 8;
const STEPS = ["Extract", "Normalize", "Load"] as const;
type Step = (typeof STEPS)[number];

const entry = resolve(import.meta.dirname, "../dist/index.js");
let root: string;
let script: string;

const SCRIPT = `
import * as dlt from ${JSON.stringify(entry)};
const [dir, mode] = process.argv.slice(2);
const marker = { start: (step) => process.stdout.write("STEP " + step.split(" ")[0] + "\\n"), update() {}, stop() {} };
// says when run() normalized files while extracting (the "streamed" mode's pages arrive slowly)
const logger = { debug() {}, info(m) { if (m.includes("while extracting")) process.stdout.write("STREAMED\\n"); }, warn() {}, error() {} };
const p = dlt.pipeline({
  pipelineName: "crash",
  pipelinesDir: dir + "/pipelines",
  destination: dlt.destinations.duckdb({ credentials: dir + "/crash.duckdb" }),
  datasetName: "d",
  progress: marker,
  logger,
});
const rows = dlt.resource(
  async function* rows(cursor = dlt.sources.incremental("id", { initialValue: 0 })) {
    for (let start = 1; start <= ${ROWS}; start += 1000) {
      if (mode === "streamed") await new Promise((resolve) => setTimeout(resolve, 40));
      yield Array.from({ length: 1000 }, (_, i) => ({ id: start + i, title: "issue " + (start + i), body: "x".repeat(120), labels: [{ name: "a" }, { name: "b" }] }));
    }
  },
  mode === "merge" ? { writeDisposition: "merge", primaryKey: "id" } : { writeDisposition: "append" },
);
await p.run(rows);
process.stdout.write("DONE\\n");
`;

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** Milliseconds after spawn at which each step marker arrived. */
  readonly markers: Partial<Record<Step | "DONE" | "STREAMED", number>>;
}

/** Runs the script; with `killAt`, SIGKILLs it `delayMs` after the marker of `step` appeared. */
function runScript(dir: string, mode: string, killAt?: { step: Step; delayMs: number }): Promise<RunResult> {
  return new Promise((done) => {
    const started = performance.now();
    const child: ChildProcess = spawn(process.execPath, [script, dir, mode], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const markers: RunResult["markers"] = {};
    let stderr = "";
    let out = "";
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      for (const line of out.split("\n").slice(0, -1)) {
        const name = (line.startsWith("STEP ") ? line.slice(5) : line) as Step | "DONE" | "STREAMED";
        if (markers[name] !== undefined) continue;
        markers[name] = performance.now() - started;
        if (killAt && name === killAt.step) setTimeout(() => child.kill("SIGKILL"), killAt.delayMs);
      }
      out = out.slice(out.lastIndexOf("\n") + 1);
    });
    child.on("exit", (code, signal) => done({ code, signal, stderr, markers }));
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

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-crash-"));
  script = join(root, "crash-script.mjs");
  writeFileSync(script, SCRIPT);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe.concurrent("a pipeline killed with SIGKILL and run again", () => {
  // "streamed": append from slow pages, so that run() normalizes files while it extracts
  for (const mode of ["append", "merge", "streamed"] as const) {
    it(`should end with exactly the expected rows (${mode}, ${STEPS.length * KILLS_PER_STEP} kill points)`, async () => {
      // calibrate: how long each step takes on this machine
      const calibration = await runScript(join(root, `${mode}-calibration`), mode);
      expect(calibration.stderr).toBe("");
      expect(calibration.code).toBe(0);
      expect(calibration.markers.STREAMED !== undefined, "normalized while extracting").toBe(
        mode === "streamed",
      );
      const at = calibration.markers;
      const duration: Record<Step, number> = {
        Extract: (at.Normalize ?? 0) - (at.Extract ?? 0),
        Normalize: (at.Load ?? 0) - (at.Normalize ?? 0),
        Load: (at.DONE ?? 0) - (at.Load ?? 0),
      };

      const killedIn: Record<string, number> = {};
      let point = 0;
      for (const step of STEPS) {
        for (let k = 1; k <= KILLS_PER_STEP; k++) {
          const dir = join(root, `${mode}-${point++}`);
          // spread over the step's calibrated window (the load window shrinks first on a busy machine)
          const window = step === "Load" ? 0.9 * duration[step] : duration[step];
          const delayMs = Math.floor((window * k) / (KILLS_PER_STEP + 1));
          const killed = await runScript(dir, mode, { step, delayMs });
          const outcome = killed.signal === "SIGKILL" ? step : "finished before the kill";
          killedIn[outcome] = (killedIn[outcome] ?? 0) + 1;

          const rerun = await runScript(dir, mode);
          expect(rerun.stderr, `re-run after a kill ${delayMs} ms into ${step}`).toBe("");
          expect(rerun.code).toBe(0);

          const file = join(dir, "crash.duckdb");
          const [counts] = await query(
            file,
            "SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, min(id)::INT AS lo, max(id)::INT AS hi FROM d.rows",
          );
          expect(counts, `rows after a kill ${delayMs} ms into ${step}`).toEqual({
            n: ROWS,
            ids: ROWS,
            lo: 1,
            hi: ROWS,
          });
          const [labels] = await query(file, "SELECT count(*)::INT AS n FROM d.rows__labels");
          expect(labels?.n).toBe(2 * ROWS);
          // every row belongs to a completed load: nothing half-loaded is visible
          const [orphans] = await query(
            file,
            "SELECT count(*)::INT AS n FROM d.rows r WHERE NOT EXISTS (SELECT 1 FROM d._dlt_loads l WHERE l.load_id = r._dlt_load_id)",
          );
          expect(orphans?.n).toBe(0);
          rmSync(dir, { recursive: true, force: true });
        }
      }
      // the kills really landed: at least two thirds in all (the steps are short and a busy machine
      // moves their windows; a kill after the run finished proves nothing), and several in every step
      const kills = STEPS.reduce((n, step) => n + (killedIn[step] ?? 0), 0);
      expect(kills, JSON.stringify(killedIn)).toBeGreaterThanOrEqual(16);
      for (const step of STEPS)
        expect(killedIn[step] ?? 0, JSON.stringify(killedIn)).toBeGreaterThanOrEqual(3);
    }, 600_000);
  }
});
