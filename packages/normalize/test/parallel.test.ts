/**
 * Normalizing in worker threads (issue 12) gives what normalizing on one thread gives: the same rows
 * per table and the same schema, including when files disagree on a column's type (the workers'
 * schemas diverge and the merge starts a new round), when a later file breaks a constraint an earlier
 * one set up, and when a file fails. Workers run the compiled `dist/normalize-worker.js`, which this
 * file rebuilds first when a source is newer.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type DestinationCapabilities,
  defineCapabilities,
  digest128,
  formatJobFileName,
  isTsdltError,
  type LoadPackage,
  NormalizeError,
  Schema,
  toTypedJson,
} from "@tsdlt/core";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type NormalizeResult, normalizePackage } from "../src/index.js";
import { fastDigest128 } from "../src/shake128.js";
import { createFixture, type Fixture, readCsv, rows, tableRows } from "./helpers.js";

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Rebuilds `dist/` when a source file is newer than the compiled worker (the workers run it). */
function ensureBuiltWorker(): void {
  const worker = join(PACKAGE_DIR, "dist", "normalize-worker.js");
  const built = existsSync(worker) ? statSync(worker).mtimeMs : 0;
  const src = join(PACKAGE_DIR, "src");
  const newest = Math.max(...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs));
  if (newest <= built) return;
  const tsc = join(PACKAGE_DIR, "..", "..", "node_modules", ".bin", "tsc");
  execFileSync(tsc, ["-b"], { cwd: PACKAGE_DIR, stdio: "inherit" });
}

const capabilities: DestinationCapabilities = defineCapabilities({
  preferredLoaderFileFormat: "jsonl",
  supportedLoaderFileFormats: ["jsonl"],
});

/** A destination that prefers `csv` job files. */
const csvCapabilities: DestinationCapabilities = defineCapabilities({
  preferredLoaderFileFormat: "csv",
  supportedLoaderFileFormats: ["csv", "jsonl"],
});

/** A job file of an extracted package: its root table and its lines (batches of items or raw text). */
interface FileSpec {
  readonly table: string;
  readonly lines: readonly (readonly unknown[] | string)[];
}

/** Commits an extracted package whose job files keep the given order (file ids `f0000`, `f0001`, ...). */
function extracted(
  fixture: Fixture,
  files: readonly FileSpec[],
  schema: Schema,
  loadId: string,
): LoadPackage {
  const pkg = fixture.normalizeStorage.createTempPackage(loadId);
  pkg.writeSchemaDoc(schema.toDict());
  pkg.writeState({ created_at: new Date("2024-01-01T00:00:00Z") });
  files.forEach((file, i) => {
    const fileName = formatJobFileName({
      tableName: file.table,
      fileId: `f${String(i).padStart(4, "0")}`,
      retryCount: 0,
      fileFormat: "typed-jsonl",
      compressed: false,
    });
    const text = file.lines.map((line) => (typeof line === "string" ? line : toTypedJson(line))).join("\n");
    writeFileSync(pkg.jobPath("new_jobs", fileName), text.length > 0 ? `${text}\n` : "");
  });
  return fixture.normalizeStorage.commitPackage(pkg, "extracted");
}

const IDS = new Set(["_dlt_id", "_dlt_parent_id", "_dlt_root_id"]);

/** Rows of every table of a package, without random ids, sorted. */
function content(result: NormalizeResult, keepIds = false): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  // csv fields come in the order of their file's header, which differs between files
  const csv = result.package.listJobs("new_jobs").some((job) => job.parsed.fileFormat === "csv");
  for (const table of Object.keys(result.rowCounts).sort()) {
    out[table] = tableRows(result.package, table, result.schema)
      .map((row) => {
        const fields = Object.entries(row).filter(([k]) => keepIds || !IDS.has(k));
        if (csv) fields.sort(([p], [q]) => (p < q ? -1 : 1));
        return JSON.stringify(Object.fromEntries(fields));
      })
      .sort();
  }
  return out;
}

