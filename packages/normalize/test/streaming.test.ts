/**
 * Normalizing while extracting (issue 12): a {@link StreamingNormalizer} fed the files of a package as
 * they close commits what {@link normalizePackage} commits for the same files, and it steps back
 * (returns undefined, leaving no output) whenever that would not hold: the schema changed after a
 * streamed file was normalized, a streamed file failed, or the thread was busy extracting.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createLoadId,
  formatJobFileName,
  type LoadPackage,
  NormalizeError,
  Schema,
  toTypedJson,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NormalizeResult, normalizePackage, StreamingNormalizer } from "../src/index.js";
import { capabilities, createFixture, type Fixture, rows } from "./helpers.js";

let fixture: Fixture;
/** Fixtures of the usual-path comparisons. */
let others: Fixture[] = [];
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  for (const f of [fixture, ...others]) f.cleanup();
  others = [];
});

/** A package being extracted: files are written into its temporary folder, then it is committed. */
class Extracting {
  readonly pkg: LoadPackage;
  readonly files: { fileName: string; path: string }[] = [];
  readonly schema: Schema;
  readonly fx: Fixture;
  readonly loadId: string;
  constructor(schema: Schema, fx: Fixture = fixture, loadId: string = createLoadId()) {
    this.schema = schema;
    this.fx = fx;
    this.loadId = loadId;
    this.pkg = fx.normalizeStorage.createTempPackage(loadId);
  }

  /** Writes one typed-jsonl job file of `table` (one line per batch); returns what extract reports. */
  write(table: string, ...batches: (readonly unknown[] | string)[]): { fileName: string; path: string } {
    const fileName = formatJobFileName({
      tableName: table,
      // ids in writing order: the usual path normalizes a package's files in the order of their names
      fileId: String(this.files.length).padStart(10, "0"),
      retryCount: 0,
      fileFormat: "typed-jsonl",
      compressed: false,
    });
    const path = this.pkg.jobPath("new_jobs", fileName);
    const lines = batches.map((b) => (typeof b === "string" ? b : toTypedJson(b)));
    writeFileSync(path, `${lines.join("\n")}\n`);
    const file = { fileName, path };
    this.files.push(file);
    return file;
  }

  commit(): LoadPackage {
    this.pkg.writeSchemaDoc(this.schema.toDict());
    this.pkg.writeState({ created_at: new Date("2024-01-01T00:00:00Z") });
    return this.fx.normalizeStorage.commitPackage(this.pkg, "extracted");
  }
}

function streaming(
  extracting: Extracting,
  maxEventLoopUtilization = 1,
  options: { workers?: number; parallelMinBytes?: number } = {},
): StreamingNormalizer {
  return new StreamingNormalizer({
    loadId: extracting.loadId,
    schema: extracting.schema,
    loadStorage: fixture.loadStorage,
    capabilities,
    maxEventLoopUtilization,
    ...options,
  });
}

