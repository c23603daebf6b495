/**
 * Smoke test of the benchmark harness (`tooling/bench`, `pnpm bench`): runs every case with tiny row
 * counts against the built packages and checks the JSON lines. Never asserts timings.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNNER = join(REPO, "tooling", "bench", "run.mjs");
const run = promisify(execFile);

/** Every case, in the runner's order. */
const CASE_NAMES = [
  "duckdb-1m",
  "duckdb-limit-1m",
  "duckdb-10m",
  "merge-1m",
  "postgres-1m",
  "rest-4x50",
  "dlt-python-1m",
];
/** Cases that must produce figures today (the others may be skipped or report an error). */
const MUST_MEASURE = ["duckdb-1m", "duckdb-limit-1m", "duckdb-10m"];
/** Cases that run a tsdlt pipeline and report its step timings. */
const PIPELINE_CASES = ["duckdb-1m", "duckdb-10m"];

type BenchLine = Record<string, unknown> & { name: string; rows: number };

function parseLines(stdout: string): BenchLine[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as BenchLine);
}

interface IssueRowModule {
  issueRow(i: number): Record<string, unknown>;
  issuePages(count: number, options?: { pageSize?: number }): AsyncGenerator<Record<string, unknown>[]>;
}

async function generator(): Promise<IssueRowModule> {
  const url = pathToFileURL(join(REPO, "tooling", "bench", "generate.mjs")).href;
  return (await import(url)) as IssueRowModule;
}