type Outcome = { result: NormalizeResult } | { error: unknown };

/** Debug messages of the parallel run (they say when a round restarted or a worker failed). */
let debug: string[] = [];

let one: Fixture;
let many: Fixture;
beforeAll(() => ensureBuiltWorker(), 120_000);
beforeEach(() => {
  debug = [];
  one = createFixture();
  many = createFixture();
});
afterEach(() => {
  one.cleanup();
  many.cleanup();
});

/** Normalizes the same package on one thread and in `workers` threads. */
async function both(
  files: readonly FileSpec[],
  schema: () => Schema = () => new Schema("shop"),
  workers = 3,
  format: "jsonl" | "csv" = "jsonl",
): Promise<[Outcome, Outcome]> {
  const loadId = "1700000000.123456";
  const run = async (fixture: Fixture, n: number): Promise<Outcome> => {
    try {
      const result = await normalizePackage({
        extracted: extracted(fixture, files, schema(), loadId),
        loadStorage: fixture.loadStorage,
        capabilities: format === "csv" ? csvCapabilities : capabilities,
        workers: n,
        parallelMinBytes: 0,
        logger: {
          debug: (m: string) => void (n > 1 && debug.push(m)),
          info: () => {},
          warn: () => {},
          error: () => {},
        },
      });
      return { result };
    } catch (error) {
      return { error };
    }
  };
  return [await run(one, 1), await run(many, workers)];
}

function expectSame(a: Outcome, b: Outcome, keepIds = false, fallbackAllowed = false): NormalizeResult {
  if ("error" in a || "error" in b) {
    throw new Error(
      `expected results, got ${"error" in a ? a.error : "a result"} / ${"error" in b ? b.error : "a result"}`,
    );
  }
  // the workers ran (no fallback to one thread)
  if (!fallbackAllowed) {
    expect(debug.filter((m) => m.includes("failed") || m.includes("kept conflicting"))).toEqual([]);
  }
  expect(b.result.schema.toDict()).toEqual(a.result.schema.toDict());
  expect(Object.keys(b.result.schema.tables)).toEqual(Object.keys(a.result.schema.tables));
  for (const [name, table] of Object.entries(a.result.schema.tables)) {
    expect(Object.keys(b.result.schema.tables[name]?.columns ?? {})).toEqual(Object.keys(table.columns));
  }
  expect(b.result.rowCounts).toEqual(a.result.rowCounts);
  expect(Object.keys(b.result.rowCounts)).toEqual(Object.keys(a.result.rowCounts));
  expect(b.result.schemaUpdate).toEqual(a.result.schemaUpdate);
  expect(content(b.result, keepIds)).toEqual(content(a.result, keepIds));
  return a.result;
}

function issue(i: number): Record<string, unknown> {
  return {
    id: i,
    title: `issue ${i}`,
    created_at: `2024-01-${String(1 + (i % 28)).padStart(2, "0")}T10:00:00Z`,
    closed_at: i % 3 === 0 ? "2024-02-01T00:00:00Z" : null,
    score: i % 2 === 0 ? i / 4 : i / 3,
    user: { login: `u${i % 5}`, id: i % 5, site_admin: i % 7 === 0 },
    labels: [
      { id: 1, name: "bug" },
      { id: 2, name: "p1", tags: i % 4 === 0 ? ["x", "y"] : [] },
    ],
    matrix: i % 5 === 0 ? [[1, 2], [3]] : undefined,
  };
}

/** `count` items from `start`, as lines of `perLine` items. */
function lines(start: number, count: number, perLine: number, make = issue): unknown[][] {
  const out: unknown[][] = [];
  for (let i = 0; i < count; i += perLine) {
    out.push(Array.from({ length: Math.min(perLine, count - i) }, (_, j) => make(start + i + j)));
  }
  return out;
}