/** Keeps the thread busy for `ms`, as a CPU-bound extract does (the event loop never idles). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // extracting
  }
}

const issue = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  title: `issue ${id}`,
  user: { login: `u${id}`, site_admin: id % 2 === 0 },
  labels: [{ name: "bug" }, { name: `l${id}` }],
  ...extra,
});

/** Rows of a table without the random row keys (root rows get random `_dlt_id`s) and load ids. */
function comparable(pkg: LoadPackage, table: string): Record<string, unknown>[] {
  return rows(pkg, table)
    .map(({ _dlt_id: _i, _dlt_parent_id: _p, _dlt_load_id: _l, ...rest }) => rest)
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The same files normalized the usual way, in a fixture of their own. */
async function normalizedAsUsual(
  schema: Schema,
  files: readonly { table: string; batches: (readonly unknown[] | string)[] }[],
): Promise<NormalizeResult> {
  const other = createFixture();
  others.push(other);
  const extracting = new Extracting(schema, other);
  for (const file of files) extracting.write(file.table, ...file.batches);
  return normalizePackage({ extracted: extracting.commit(), loadStorage: other.loadStorage, capabilities });
}

type Files = { table: string; batches: (readonly unknown[] | string)[] }[];

/**
 * Ends extraction after the files were handed over: a last `issues` file (a new column), and a table
 * declared at the end (as the state table is). Commits the package and finishes the stream.
 */
async function finishWithLateFiles(
  stream: StreamingNormalizer,
  extracting: Extracting,
  lateId: number,
): Promise<{ result: NormalizeResult | undefined; committedSchema: Schema; late: Files }> {
  const late: Files = [
    {
      table: "issues",
      batches: [[issue(lateId, { user: { login: "late", site_admin: false, type: "bot" } })]],
    },
    { table: "events", batches: [[{ kind: "opened", at: 1 }]] },
  ];
  extracting.write("issues", ...(late[0] as Files[number]).batches);
  extracting.schema.updateTable({ name: "events", write_disposition: "append", columns: {} });
  extracting.write("events", ...(late[1] as Files[number]).batches);
  const extracted = extracting.commit();
  const committedSchema = Schema.fromDict(extracted.readSchemaDoc());
  return { result: await stream.finish(extracted), committedSchema, late };
}

/**
 * Expects `result` to be what the usual path commits for `files`, starting from the schema extract
 * committed: rows, row counts, schema update, columns, table order and version.
 */
async function expectAsUsual(
  result: NormalizeResult | undefined,
  committedSchema: Schema,
  files: Files,
): Promise<NormalizeResult> {
  expect(result).toBeDefined();
  const usual = await normalizedAsUsual(committedSchema, files);
  const got = result as NormalizeResult;
  for (const table of ["issues", "issues__labels", "events"]) {
    expect(comparable(got.package, table), table).toEqual(comparable(usual.package, table));
  }
  expect(got.rowCounts).toEqual(usual.rowCounts);
  expect(got.schemaUpdate).toEqual(usual.schemaUpdate);
  const tables = (s: Schema) => Object.fromEntries(Object.entries(s.tables).map(([n, t]) => [n, t.columns]));
  expect(tables(got.schema)).toEqual(tables(usual.schema));
  expect(Object.keys(got.schema.tables)).toEqual(Object.keys(usual.schema.tables));
  expect(got.schema.version).toBe(usual.schema.version);
  expect(got.schema.versionHash).toBe(usual.schema.versionHash);
  return got;
}

/**
 * Finishes a stream whose second line of a file is not JSON: it steps back, leaving no output, and
 * the usual path reports the error.
 */
async function expectStepBackOnBadLine(stream: StreamingNormalizer, extracting: Extracting): Promise<void> {
  await stream.pause();
  const extracted = extracting.commit();
  expect(await stream.finish(extracted)).toBeUndefined();
  expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
  const usual = normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities });
  await expect(usual).rejects.toThrow(NormalizeError);
  await expect(usual).rejects.toThrow(
    /Line 2 of job file `issues\.[0-9a-f]+\.0\.typed-jsonl`.*not valid JSON/,
  );
}