describe("bench generator", () => {
  it("makes the same GitHub-issue-like row for the same index", async () => {
    const { issueRow } = await generator();
    const row = issueRow(41);
    expect(issueRow(41)).toEqual(row);
    expect(issueRow(42)).not.toEqual(row);
    expect(row).toMatchObject({ id: 42, number: 42 });
    const scalars = Object.entries(row).filter(([, v]) => v === null || typeof v !== "object");
    expect(scalars.length).toBeGreaterThanOrEqual(12);
    for (const key of ["created_at", "updated_at"]) {
      expect(row[key]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(new Date(row[key] as string).toISOString()).toBe(`${(row[key] as string).slice(0, 19)}.000Z`);
    }
    expect(row.user).toEqual(expect.objectContaining({ login: expect.any(String), id: expect.any(Number) }));
    expect(row.labels).toHaveLength(2);
    expect((row.body as string).length).toBeGreaterThanOrEqual(190);
    expect((row.body as string).length).toBeLessThanOrEqual(210);
  });

  it("yields pages of the requested size, covering every row once", async () => {
    const { issuePages } = await generator();
    const sizes: number[] = [];
    const ids: unknown[] = [];
    for await (const page of issuePages(2500, { pageSize: 1000 })) {
      sizes.push(page.length);
      ids.push(...page.map((row) => row.id));
    }
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it("has a Python port (for the dlt-python-1m case) that makes byte-identical rows", async () => {
    const { issueRow } = await generator();
    const script = join(REPO, "tooling", "bench", "dlt_python.py");
    const { stdout } = await run("python3", [script, "--dump", "5000"], { maxBuffer: 64 * 1024 * 1024 });
    const expected = Array.from({ length: 5000 }, (_, i) => `${JSON.stringify(issueRow(i))}\n`).join("");
    expect(stdout.length).toBe(expected.length);
    expect(stdout === expected, "python rows differ from generate.mjs rows").toBe(true);
  });
});

describe("pnpm bench (tooling/bench/run.mjs)", () => {
  it("prints one valid JSON line per case with tiny row counts", { timeout: 60_000 }, async () => {
    expect(
      existsSync(join(REPO, "packages", "tsdlt", "dist", "index.js")),
      "the bench runs against built packages: run `pnpm build` first",
    ).toBe(true);
    const { stdout } = await run(process.execPath, [RUNNER, "--rows", "2000", "--full"], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
    const lines = parseLines(stdout);
    expect(lines.map((l) => l.name)).toEqual(CASE_NAMES);
    for (const line of lines) {
      expect(Number.isInteger(line.rows) && line.rows > 0, `${line.name}: rows`).toBe(true);
      const outcomes = ["seconds", "skipped", "error"].filter((key) => key in line);
      expect(outcomes, `${line.name}: exactly one of seconds / skipped / error`).toHaveLength(1);
      if ("seconds" in line) {
        for (const field of ["seconds", "rowsPerSec", "peakRssMb", "cpuSeconds"]) {
          expect(typeof line[field], `${line.name}.${field}`).toBe("number");
          expect(line[field] as number, `${line.name}.${field}`).toBeGreaterThanOrEqual(0);
        }
      } else {
        expect(typeof (line.skipped ?? line.error), `${line.name}: reason`).toBe("string");
      }
    }
    const byName = new Map(lines.map((l) => [l.name, l]));
    for (const name of MUST_MEASURE) {
      expect(byName.get(name), `${name} must be measured`).toHaveProperty("seconds");
    }
    for (const name of PIPELINE_CASES) {
      expect(Object.keys(byName.get(name)?.stages as object)).toEqual(
        expect.arrayContaining(["extract", "normalize", "load"]),
      );
    }
    expect(byName.get("duckdb-1m")?.rows).toBe(2000);
    expect(byName.get("duckdb-10m")?.rows).toBe(20_000);
  });

  it("with --repeat, runs the cases round after round and prints one line per case: the median run, the highest peak", async () => {
    const env = { ...process.env, TSDLT_BENCH_DLT_PYTHON: "" };
    const { stdout, stderr } = await run(
      process.execPath,
      [RUNNER, "--case", "duckdb-limit-1m,dlt-python-1m", "--rows", "2000", "--repeat", "3"],
      { cwd: REPO, env },
    );
    const lines = parseLines(stdout);
    expect(lines.map((l) => l.name)).toEqual(["duckdb-limit-1m", "dlt-python-1m"]);
    const [limit, python] = lines as [BenchLine, BenchLine];
    const seconds = limit.secondsAll as number[];
    const peaks = limit.peakRssMbAll as number[];
    expect(limit.runs).toBe(3);
    expect(seconds).toHaveLength(3);
    expect(limit.seconds).toBe([...seconds].sort((a, b) => a - b)[1]);
    expect(limit.peakRssMb).toBe(Math.max(...peaks));
    // a case that cannot run says why, once
    expect(python).toMatchObject({ runs: 3, skipped: expect.any(String) });
    // round after round: the ceiling runs between the runs of the other case
    expect(stderr.match(/\[bench\] [\w-]+:.*\(run \d of 3\)/g)?.map((l) => l.replace(/:.*\(/, " ("))).toEqual(
      [
        "[bench] duckdb-limit-1m (run 1 of 3)",
        "[bench] dlt-python-1m (run 1 of 3)",
        "[bench] duckdb-limit-1m (run 2 of 3)",
        "[bench] dlt-python-1m (run 2 of 3)",
        "[bench] duckdb-limit-1m (run 3 of 3)",
        "[bench] dlt-python-1m (run 3 of 3)",
      ],
    );
    await expect(run(process.execPath, [RUNNER, "--repeat", "0"], { cwd: REPO })).rejects.toMatchObject({
      code: 2,
    });
  }, 60_000);

  it("runs only the case asked for, and rejects unknown cases and bad row counts", async () => {
    const { stdout } = await run(process.execPath, [RUNNER, "--case", "postgres-1m", "--rows", "10"], {
      cwd: REPO,
    });
    expect(parseLines(stdout).map((l) => l.name)).toEqual(["postgres-1m"]);
    await expect(run(process.execPath, [RUNNER, "--case", "nope"], { cwd: REPO })).rejects.toMatchObject({
      code: 2,
    });
    await expect(run(process.execPath, [RUNNER, "--rows", "0"], { cwd: REPO })).rejects.toMatchObject({
      code: 2,
    });
  });
});