describe("normalizePackage in worker threads", () => {
  it("should produce the rows and schema of one thread", async () => {
    const files = Array.from({ length: 7 }, (_, f) => ({ table: "issues", lines: lines(f * 300, 300, 100) }));
    const [a, b] = await both(files);
    const result = expectSame(a, b);
    expect(result.rowCounts.issues).toBe(2100);
    expect(result.rowCounts.issues__labels).toBe(4200);
    // the workers wrote job files per input file
    if ("result" in b) expect(b.result.package.listJobs("new_jobs").length).toBeGreaterThan(3);
  });

  it("should keep nested row ids derived from the parent id (dlt's digest128 recipe)", async () => {
    const files = Array.from({ length: 4 }, (_, f) => ({ table: "issues", lines: lines(f * 50, 50, 25) }));
    const [, b] = await both(files);
    if (!("result" in b)) throw b.error;
    const parents = new Set(rows(b.result.package, "issues").map((r) => r._dlt_id));
    for (const label of rows(b.result.package, "issues__labels")) {
      expect(parents.has(label._dlt_parent_id)).toBe(true);
      expect(label._dlt_id).toBe(digest128(`${label._dlt_parent_id}_issues__labels_${label._dlt_list_idx}`));
    }
  });

  it("should give a column the type its first value in file order has, whichever worker saw it", async () => {
    // file 0 makes `v` bigint and `w` text; later files (other workers) first see a double / a number
    const files: FileSpec[] = [
      { table: "t", lines: [[{ id: 0, v: 1, w: "a" }]] },
      { table: "t", lines: [[{ id: 1, v: 1.5, w: 2 }]] },
      { table: "t", lines: [[{ id: 2, v: "x", w: true, z: { q: 1 } }]] },
      { table: "t", lines: [[{ id: 3, z: "flat", v: null }]] },
      { table: "t", lines: [[{ id: 4, v: 2.5, w: "b", z: { q: "s" } }]] },
      {
        table: "t",
        lines: [
          [
            { id: 5, u: [1, "a"] },
            { id: 6, u: ["b", 2] },
          ],
        ],
      },
    ];
    const [a, b] = await both(files, undefined, 4);
    const result = expectSame(a, b);
    expect(Object.keys(result.schema.tables.t?.columns ?? {})).toContain("v__v_double");
    // the workers disagreed with the merged schema and started over from the conflicting file
    expect(debug.some((m) => m.includes("conflicts with the schema merged so far"))).toBe(true);
  });

  it("should merge declared columns completed by different workers", async () => {
    const schema = (): Schema => {
      const s = new Schema("shop");
      s.updateTable({
        name: "t",
        columns: { late: { name: "late", primary_key: true }, other: { name: "other", unique: true } },
      });
      return s;
    };
    const files: FileSpec[] = [
      { table: "t", lines: [[{ id: 0 }]] },
      { table: "t", lines: [[{ id: 1, other: "x" }]] },
      { table: "t", lines: [[{ id: 2, late: 5, other: null }]] },
      { table: "t", lines: [[{ id: 3, late: 6 }]] },
    ];
    const [a, b] = await both(files, schema);
    expectSame(a, b);
  });

  it("should fail like one thread when a later file sends nulls to a column that became not nullable", async () => {
    const schema = (): Schema => {
      const s = new Schema("shop");
      s.updateTable({ name: "t", columns: { c: { name: "c", nullable: false } } });
      return s;
    };
    const files: FileSpec[] = [
      { table: "t", lines: [[{ id: 0, c: 1 }]] },
      { table: "t", lines: [[{ id: 1, c: null }]] },
      { table: "t", lines: [[{ id: 2, c: 3 }]] },
    ];
    const [a, b] = await both(files, schema);
    expect("error" in a && "error" in b).toBe(true);
    const ea = (a as { error: NormalizeError }).error;
    const eb = (b as { error: NormalizeError }).error;
    expect(isTsdltError(ea, "CANNOT_COERCE_NULL")).toBe(true);
    expect(eb).toBeInstanceOf(NormalizeError);
    expect(eb.message).toBe(ea.message);
    expect(debug.some((m) => m.includes("normalizing on one thread"))).toBe(true);
    expect(readdirSync(many.loadStorage.root).filter((d) => d !== ".version")).toEqual(
      readdirSync(one.loadStorage.root).filter((d) => d !== ".version"),
    );
  });

  it("should fail like one thread on a broken line", async () => {
    const files: FileSpec[] = [
      { table: "t", lines: [[{ id: 0 }]] },
      { table: "t", lines: [[{ id: 1 }]] },
      { table: "t", lines: [[{ id: 2 }], "[{not json"] },
      { table: "t", lines: [[{ id: 3 }]] },
    ];
    const [a, b] = await both(files);
    const ea = (a as { error: Error }).error;
    const eb = (b as { error: Error }).error;
    expect(isTsdltError(ea, "NORMALIZE_FAILED")).toBe(true);
    expect(isTsdltError(eb, "NORMALIZE_FAILED")).toBe(true);
    expect(eb.message).toBe(ea.message);
  });

  it("should keep one job file per table for empty files, as one thread does", async () => {
    const schema = (): Schema => {
      const s = new Schema("shop");
      s.updateTable({
        name: "t",
        columns: {},
        write_disposition: "replace",
        "x-normalizer": { "seen-data": true },
      });
      s.updateTable({ name: "e", columns: {}, write_disposition: "append" });
      return s;
    };
    const files: FileSpec[] = [
      { table: "e", lines: [] },
      { table: "e", lines: [] },
      { table: "t", lines: [] },
      { table: "t", lines: [[{ id: 1 }]] },
      { table: "t", lines: [] },
    ];
    const [a, b] = await both(files, schema);
    expectSame(a, b);
    if (!("result" in a) || !("result" in b)) return;
    const count = (r: NormalizeResult, table: string): number =>
      r.package.listJobs("new_jobs").filter((j) => j.parsed.tableName === table).length;
    expect(count(b.result, "e")).toBe(count(a.result, "e"));
    expect(count(b.result, "t")).toBe(1);
  });

  it("should compute key-hash ids and root keys of merge tables as one thread does", async () => {
    const schema = (): Schema => {
      const s = new Schema("shop");
      s.updateTable({
        name: "issues",
        columns: { id: { name: "id", primary_key: true } },
        write_disposition: "merge",
        "x-merge-strategy": "upsert",
      });
      return s;
    };
    const files = Array.from({ length: 5 }, (_, f) => ({ table: "issues", lines: lines(f * 40, 40, 15) }));
    const [a, b] = await both(files, schema);
    const result = expectSame(a, b, true);
    expect(Object.keys(result.schema.tables.issues__labels?.columns ?? {})).toContain("_dlt_root_id");
  });

  it("should parse extract's chunked lines and fall back for tabs elsewhere", async () => {
    const files: FileSpec[] = [
      { table: "t", lines: ['[{"id":1},\t{"id":2,"n":{"a":1}},\t{"id":3}]'] },
      { table: "t", lines: ['[{"id":4},\t{"id":5,"n":{"a":2,\t"b":3}},\t{"id":6}]'] },
      { table: "t", lines: ['{"id":7,\t"n":{"a":4}}'] },
    ];
    const [a, b] = await both(files, undefined, 2);
    const result = expectSame(a, b);
    expect(result.rowCounts.t).toBe(7);
    if ("result" in a) {
      expect(
        rows(a.result.package, "t")
          .map((r) => r.id)
          .sort(),
      ).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
  });
});

/** A deterministic pseudo-random generator (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random items over a few keys whose values change type from item to item. */
function randomItem(random: () => number, depth = 0): Record<string, unknown> {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const value = (): unknown => {
    switch (pick(depth < 2 ? [0, 1, 2, 3, 4, 5, 6, 7] : [0, 1, 2, 3, 4])) {
      case 0:
        return Math.floor(random() * 100);
      case 1:
        return random() * 100;
      case 2:
        return pick(["a", "b", "2024-01-02T03:04:05Z", "12", ""]);
      case 3:
        return random() < 0.5;
      case 4:
        return null;
      case 5:
        return randomItem(random, depth + 1);
      case 6:
        return Array.from({ length: Math.floor(random() * 3) }, () => randomItem(random, depth + 1));
      default:
        return Array.from({ length: Math.floor(random() * 3) }, () => pick([1, "x", 2.5, null]));
    }
  };
  const item: Record<string, unknown> = {};
  for (const key of ["a", "b", "c", "Weird Key", "d"]) if (random() < 0.6) item[key] = value();
  return item;
}

describe("normalizePackage in worker threads: random data", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])("should match one thread (seed %i)", async (seed) => {
    const random = prng(seed);
    const files = Array.from({ length: 8 }, () => ({
      table: random() < 0.8 ? "t" : "u",
      lines: [Array.from({ length: 1 + Math.floor(random() * 6) }, () => randomItem(random))],
    }));
    const [a, b] = await both(files, undefined, 3);
    if ("error" in a) {
      // a failure must be the same failure
      expect("error" in b).toBe(true);
      expect((b as { error: Error }).error.message).toBe((a.error as Error).message);
      return;
    }
    // random types conflict often: after a few rounds the package may go to one thread
    expectSame(a, b, false, true);
  });
});

