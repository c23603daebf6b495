/**
 * `csv` job files (issue 12): a header line with the table's complete columns, then one record per
 * row; the same rows as `jsonl` job files hold. Files are read back with csv-parse, where an unquoted
 * empty field is NULL and a quoted one the empty string (as Postgres `COPY … NULL ''` and DuckDB
 * `read_csv(allow_quoted_nulls = false)` read them).
 */
import { readFileSync } from "node:fs";
import {
  type ColumnSchema,
  createLoadId,
  type DataType,
  DEFAULT_CAPABILITIES,
  defineCapabilities,
  isTsdltError,
  type NormalizeError,
  PUA_KINDS,
  PUA_START,
  parseJobFileName,
  Schema,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NormalizeOptions, type NormalizeResult, normalizePackage } from "../src/index.js";
import {
  createFixture,
  extractPackage,
  type Fixture,
  type JobSpec,
  jobFiles,
  readCsv,
  tableRows,
} from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

const pua = (kind: keyof typeof PUA_KINDS, body: string): string =>
  String.fromCharCode(PUA_START + PUA_KINDS[kind]) + body;

const IDS = new Set(["_dlt_id", "_dlt_parent_id", "_dlt_root_id"]);

type Options = Partial<Omit<NormalizeOptions, "extracted" | "loadStorage">>;

/** Normalizes `jobs` (from a fresh copy of `schema`) into `format` job files. */
async function normalizeAs(
  format: "jsonl" | "csv",
  jobs: readonly JobSpec[],
  schema: () => Schema = () => new Schema("shop"),
  options: Options = {},
  loadId: string = createLoadId(),
): Promise<NormalizeResult> {
  const extracted = extractPackage(fixture, jobs, schema(), loadId);
  return normalizePackage({
    extracted,
    loadStorage: fixture.loadStorage,
    capabilities: DEFAULT_CAPABILITIES,
    fileFormat: format,
    ...options,
  });
}

/** Rows of every table, without the random row ids, as sorted JSON texts. */
function content(result: NormalizeResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const table of Object.keys(result.rowCounts).sort()) {
    out[table] = tableRows(result.package, table, result.schema)
      .map((row) =>
        JSON.stringify(
          Object.fromEntries(
            Object.entries(row)
              .filter(([k]) => !IDS.has(k))
              .sort(([a], [b]) => (a < b ? -1 : 1)),
          ),
        ),
      )
      .sort();
  }
  return out;
}

/** Checks every csv job file of a package: a header of complete columns in schema order, full records. */
function expectValidCsvFiles(result: NormalizeResult): void {
  for (const job of result.package.listJobs("new_jobs")) {
    expect(job.parsed.fileFormat).toBe("csv");
    const text = readFileSync(job.path, "utf8");
    if (text.length === 0) continue;
    expect(text.endsWith("\n")).toBe(true);
    const { header, records } = readCsv(job.path);
    const columns = result.schema.tables[job.parsed.tableName]?.columns ?? {};
    const complete = Object.keys(columns).filter((name) => columns[name]?.data_type !== undefined);
    // the header lists complete columns in schema order (a later file may list more)
    expect(complete.filter((name) => header.includes(name))).toEqual(header);
    for (const record of records) expect(record).toHaveLength(header.length);
  }
}

/** Normalizes `jobs` as jsonl and as csv and expects the same rows, counts and schema. */
async function expectSameAsJsonl(
  jobs: readonly JobSpec[],
  schema?: () => Schema,
  options: Options = {},
): Promise<NormalizeResult> {
  const loadId = "1700000000.123456";
  const jsonl = await normalizeAs("jsonl", jobs, schema, options, loadId);
  const csv = await normalizeAs("csv", jobs, schema, options, "1700000000.654321");
  expect(csv.schema.toDict()).toEqual(jsonl.schema.toDict());
  expect(csv.rowCounts).toEqual(jsonl.rowCounts);
  expect(csv.schemaUpdate).toEqual(jsonl.schemaUpdate);
  const expected = content(jsonl);
  for (const rows of Object.values(expected)) {
    for (let i = 0; i < rows.length; i++) {
      rows[i] = (rows[i] as string).replaceAll("1700000000.123456", "1700000000.654321");
    }
  }
  expect(content(csv)).toEqual(expected);
  expectValidCsvFiles(csv);
  return csv;
}