describe("StreamingNormalizer", () => {
  it("commits what normalizePackage commits: rows, schema, version and tables declared at the end", async () => {
    const schema = new Schema("shop");
    schema.updateTable({ name: "issues", write_disposition: "append", columns: {} });
    const extracting = new Extracting(schema);
    const stream = streaming(extracting);
    const files = [
      { table: "issues", batches: [[issue(1), issue(2)]] },
      // a number in a text column, and a new column
      {
        table: "issues",
        batches: [[issue(3, { title: 3 })], [issue(4, { closed_at: "2024-05-01T10:00:00Z" })]],
      },
    ];
    for (const file of files)
      expect(stream.fileClosed(extracting.write(file.table, ...file.batches))).toBe(true);
    await stream.pause();
    // the last file, and a table declared at the end, come after streaming stopped
    const { result, committedSchema, late } = await finishWithLateFiles(stream, extracting, 5);
    // pause() stops after the file being normalized: the second one may be left for finish()
    expect(stream.streamedFiles).toBeGreaterThanOrEqual(1);
    const got = await expectAsUsual(result, committedSchema, [...files, ...late]);
    // columns from a streamed file and from the last one
    expect(Object.keys(got.schema.tables.issues?.columns ?? {})).toEqual(
      expect.arrayContaining(["closed_at", "user__type"]),
    );
    // committed like any normalized package; the extracted one is gone
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([extracting.loadId]);
    expect(fixture.normalizeStorage.listPackages("extracted")).toEqual([]);
  });

  it("adopts a table declared while streaming (a table name picked per item)", async () => {
    const schema = new Schema("events");
    const extracting = new Extracting(schema);
    const stream = streaming(extracting);
    schema.updateTable({ name: "push", write_disposition: "append", columns: {} });
    stream.fileClosed(extracting.write("push", [{ id: 1, commits: [{ sha: "a" }] }]));
    schema.updateTable({
      name: "fork",
      write_disposition: "merge",
      columns: { id: { name: "id", data_type: "text", primary_key: true } },
    });
    stream.fileClosed(extracting.write("fork", [{ id: 7, forkee: { name: "x" } }]));
    await stream.pause();
    const result = await stream.finish(extracting.commit());
    expect(result?.rowCounts).toMatchObject({ push: 1, push__commits: 1, fork: 1 });
    // the hint of the adopted table applied: `id` is text as declared, not the inferred bigint
    expect(result?.schema.tables.fork?.columns.id?.data_type).toBe("text");
    expect(rows((result as NormalizeResult).package, "fork")[0]?.id).toBe("7");
  });

  it("steps back, leaving no output, when a table's hints changed after its files were normalized", async () => {
    const schema = new Schema("shop");
    schema.updateTable({ name: "issues", write_disposition: "append", columns: {} });
    const extracting = new Extracting(schema);
    const stream = streaming(extracting);
    stream.fileClosed(extracting.write("issues", [issue(1)]));
    await stream.pause();
    // e.g. an incremental bound late, or hints applied while the resource ran
    schema.updateTable({ name: "issues", columns: { id: { name: "id", data_type: "text" } } });
    const extracted = extracting.commit();
    expect(await stream.finish(extracted)).toBeUndefined();
    expect(existsSync(join(fixture.dir, "load", "new", extracting.loadId))).toBe(false);
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);

    // the usual path then normalizes with the final hints
    const result = await normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities });
    expect(rows(result.package, "issues")[0]?.id).toBe("1");
  });

  it("steps back when a streamed file fails, so that the usual path reports the error", async () => {
    const extracting = new Extracting(new Schema("shop"));
    const stream = streaming(extracting);
    stream.fileClosed(extracting.write("issues", [issue(1)], "[{not json"));
    stream.fileClosed(extracting.write("issues", [issue(2)]));
    await expectStepBackOnBadLine(stream, extracting);
  });

  it("does not start while the thread is busy extracting and no worker threads can help", async () => {
    const extracting = new Extracting(new Schema("shop"));
    const stream = streaming(extracting, 0.5, { workers: 1 });
    busy(300);
    expect(stream.fileClosed(extracting.write("issues", [issue(1)]))).toBe(false);
    expect(await stream.finish(extracting.commit())).toBeUndefined();
    expect(stream.streamedFiles).toBe(0);
  });

  it("asks for no more files once extracting and normalizing keep the thread busy", async () => {
    const extracting = new Extracting(new Schema("shop"));
    const stream = streaming(extracting);
    expect(stream.fileClosed(extracting.write("issues", [issue(1)]))).toBe(true);
    await stream.pause();
    const until = performance.now() + 1100;
    while (performance.now() < until) {
      // extraction speeds up: no idle time left to normalize in
    }
    expect(stream.fileClosed(extracting.write("issues", [issue(2)]))).toBe(false);
    const result = await stream.finish(extracting.commit());
    expect(result?.rowCounts.issues).toBe(2);
  });

  it("leaves a package to worker threads when most of it was extracted after streaming stopped", async () => {
    const big = Array.from({ length: 200 }, (_, i) => issue(i));
    const run = async (workers: number) => {
      const extracting = new Extracting(new Schema("shop"));
      const stream = new StreamingNormalizer({
        loadId: extracting.loadId,
        schema: extracting.schema,
        loadStorage: fixture.loadStorage,
        capabilities,
        maxEventLoopUtilization: 1,
        workers,
        parallelMinBytes: 1000,
      });
      stream.fileClosed(extracting.write("issues", [issue(1)]));
      await stream.pause();
      extracting.write("issues", big);
      extracting.write("issues", big);
      return stream.finish(extracting.commit());
    };
    expect(await run(2)).toBeUndefined();
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
    // with one worker the usual path would normalize on this thread too: the streamed part is kept
    expect((await run(1))?.rowCounts.issues).toBe(401);
  });

  it("abort() throws the streamed output away (extract failed)", async () => {
    const extracting = new Extracting(new Schema("shop"));
    const stream = streaming(extracting);
    stream.fileClosed(extracting.write("issues", [issue(1)]));
    await stream.pause();
    const output = join(fixture.dir, "load", "new", extracting.loadId);
    expect(existsSync(output)).toBe(true);
    await stream.abort();
    expect(existsSync(output)).toBe(false);
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
  });
});