/**
 * Checks the csv job files of a package: every file that is not empty starts with a header of
 * distinct complete columns and holds records of the header's width, and every file has rows
 * unless it is the table's only file. Returns the files' ids (the `id` column) per file.
 */
function expectValidCsvFiles(result: NormalizeResult): string[][] {
  const jobs = result.package.listJobs("new_jobs");
  const ids: string[][] = [];
  for (const job of jobs) {
    expect(job.parsed.fileFormat).toBe("csv");
    if (statSync(job.path).size === 0) continue;
    const { header, records } = readCsv(job.path);
    const columns = result.schema.tables[job.parsed.tableName]?.columns ?? {};
    const complete = Object.keys(columns).filter((name) => columns[name]?.data_type !== undefined);
    // a worker lists the columns in the order its own schema has them
    expect(new Set(header).size).toBe(header.length);
    for (const name of header) expect(complete).toContain(name);
    for (const record of records) expect(record).toHaveLength(header.length);
    const sameTable = jobs.filter((j) => j.parsed.tableName === job.parsed.tableName);
    if (sameTable.length > 1) expect(records.length).toBeGreaterThan(0);
    const at = header.indexOf("id");
    ids.push(records.map((r) => String(r[at])));
  }
  return ids;
}

describe("normalizePackage in worker threads: csv job files", () => {
  it("should produce the rows and schema of one thread", async () => {
    const files = Array.from({ length: 7 }, (_, f) => ({ table: "issues", lines: lines(f * 300, 300, 100) }));
    const [a, b] = await both(files, undefined, 3, "csv");
    const result = expectSame(a, b);
    expect(result.rowCounts.issues).toBe(2100);
    if ("result" in b) {
      expect(b.result.package.listJobs("new_jobs").length).toBeGreaterThan(3);
      expectValidCsvFiles(b.result);
    }
    if ("result" in a) expectValidCsvFiles(a.result);
  });

  it("should start over from a conflicting file with the same rows, rotating on new columns", async () => {
    const files: FileSpec[] = [
      { table: "t", lines: [[{ id: 0, v: 1, w: "a" }]] },
      { table: "t", lines: [[{ id: 1, v: 1.5, w: 2 }]] },
      { table: "t", lines: [[{ id: 2, v: "x", w: true, z: { q: 1 } }]] },
      { table: "t", lines: [[{ id: 3, z: "flat", v: null }]] },
      { table: "t", lines: [[{ id: 4, v: 2.5, w: "b", z: { q: "s" } }]] },
    ];
    const [a, b] = await both(files, undefined, 4, "csv");
    expectSame(a, b);
    expect(debug.some((m) => m.includes("conflicts with the schema merged so far"))).toBe(true);
    if ("result" in b) expectValidCsvFiles(b.result);
  });

  it.each(["jsonl", "csv"] as const)(
    "should cut a %s job file back to the rows of merged files when a later file conflicts",
    async (format) => {
      // worker 0 gets files 0 and 2 and appends the rows of both to one job file of `t`; file 2 makes
      // `t__items.q` text while file 1 (worker 1) made it bigint: file 2 starts a new round, and the
      // job file of `t` is cut back to the rows of file 0 (its header kept)
      const item = (id: number, q?: unknown): Record<string, unknown> => ({
        id,
        name: `n${id}`,
        items: [{ a: id, ...(q === undefined ? {} : { q }) }],
      });
      const files: FileSpec[] = [
        { table: "t", lines: [[item(0), item(1), item(2)]] },
        { table: "t", lines: [[item(10, 5), item(11, 6)]] },
        { table: "t", lines: [[item(20, "x"), item(21, "y")]] },
        { table: "t", lines: [[item(30), item(31, 7)]] },
      ];
      const [a, b] = await both(files, undefined, 2, format);
      const result = expectSame(a, b);
      expect(debug.some((m) => m.includes("file 2 of load") && m.includes("conflicts"))).toBe(true);
      expect(Object.keys(result.schema.tables.t__items?.columns ?? {})).toContain("q__v_text");
      if (!("result" in b)) return;
      const files0 = b.result.package
        .listJobs("new_jobs")
        .filter((j) => j.parsed.tableName === "t")
        .map((j) =>
          format === "csv"
            ? readCsv(j.path).records.map((r) => r[0])
            : readFileSync(j.path, "utf8")
                .split("\n")
                .filter((l) => l.length > 0)
                .map((l) => String((JSON.parse(l) as { id: number }).id)),
        );
      // the cut file holds exactly the rows of file 0
      expect(files0).toContainEqual(["0", "1", "2"]);
      if (format === "csv") {
        const ids = expectValidCsvFiles(b.result);
        expect(ids).toContainEqual(["0", "1", "2"]);
      }
    },
  );

  it("should keep one job file per table for empty files, as one thread does", async () => {
    const schema = (): Schema => {
      const s = new Schema("shop");
      s.updateTable({
        name: "t",
        columns: {},
        write_disposition: "replace",
        "x-normalizer": { "seen-data": true },
      });
      s.updateTable({
        name: "e",
        columns: { id: { name: "id", data_type: "bigint" } },
        write_disposition: "append",
      });
      return s;
    };
    const files: FileSpec[] = [
      { table: "e", lines: [] },
      { table: "e", lines: [] },
      { table: "t", lines: [] },
      { table: "t", lines: [[{ id: 1 }]] },
      { table: "t", lines: [] },
    ];
    const [a, b] = await both(files, schema, 3, "csv");
    expectSame(a, b);
    if (!("result" in a) || !("result" in b)) return;
    const jobsOf = (r: NormalizeResult, table: string) =>
      r.package.listJobs("new_jobs").filter((j) => j.parsed.tableName === table);
    for (const r of [a.result, b.result]) {
      // `e`: one header-only file; `t`: one file with the row (the empty files are gone)
      const [e, ...moreE] = jobsOf(r, "e");
      expect(moreE).toEqual([]);
      expect(readFileSync(e?.path ?? "", "utf8")).toBe("id,_dlt_load_id,_dlt_id\n");
      const [t, ...moreT] = jobsOf(r, "t");
      expect(moreT).toEqual([]);
      expect(readCsv(t?.path ?? "").records).toHaveLength(1);
    }
  });

  it.each([1, 2, 3, 4, 5, 6])("should match one thread on random data (seed %i)", async (seed) => {
    const random = prng(seed);
    const files = Array.from({ length: 8 }, () => ({
      table: random() < 0.8 ? "t" : "u",
      lines: [Array.from({ length: 1 + Math.floor(random() * 6) }, () => randomItem(random))],
    }));
    const [a, b] = await both(files, undefined, 3, "csv");
    if ("error" in a) {
      expect("error" in b).toBe(true);
      expect((b as { error: Error }).error.message).toBe((a.error as Error).message);
      return;
    }
    expectSame(a, b, false, true);
    if ("result" in b) expectValidCsvFiles(b.result);
  });
});

