/**
 * The benchmark cases, one entry each. A case's `run(ctx)` does its own untimed setup, times what it
 * measures, and returns `{ seconds, ...extra }` — or `{ skipped: reason }` when what it needs is not
 * there. It may throw; the child process turns that into an `error` line. Adding a case is adding an
 * entry to {@link CASES}.
 */
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { issuePages, issueRow, writeIssuesJsonl } from "./generate.mjs";
import { builtEntry, importBuilt, importTsdlt, REPO_ROOT, requireDuckDB } from "./project.mjs";

const execFileAsync = promisify(execFile);

/**
 * @typedef {object} CaseContext
 * @property {number} rows rows this case loads
 * @property {number} baseRows the `--rows` value (1,000,000 by default)
 * @property {string} dir a fresh temporary folder, deleted after the case
 * @property {(message: string) => void} log progress to stderr
 */
/**
 * @typedef {{ seconds: number, [extra: string]: unknown } | { skipped: string }} CaseResult
 */
/**
 * @typedef {object} BenchCase
 * @property {string} name
 * @property {string} description
 * @property {(baseRows: number) => number} rows rows for a given `--rows` value
 * @property {string} [optIn] set for cases that run only with `--full` or `--case <name>`: why
 * @property {(ctx: CaseContext) => Promise<CaseResult>} run
 */

/** Rows per page of the async generator (the issue's "pages of 1,000"). */
export const PAGE_SIZE = 1000;
const TABLE = "issues";

/**
 * A progress collector that records the process's peak RSS (high-water mark, MB) when each step
 * ends: the step whose figure jumps is the one that raised the peak.
 */
function rssCollector() {
  /** @type {Record<string, number>} */
  const peakRssMbAfter = {};
  let step = "";
  return {
    peakRssMbAfter,
    collector: {
      // the collector's step names read "Extract bench", "Normalize bench in <load id>", ...
      start: (/** @type {string} */ name) => {
        step = (name.split(" ")[0] ?? name).toLowerCase();
      },
      update: () => {},
      stop: () => {
        if (step) peakRssMbAfter[step] = round(process.resourceUsage().maxRSS / 1024, 1);
      },
    },
  };
}

/**
 * A tsdlt pipeline writing to a DuckDB file in `dir`.
 * @param {string} dir
 * @param {Record<string, unknown>} [destinationOverride] a destination object to use instead of DuckDB
 * @param {string} [datasetName]
 */
async function benchPipeline(dir, destinationOverride, datasetName = "bench_data") {
  const dlt = await importTsdlt();
  const destination =
    destinationOverride ?? dlt.destinations.duckdb({ credentials: join(dir, "bench.duckdb") });
  const { collector, peakRssMbAfter } = rssCollector();
  const pipeline = dlt.pipeline({
    pipelineName: "bench",
    pipelinesDir: join(dir, "pipelines"),
    destination,
    datasetName,
    progress: collector,
  });
  return { dlt, pipeline, peakRssMbAfter };
}

/**
 * Where a case's result keeps the wall-clock windows of the pipeline steps (`[{ step, startMs,
 * endMs }]`, epoch ms). A symbol key: the child uses it to label CPU profiles, and it never reaches
 * the JSON line.
 */
export const STEP_WINDOWS = Symbol("stepWindows");

/**
 * Seconds per pipeline step of the last run, from `pipeline.lastTrace.steps` (summed when a step ran
 * more than once, e.g. for pending packages), and the steps' windows.
 * @param {any} pipeline
 * @returns {{ stages: Record<string, number>, [STEP_WINDOWS]: { step: string, startMs: number, endMs: number }[] }}
 */
function stepTimes(pipeline) {
  /** @type {Record<string, number>} */
  const stages = {};
  const windows = [];
  for (const step of pipeline.lastTrace?.steps ?? []) {
    const startMs = Date.parse(step.startedAt);
    const endMs = Date.parse(step.finishedAt);
    stages[step.step] = round((stages[step.step] ?? 0) + (endMs - startMs) / 1000, 3);
    windows.push({ step: String(step.step), startMs, endMs });
  }
  return { stages, [STEP_WINDOWS]: windows };
}

/**
 * Row counts of `issues` and `issues__labels`.
 * @param {any} pipeline
 * @returns {Promise<{ issues: number, labels: number }>}
 */