describe("StreamingNormalizer with a CPU-bound extract (worker threads)", () => {
  /** Files of a busy extract, closed one after another with the thread busy in between. */
  const feedBusily = (stream: StreamingNormalizer, extracting: Extracting, batches: unknown[][]): boolean[] =>
    batches.map((batch) => {
      busy(160);
      return stream.fileClosed(extracting.write("issues", batch));
    });
  const batchesOf = (files: number, perFile: number, from = 0): unknown[][] =>
    Array.from({ length: files }, (_, f) =>
      Array.from({ length: perFile }, (_, i) => issue(from + f * perFile + i + 1)),
    );

  it("normalizes the files in worker threads while extracting; commits what normalizePackage commits", async () => {
    const schema = new Schema("shop");
    schema.updateTable({ name: "issues", write_disposition: "append", columns: {} });
    const extracting = new Extracting(schema);
    const stream = streaming(extracting, 0.5, { workers: 2, parallelMinBytes: 1 });
    const batches = batchesOf(4, 50);
    // a later file brings a new column and a number in a text column: the workers' rounds merge them
    batches.push([issue(1000, { title: 1000, closed_at: "2024-05-01T10:00:00Z" })]);
    expect(feedBusily(stream, extracting, batches)).toEqual([true, true, true, true, true]);
    expect(stream.mode).toBe("workers");
    await stream.pause();
    const { result, committedSchema, late } = await finishWithLateFiles(stream, extracting, 2000);
    expect(stream.streamedFiles).toBe(5);
    const got = await expectAsUsual(result, committedSchema, [
      ...batches.map((batch) => ({ table: "issues", batches: [batch] })),
      ...late,
    ]);
    expect(got.rowCounts).toEqual({ issues: 202, issues__labels: 404, events: 1 });
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([extracting.loadId]);
    expect(fixture.normalizeStorage.listPackages("extracted")).toEqual([]);
  });

  it("waits for enough bytes before starting the workers, and never starts for a small package", async () => {
    const extracting = new Extracting(new Schema("shop"));
    const stream = streaming(extracting, 0.5, { workers: 2, parallelMinBytes: 10_000_000 });
    // it keeps asking for files (they may add up), but does not start on them
    expect(feedBusily(stream, extracting, batchesOf(2, 5))).toEqual([true, true]);
    expect(stream.mode).toBeUndefined();
    await stream.pause();
    expect(await stream.finish(extracting.commit())).toBeUndefined();
    expect(stream.streamedFiles).toBe(0);
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
  });

  it("steps back, leaving no output, when a table's hints changed after its files went to the workers", async () => {
    const schema = new Schema("shop");
    schema.updateTable({ name: "issues", write_disposition: "append", columns: {} });
    const extracting = new Extracting(schema);
    const stream = streaming(extracting, 0.5, { workers: 2, parallelMinBytes: 1 });
    feedBusily(stream, extracting, batchesOf(3, 20));
    expect(stream.mode).toBe("workers");
    await stream.pause();
    schema.updateTable({ name: "issues", columns: { id: { name: "id", data_type: "text" } } });
    const extracted = extracting.commit();
    expect(await stream.finish(extracted)).toBeUndefined();
    expect(existsSync(join(fixture.dir, "load", "new", extracting.loadId))).toBe(false);
    const result = await normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities });
    expect(result.rowCounts.issues).toBe(60);
    expect(rows(result.package, "issues")[0]?.id).toBe("1");
  });

  it("steps back when a file fails in a worker, so that the usual path reports the error", async () => {
    const extracting = new Extracting(new Schema("shop"));
    const stream = streaming(extracting, 0.5, { workers: 2, parallelMinBytes: 1 });
    busy(160);
    stream.fileClosed(extracting.write("issues", [issue(1)]));
    busy(160);
    stream.fileClosed(extracting.write("issues", [issue(2)], "[{not json"));
    expect(stream.mode).toBe("workers");
    await expectStepBackOnBadLine(stream, extracting);
  });

  it("abort() stops the workers and throws their output away", async () => {
    const extracting = new Extracting(new Schema("shop"));
    const stream = streaming(extracting, 0.5, { workers: 2, parallelMinBytes: 1 });
    feedBusily(stream, extracting, batchesOf(3, 20));
    expect(stream.mode).toBe("workers");
    await stream.abort();
    expect(existsSync(join(fixture.dir, "load", "new", extracting.loadId))).toBe(false);
    expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
  });
});