describe("normalizePackage in worker threads, from the built package", () => {
  it("should resolve the worker next to dist/ as users run it, and let the process end on its own", () => {
    const loadId = "1700000000.654321";
    const files = Array.from({ length: 4 }, (_, f) => ({ table: "issues", lines: lines(f * 100, 100, 50) }));
    extracted(many, files, new Schema("shop"), loadId);
    // a plain Node process without the source condition: `@tsdlt/normalize` resolves to dist/index.js
    const script = `
      import { PackageStorage, defineCapabilities } from "@tsdlt/core";
      import { normalizePackage } from "@tsdlt/normalize";
      const [normalizeDir, loadDir, loadId] = process.argv.slice(1);
      const debug = [];
      const result = await normalizePackage({
        extracted: new PackageStorage(normalizeDir, "normalize").getPackage("extracted", loadId),
        loadStorage: new PackageStorage(loadDir, "load"),
        capabilities: defineCapabilities({ preferredLoaderFileFormat: "jsonl", supportedLoaderFileFormats: ["jsonl"] }),
        workers: 2,
        parallelMinBytes: 0,
        logger: { debug: (m) => debug.push(m), info() {}, warn() {}, error() {} },
      });
      console.log(JSON.stringify({ rowCounts: result.rowCounts, debug }));
    `;
    const child = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", script, many.normalizeStorage.root, many.loadStorage.root, loadId],
      { cwd: PACKAGE_DIR, encoding: "utf8", timeout: 60_000 },
    );
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    const out = JSON.parse(child.stdout) as { rowCounts: Record<string, number>; debug: string[] };
    expect(out.rowCounts).toMatchObject({ issues: 400, issues__labels: 800 });
    expect(out.debug.filter((m) => m.includes("one thread"))).toEqual([]);
    expect(many.loadStorage.getPackage("normalized", loadId)?.listJobs("new_jobs").length).toBeGreaterThan(2);
  }, 90_000);
});