async function tableCounts(pipeline) {
  const client = await pipeline.sqlClient();
  try {
    const count = async (/** @type {string} */ table) => {
      const [row] = await client.query(`SELECT count(*) AS n FROM ${client.qualifiedTableName(table)}`);
      return Number(row?.n);
    };
    return { issues: await count(TABLE), labels: await count(`${TABLE}__labels`) };
  } finally {
    await client[Symbol.asyncDispose]();
  }
}

/**
 * Fails unless the tables hold exactly `rows` issues and `2 × rows` labels.
 * @param {any} pipeline
 * @param {number} rows
 * @param {string} what
 */
async function expectCounts(pipeline, rows, what) {
  const counts = await tableCounts(pipeline);
  if (counts.issues !== rows || counts.labels !== 2 * rows) {
    throw new Error(
      `${what}: expected ${rows} issues and ${2 * rows} labels, found ${counts.issues} and ${counts.labels}`,
    );
  }
}

/**
 * Runs `work` and measures it: wall seconds and this process's CPU seconds (user + system, every
 * thread, so DuckDB's native threads count too; less sensitive than wall time to other load on the
 * machine).
 * @param {() => Promise<unknown>} work
 * @returns {Promise<{ seconds: number, cpuSeconds: number }>}
 */
async function timed(work) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: round((used.user + used.system) / 1e6, 3) };
}

/**
 * @param {number} value
 * @param {number} digits
 */
export function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Times one `pipeline.run()` of `rows` generated rows (async generator, pages of 1,000) into DuckDB.
 * @param {CaseContext} ctx
 * @returns {Promise<CaseResult>}
 */
async function appendToDuckDB(ctx) {
  const { dlt, pipeline, peakRssMbAfter } = await benchPipeline(ctx.dir);
  const issues = dlt.resource(() => issuePages(ctx.rows, { pageSize: PAGE_SIZE }), {
    name: TABLE,
    writeDisposition: "append",
  });
  const time = await timed(() => pipeline.run(issues));
  await expectCounts(pipeline, ctx.rows, "after the load");
  return { ...time, ...stepTimes(pipeline), peakRssMbAfter };
}

/**
 * The ceiling: DuckDB's own `read_json` loading the same rows from one JSONL file. Only
 * `CREATE TABLE ... AS SELECT * FROM read_json(...)` and the `CHECKPOINT` that makes it durable in the
 * database file are timed (not writing the JSONL file, not opening the database). DuckDB keeps `user` and `labels` as STRUCT / LIST columns: no flattening and
 * no child table, so this is a ceiling, not an equivalent.
 * @param {CaseContext} ctx
 * @returns {Promise<CaseResult>}
 */