function issue(i: number): Record<string, unknown> {
  return {
    id: i,
    title: i % 4 === 0 ? `issue, "${i}"` : `issue ${i}`,
    body: i % 3 === 0 ? "line one\nline two" : i % 3 === 1 ? "" : null,
    created_at: `2024-01-${String(1 + (i % 28)).padStart(2, "0")}T10:00:00Z`,
    closed_at: i % 3 === 0 ? "2024-02-01T00:00:00Z" : null,
    score: i % 2 === 0 ? i / 4 : i / 3,
    user: { login: `u${i % 5}`, id: i % 5, site_admin: i % 7 === 0 },
    labels: [
      { id: 1, name: "bug" },
      { id: 2, name: "p1", tags: i % 4 === 0 ? ["x", "y"] : [] },
    ],
    // a new column, and later a value of another type (a variant column), in the middle of the file
    ...(i >= 30 ? { milestone: i >= 60 ? `m${i}` : i } : {}),
    matrix: i % 5 === 0 ? [[1, 2], [3]] : undefined,
  };
}

describe("csv job files", () => {
  it("should hold the rows jsonl job files hold, with a header per file", async () => {
    // one job file: the order of files is random, and the first value of a column sets its type
    const jobs: JobSpec[] = [
      {
        table: "issues",
        batches: [
          Array.from({ length: 50 }, (_, i) => issue(i)),
          Array.from({ length: 50 }, (_, i) => issue(50 + i)),
        ],
      },
    ];
    const result = await expectSameAsJsonl(jobs);
    expect(result.rowCounts.issues).toBe(100);
    expect(Object.keys(result.schema.tables.issues?.columns ?? {})).toContain("milestone__v_text");
    expect(result.package.listJobs("new_jobs").every((j) => j.fileName.endsWith(".csv"))).toBe(true);
  });

  it("should write the csv the destinations read (quoting, NULL vs empty string)", async () => {
    const result = await normalizeAs("csv", [
      {
        table: "t",
        batches: [
          [
            { id: 1, s: "plain", n: 1.5, b: true },
            { id: 2, s: "", n: null, b: false },
            { id: 3, s: null },
          ],
        ],
      },
    ]);
    const [file] = jobFiles(result.package, "t");
    const lines = readFileSync(file ?? "", "utf8").split("\n");
    expect(lines[0]).toBe("id,s,n,b,_dlt_load_id,_dlt_id");
    const loadId = result.loadId;
    expect(lines[1]).toMatch(
      new RegExp(`^1,plain,1\\.5,true,${loadId.replace(".", "\\.")},[A-Za-z0-9+/_-]{14}$`),
    );
    expect(lines[2]).toMatch(new RegExp(`^2,"",,false,${loadId.replace(".", "\\.")},[A-Za-z0-9+/_-]{14}$`));
    expect(lines[3]).toMatch(new RegExp(`^3,,,,${loadId.replace(".", "\\.")},[A-Za-z0-9+/_-]{14}$`));
    expect(lines[4]).toBe("");
    expect(lines).toHaveLength(5);
  });

  it("should render every data type as its text, quoted when a reader could misread it", async () => {
    const types: Record<string, DataType> = {
      t: "text",
      i: "bigint",
      d: "double",
      f: "bool",
      ts: "timestamp",
      naive: "timestamp",
      day: "date",
      clock: "time",
      dec: "decimal",
      wei: "wei",
      j: "json",
      bin: "binary",
    };
    const schema = (): Schema => {
      const s = new Schema("shop");
      const columns: Record<string, ColumnSchema> = {};
      for (const [name, data_type] of Object.entries(types))
        columns[name] = { name, data_type, nullable: true };
      (columns.naive as ColumnSchema).timezone = false;
      s.updateTable({ name: "t", columns });
      return s;
    };
    const texts = [
      "a,b",
      'say "hi"',
      "line1\nline2",
      "cr\rhere",
      " leading",
      "trailing ",
      "\ttab",
      "\\.",
      "\\N",
      "back\\slash",
      "",
      "ünïcödé 😀",
      "1,5",
    ];
    const items: Record<string, unknown>[] = texts.map((t, k) => ({ k, t }));
    items.push(
      { k: 100, t: null, i: 2n ** 63n - 1n, d: 1e21, f: true, j: { a: [1, "x,y"], q: 'say "hi"' } },
      { k: 101, i: -(2n ** 63n), d: -0.5, f: false, j: '"a"' },
      { k: 102, i: 42, d: "NaN", f: "yes", j: [] },
      { k: 103, d: "-inf", j: {}, bin: new Uint8Array([1, 2, 255]) },
      {
        k: 104,
        ts: new Date("2024-03-04T05:06:07.890Z"),
        naive: "2024-03-04T05:06:07+02:00",
        day: pua("date", "2024-02-29"),
        clock: pua("time", "10:11:12.123456"),
        dec: pua("decimal", "-12.345"),
        wei: pua("wei", "1000000000000000000000"),
        bin: "0xdeadbeef",
      },
      { k: 105, ts: "2021-07-24 10:51", t: 5, dec: 1.25, wei: 7, bin: new Uint8Array([]) },
      // a text that reaches the column through coercion with JSON escapes (a uuid is decoded to text)
      { k: 106, t: pua("uuid", 'quote" back\\slash\nnl') },
    );
    const result = await normalizeAs("csv", [{ table: "t", batches: [items] }], schema);
    const [file] = jobFiles(result.package, "t");
    const { header, records } = readCsv(file ?? "");
    const byK = new Map(records.map((r) => [r[header.indexOf("k")], r]));
    const field = (k: number, column: string): string | null | undefined =>
      byK.get(String(k))?.[header.indexOf(column)];
    texts.forEach((t, k) => {
      expect(field(k, "t")).toBe(t);
    });
    expect(field(100, "t")).toBeNull();
    expect(field(100, "i")).toBe("9223372036854775807");
    expect(field(101, "i")).toBe("-9223372036854775808");
    expect(field(102, "i")).toBe("42");
    expect(field(100, "d")).toBe("1e+21");
    expect(field(101, "d")).toBe("-0.5");
    expect(field(102, "d")).toBe("NaN");
    expect(field(103, "d")).toBe("-Infinity");
    expect(field(100, "f")).toBe("true");
    expect(field(101, "f")).toBe("false");
    expect(field(102, "f")).toBe("true");
    expect(field(100, "j")).toBe('{"a":[1,"x,y"],"q":"say \\"hi\\""}');
    expect(field(101, "j")).toBe('"a"');
    expect(field(102, "j")).toBe("[]");
    expect(field(103, "j")).toBe("{}");
    expect(field(103, "bin")).toBe("\\x0102ff");
    expect(field(104, "bin")).toBe("\\xdeadbeef");
    expect(field(105, "bin")).toBe("\\x");
    expect(field(104, "ts")).toBe("2024-03-04T05:06:07.890Z");
    expect(field(105, "ts")).toBe("2021-07-24T10:51:00Z");
    expect(field(104, "naive")).toBe("2024-03-04T03:06:07");
    expect(field(104, "day")).toBe("2024-02-29");
    expect(field(104, "clock")).toBe("10:11:12.123456");
    expect(field(104, "dec")).toBe("-12.345");
    expect(field(105, "dec")).toBe("1.25");
    expect(field(104, "wei")).toBe("1000000000000000000000");
    expect(field(105, "wei")).toBe("7");
    expect(field(105, "t")).toBe("5");
    expect(field(106, "t")).toBe('quote" back\\slash\nnl');

    // the raw text: quoting by the contract's rule, json and binary always quoted
    const raw = readFileSync(file ?? "", "utf8");
    for (const quoted of [
      '"a,b"',
      '"say ""hi"""',
      '"line1\nline2"',
      '"cr\rhere"',
      '" leading"',
      '"trailing "',
      '"\ttab"',
      '"\\."',
      '"\\N"',
      '\n"",',
      '"1,5"',
      '"{""a"":[1,""x,y""],""q"":""say \\""hi\\""""}"',
      ',"""a""",',
      ',"[]",',
      ',"{}",',
      '"\\x0102ff"',
      '"\\x"',
      '"quote"" back\\slash\nnl"',
    ]) {
      expect(raw).toContain(quoted);
    }
    expect(raw).toContain("\nback\\slash,");
    expect(raw).toContain("\nünïcödé 😀,");
    expect(raw).toContain(",9223372036854775807,1e+21,true,");

    // and the same rows as jsonl
    fixture.cleanup();
    fixture = createFixture();
    await expectSameAsJsonl([{ table: "t", batches: [items] }], schema);
  });

  it("should start a new file with a wider header when a row brings a new column", async () => {
    const result = await normalizeAs("csv", [
      {
        table: "t",
        batches: [
          [
            { id: 1, a: "x" },
            { id: 2, a: "y", b: 5 },
            { id: 3, a: "z" },
            { id: 4, b: "oops" },
            { id: 5, a: "w" },
          ],
        ],
      },
    ]);
    const files = result.package
      .listJobs("new_jobs")
      .map((job) => readCsv(job.path))
      .sort((p, q) => p.header.length - q.header.length);
    expect(files.map((f) => f.header)).toEqual([
      ["id", "a", "_dlt_load_id", "_dlt_id"],
      ["id", "a", "_dlt_load_id", "_dlt_id", "b"],
      ["id", "a", "_dlt_load_id", "_dlt_id", "b", "b__v_text"],
    ]);
    expect(files.map((f) => f.records.map((r) => r.slice(0, 2)))).toEqual([
      [["1", "x"]],
      [
        ["2", "y"],
        ["3", "z"],
      ],
      [
        ["4", null],
        ["5", "w"],
      ],
    ]);
    expect(files[1]?.records[0]?.[4]).toBe("5");
    expect(files[1]?.records[1]?.[4]).toBeNull();
    expect(files[2]?.records[0]?.[5]).toBe("oops");
    expect(result.rowCounts.t).toBe(5);
  });

  it("should place fields that arrive out of header order", async () => {
    // `b` then `a` in the second row: the header order is the first row's
    const result = await expectSameAsJsonl([
      {
        table: "t",
        batches: [
          [
            { a: 1, b: "x", c: { d: 1 } },
            { b: "y", c: { d: 2 }, a: 2 },
            { c: { d: 3 }, b: null, a: 3 },
          ],
        ],
      },
    ]);
    const [file] = jobFiles(result.package, "t");
    const { header, records } = readCsv(file ?? "");
    expect(header.slice(0, 3)).toEqual(["a", "b", "c__d"]);
    expect(records.map((r) => r.slice(0, 3))).toEqual([
      ["1", "x", "1"],
      ["2", "y", "2"],
      ["3", null, "3"],
    ]);
  });

  it("should keep the later of two fields for one column, as a JSON line does", async () => {
    // `v: "x"` goes to the variant column `v__v_text`, which the row also has as a key of its own
    const result = await expectSameAsJsonl([
      {
        table: "t",
        batches: [
          [
            { id: 1, v: 1 },
            { id: 2, v: "x", v__v_text: "y" },
            { id: 3, v__v_text: "z", v: "w" },
          ],
        ],
      },
    ]);
    const rows = tableRows(result.package, "t", result.schema)
      .map((r) => [r.id, r.v, r.v__v_text])
      .sort((p, q) => Number(p[0]) - Number(q[0]));
    expect(rows).toEqual([
      [1, 1, undefined],
      [2, undefined, "y"],
      [3, undefined, "w"],
    ]);
  });

  it("should keep the header in every file rotated by fileMaxItems and fileMaxBytes", async () => {
    const items = Array.from({ length: 7 }, (_, i) => ({ id: i, name: `n${i}` }));
    const byItems = await expectSameAsJsonl([{ table: "t", batches: [items] }], undefined, {
      fileMaxItems: 3,
    });
    const files = jobFiles(byItems.package, "t").map(readCsv);
    expect(files.map((f) => f.records.length).sort()).toEqual([1, 3, 3]);
    for (const f of files) expect(f.header).toEqual(["id", "name", "_dlt_load_id", "_dlt_id"]);

    fixture.cleanup();
    fixture = createFixture();
    // the header counts: a file reaches 100 bytes with its header (28 bytes) and two rows (38 each)
    const byBytes = await expectSameAsJsonl([{ table: "t", batches: [items] }], undefined, {
      fileMaxBytes: 100,
    });
    const sized = jobFiles(byBytes.package, "t").map(readCsv);
    expect(sized.map((f) => f.records.length).sort()).toEqual([1, 2, 2, 2]);
    for (const f of sized) expect(f.header).toEqual(["id", "name", "_dlt_load_id", "_dlt_id"]);
  });

  it("should write a header-only file for an empty job, and an empty one without complete columns", async () => {
    const schema = (): Schema => {
      const s = new Schema("shop");
      s.updateTable({
        name: "users",
        write_disposition: "replace",
        columns: { id: { name: "id", data_type: "bigint", nullable: true } },
      });
      s.updateTable({
        name: "seen",
        write_disposition: "replace",
        columns: {},
        "x-normalizer": { "seen-data": true },
      });
      return s;
    };
    const result = await normalizeAs(
      "csv",
      [
        { table: "users", batches: [] },
        { table: "seen", batches: [] },
      ],
      schema,
    );
    const [users] = jobFiles(result.package, "users");
    expect(readFileSync(users ?? "", "utf8")).toBe("id,_dlt_load_id,_dlt_id\n");
    const [seen] = jobFiles(result.package, "seen");
    expect(readFileSync(seen ?? "", "utf8")).toBe("");
    expect(result.rowCounts).toEqual({ users: 0, seen: 0 });
  });

  it("should drop a header-only file that rotates when rows with more columns follow", async () => {
    const schema = (): Schema => {
      const s = new Schema("shop");
      s.updateTable({
        name: "t",
        write_disposition: "replace",
        columns: { id: { name: "id", data_type: "bigint", nullable: true } },
        "x-normalizer": { "seen-data": true },
      });
      return s;
    };
    const result = await expectSameAsJsonl(
      [
        { table: "t", batches: [] },
        { table: "t", batches: [[{ id: 1, extra: "x" }]] },
      ],
      schema,
    );
    const files = jobFiles(result.package, "t");
    expect(files).toHaveLength(1);
    expect(readCsv(files[0] ?? "").header).toEqual(["id", "extra", "_dlt_load_id", "_dlt_id"]);
  });

  it("should write variant columns and nested tables of relational_no_coercion as jsonl does", async () => {
    const schema = (): Schema => {
      const s = new Schema("shop");
      s.normalizers.json = { module: "dlt.common.normalizers.json.relational_no_coercion" };
      return s;
    };
    const items = [
      { id: 1, v: 1, w: "plain", list: [1, 2] },
      { id: 2, v: "7", w: 5, list: ["a", { x: 1 }] },
      { id: 3, v: 2.5, w: true, list: [] },
    ];
    const result = await expectSameAsJsonl([{ table: "t", batches: [items] }], schema);
    expect(Object.keys(result.schema.tables.t?.columns ?? {})).toEqual(
      expect.arrayContaining(["v__v_text", "v__v_double", "w__v_bigint", "w__v_bool"]),
    );
    expect(Object.keys(result.schema.tables.t__list?.columns ?? {})).toContain("value__v_text");
  });

  it("should write csv when the destination prefers it and no format is given", async () => {
    const extracted = extractPackage(fixture, [{ table: "t", batches: [[{ id: 1 }]] }]);
    const result = await normalizePackage({
      extracted,
      loadStorage: fixture.loadStorage,
      capabilities: defineCapabilities({
        preferredLoaderFileFormat: "csv",
        supportedLoaderFileFormats: ["csv", "jsonl"],
      }),
    });
    const jobs = result.package.listJobs("new_jobs");
    expect(jobs.map((j) => parseJobFileName(j.fileName).fileFormat)).toEqual(["csv"]);
    expect(tableRows(result.package, "t", result.schema)).toEqual([
      expect.objectContaining({ id: 1, _dlt_load_id: result.loadId }),
    ]);
  });

  it("should refuse csv when the destination does not support it, and other formats", async () => {
    const extracted = extractPackage(fixture, [{ table: "t", batches: [[{ id: 1 }]] }]);
    const refuse = (options: Options): Promise<unknown> =>
      normalizePackage({
        extracted,
        loadStorage: fixture.loadStorage,
        capabilities: DEFAULT_CAPABILITIES,
        ...options,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
    const unsupported = await refuse({
      fileFormat: "csv",
      capabilities: defineCapabilities({ supportedLoaderFileFormats: ["jsonl"] }),
    });
    expect(isTsdltError(unsupported, "INVALID_ARGUMENT")).toBe(true);
    expect((unsupported as Error).message).toContain("`csv`");
    const parquet = await refuse({ fileFormat: "parquet" });
    expect(isTsdltError(parquet, "NOT_IMPLEMENTED")).toBe(true);
    expect((parquet as NormalizeError).message).toBe(
      'Loader file format `parquet` is not implemented by normalize; it writes `jsonl` and `csv` job files. Pass `fileFormat: "jsonl"` or `fileFormat: "csv"` (the destination must support it).',
    );
    const preferred = await refuse({
      capabilities: defineCapabilities({ preferredLoaderFileFormat: "insert_values" }),
    });
    expect(isTsdltError(preferred, "NOT_IMPLEMENTED")).toBe(true);
    expect((preferred as Error).message).toContain(
      "`insert_values` (the destination's `preferredLoaderFileFormat`)",
    );
  });
});