describe("fastDigest128", () => {
  it("should equal dlt's digest128 for ASCII, non-ASCII, short and long texts", () => {
    const texts = ["", "a", "abc", "Zm9vYmFy_issues__labels_0", "żółw_ü_0", "😀", "x".repeat(166)];
    for (let n = 160; n <= 200; n++) texts.push("y".repeat(n));
    for (let i = 0; i < 500; i++) texts.push(`${digest128(String(i))}_table__nested_${i % 7}`);
    for (const text of texts) expect(fastDigest128(text)).toBe(digest128(text));
  });

  it("should equal node:crypto's SHAKE-128 (10 bytes, base64 without padding) for every length up to 200", () => {
    const random = prng(42);
    const shake = (text: string): string =>
      createHash("shake128", { outputLength: 10 }).update(text, "utf8").digest("base64").replace(/=+$/, "");
    for (let n = 0; n <= 200; n++) {
      for (let k = 0; k < 20; k++) {
        // printable ASCII, control characters and (now and then) a non-ASCII character
        const text = Array.from({ length: n }, () =>
          String.fromCharCode(
            random() < 0.01 ? 0x100 + Math.floor(random() * 0x2000) : Math.floor(random() * 0x80),
          ),
        ).join("");
        expect(fastDigest128(text)).toBe(shake(text));
      }
    }
  });
});