async function duckdbReadJson(ctx) {
  const file = join(ctx.dir, "issues.jsonl");
  const writeStarted = performance.now();
  await writeIssuesJsonl(file, ctx.rows);
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const { DuckDBInstance } = requireDuckDB();
  const instance = await DuckDBInstance.create(join(ctx.dir, "limit.duckdb"));
  const connection = await instance.connect();
  try {
    const time = await timed(async () => {
      await connection.run(
        `CREATE TABLE ${TABLE} AS SELECT * FROM read_json('${file.replaceAll("'", "''")}', format = 'newline_delimited')`,
      );
      // the pipeline pays for the checkpoint when it closes the database; so does the ceiling
      await connection.run("CHECKPOINT");
    });
    const reader = await connection.runAndReadAll(`SELECT count(*) AS n FROM ${TABLE}`);
    const count = Number(reader.getRows()[0]?.[0]);
    if (count !== ctx.rows) throw new Error(`read_json loaded ${count} rows, expected ${ctx.rows}`);
    return {
      ...time,
      timed: "CREATE TABLE AS SELECT * FROM read_json(<jsonl>); CHECKPOINT",
      jsonlMb: round((await stat(file)).size / 2 ** 20, 1),
      jsonlWriteSeconds: round(writeSeconds, 3),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Merges the rows into an empty table once (untimed), then times merging the same rows again
 * (delete-insert on primary key `id`) and checks that the tables still hold each row once. (The first
 * load must be a merge too: rows appended earlier have no `_dlt_root_id` in `issues__labels`, so
 * delete-insert could not replace them.)
 * @param {CaseContext} ctx
 * @returns {Promise<CaseResult>}
 */
async function mergeIntoDuckDB(ctx) {
  const { dlt, pipeline, peakRssMbAfter } = await benchPipeline(ctx.dir);
  const issues = () =>
    dlt.resource(() => issuePages(ctx.rows, { pageSize: PAGE_SIZE }), {
      name: TABLE,
      writeDisposition: "merge",
      primaryKey: "id",
    });
  ctx.log(`loading ${ctx.rows} rows to merge into (untimed)`);
  await pipeline.run(issues());
  await expectCounts(pipeline, ctx.rows, "after the initial load");
  const time = await timed(() => pipeline.run(issues()));
  const counts = await tableCounts(pipeline);
  if (counts.issues !== ctx.rows || counts.labels !== 2 * ctx.rows) {
    throw new Error(
      `merge is not available: after merging ${ctx.rows} rows into a table holding them, it holds ` +
        `${counts.issues} issues and ${counts.labels} labels (expected ${ctx.rows} and ${2 * ctx.rows}); ` +
        `the run took ${round(time.seconds, 3)} s`,
    );
  }
  return { ...time, ...stepTimes(pipeline), peakRssMbAfter };
}

/**
 * 1M rows into Postgres through `@tsdlt/destination-postgres`, into a dataset of its own (dropped
 * afterwards), so runs against one database do not add up.
 * @param {CaseContext} ctx
 * @returns {Promise<CaseResult>}
 */
async function appendToPostgres(ctx) {
  if (!builtEntry("packages/destination-postgres")) {
    return { skipped: "no Postgres destination yet: packages/destination-postgres is not built (issue 9)" };
  }
  const url = process.env.TSDLT_BENCH_POSTGRES_URL ?? process.env.TSDLT_POSTGRES_URL;
  if (!url) {
    return {
      skipped:
        "set TSDLT_BENCH_POSTGRES_URL (or TSDLT_POSTGRES_URL)=postgresql://user:password@host/db to run",
    };
  }
  const mod = await importBuilt("packages/destination-postgres");
  if (typeof mod.postgres !== "function") {
    return { skipped: "packages/destination-postgres exports no `postgres()` factory" };
  }
  const destination = /** @type {Record<string, unknown>} */ (mod.postgres({ credentials: url }));
  const datasetName = `bench_${process.pid}_${Date.now().toString(36)}`;
  const { dlt, pipeline, peakRssMbAfter } = await benchPipeline(ctx.dir, destination, datasetName);
  const issues = dlt.resource(() => issuePages(ctx.rows, { pageSize: PAGE_SIZE }), {
    name: TABLE,
    writeDisposition: "append",
  });
  try {
    const time = await timed(() => pipeline.run(issues));
    await expectCounts(pipeline, ctx.rows, "after the load");
    return { ...time, ...stepTimes(pipeline), peakRssMbAfter };
  } finally {
    const client = await pipeline.sqlClient();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${datasetName}" CASCADE`);
    } finally {
      await client[Symbol.asyncDispose]();
    }
  }
}

/**
 * Python dlt 1.x on the same rows (generated in Python by `dlt_python.py`, a port of generate.mjs)
 * into DuckDB with dlt's defaults: the reference tsdlt is measured against (target: ≥ 10× slower
 * than `duckdb-1m`). Needs a Python with `dlt[duckdb]`, named by `TSDLT_BENCH_DLT_PYTHON`.
 * @param {CaseContext} ctx
 * @returns {Promise<CaseResult>}
 */
async function dltPythonToDuckDB(ctx) {
  const python = process.env.TSDLT_BENCH_DLT_PYTHON;
  if (!python) {
    return {
      skipped:
        'set TSDLT_BENCH_DLT_PYTHON to a Python with dlt (python3 -m venv /tmp/dlt && /tmp/dlt/bin/pip install "dlt[duckdb]")',
    };
  }
  const script = join(REPO_ROOT, "tooling", "bench", "dlt_python.py");
  const { stdout } = await execFileAsync(python, [script, "--rows", String(ctx.rows), "--dir", ctx.dir], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const lines = stdout.trim().split("\n");
  const result = JSON.parse(/** @type {string} */ (lines[lines.length - 1]));
  // `peakRssMb` is the Python process's own (it replaces the waiting child's in the JSON line)
  return result;
}

/** Resources, pages per resource at full size, rows per page and server delay of `rest-4x50`. */
const REST = { resources: 4, pages: 50, pageSize: 100, delayMs: 50 };

/**
 * Pages per resource for a `--rows` value: 50 at 1,000,000, scaled down with it (at least 2).
 * @param {number} baseRows
 */
function restPages(baseRows) {
  return Math.max(2, Math.min(REST.pages, Math.round((REST.pages * baseRows) / 1_000_000)));
}

/**
 * 4 resources × 50 pages from a local server answering each page after 50 ms, through
 * `@tsdlt/rest-client`'s `RESTClient.paginate()` into DuckDB. Sequential fetching takes ≥ 10 s.
 * @param {CaseContext} ctx
 * @returns {Promise<CaseResult>}
 */
async function restToDuckDB(ctx) {
  if (!builtEntry("packages/rest-client")) {
    return { skipped: "no REST client yet: packages/rest-client is not built (issue 8)" };
  }
  if (!builtEntry("tooling/fixture-server")) {
    return { skipped: "tooling/fixture-server is not built" };
  }
  const rest = await importBuilt("packages/rest-client");
  const RESTClient = /** @type {any} */ (rest.RESTClient);
  if (typeof RESTClient !== "function" || typeof RESTClient.prototype.paginate !== "function") {
    return { skipped: "packages/rest-client exports no `RESTClient` with `paginate()` yet (issue 8)" };
  }
  const { startFixtureServer, pagedRoute } = /** @type {any} */ (await importBuilt("tooling/fixture-server"));
  const pages = restPages(ctx.baseRows);
  const names = Array.from({ length: REST.resources }, (_, r) => `issues_${r + 1}`);
  const server = await startFixtureServer({
    routes: names.map((name, r) =>
      pagedRoute({
        path: `/${name}`,
        style: "header_link",
        pages,
        pageSize: REST.pageSize,
        delayMs: REST.delayMs,
        item: (/** @type {number} */ i) => issueRow(r * pages * REST.pageSize + i),
      }),
    ),
  });
  try {
    const { dlt, pipeline } = await benchPipeline(ctx.dir);
    const client = new RESTClient({ baseUrl: server.url });
    const resources = names.map((name) =>
      dlt.resource(
        async function* () {
          for await (const page of client.paginate(`/${name}`)) yield Array.isArray(page) ? page : page.data;
        },
        { name, writeDisposition: "append" },
      ),
    );
    const time = await timed(() => pipeline.run(resources));
    return {
      ...time,
      ...stepTimes(pipeline),
      pages: REST.resources * pages,
      requests: server.requests.length,
      maxInFlight: server.maxInFlight,
      sequentialSeconds: round((REST.resources * pages * REST.delayMs) / 1000, 1),
    };
  } finally {
    await server[Symbol.asyncDispose]();
  }
}

/** @type {readonly BenchCase[]} */
export const CASES = [
  {
    name: "duckdb-1m",
    description: "1M rows from an async generator (pages of 1,000) → DuckDB, append",
    rows: (base) => base,
    run: appendToDuckDB,
  },
  {
    name: "duckdb-limit-1m",
    description: "the same rows as one JSONL file → DuckDB read_json (ceiling; only the load is timed)",
    rows: (base) => base,
    run: duckdbReadJson,
  },
  {
    name: "duckdb-10m",
    description: "10M rows → DuckDB, append (peak memory must stay flat)",
    rows: (base) => 10 * base,
    optIn: "about 9 minutes on 2 cores",
    run: appendToDuckDB,
  },
  {
    name: "merge-1m",
    description: "1M rows merged (delete-insert, primary key id) into a table holding them",
    rows: (base) => base,
    run: mergeIntoDuckDB,
  },
  {
    name: "postgres-1m",
    description: "1M rows → Postgres",
    rows: (base) => base,
    run: appendToPostgres,
  },
  {
    name: "rest-4x50",
    description: "4 resources × 50 pages (100 rows each, 50 ms per page) from a local server → DuckDB",
    rows: (base) => REST.resources * restPages(base) * REST.pageSize,
    run: restToDuckDB,
  },
  {
    name: "dlt-python-1m",
    description: "Python dlt 1.x, the same 1M rows → DuckDB (the reference; needs TSDLT_BENCH_DLT_PYTHON)",
    rows: (base) => base,
    optIn: "Python dlt takes minutes for 1M rows",
    run: dltPythonToDuckDB,
  },
];
