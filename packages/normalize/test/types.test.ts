import {
  type ColumnSchema,
  isTsdltError,
  type NormalizeError,
  PUA_KINDS,
  PUA_START,
  Schema,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { columnNames, createFixture, type Fixture, normalize, rawLines, rows } from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

const pua = (kind: keyof typeof PUA_KINDS, body: string): string =>
  String.fromCharCode(PUA_START + PUA_KINDS[kind]) + body;

function schemaWith(columns: Record<string, ColumnSchema>, configure?: (s: Schema) => void): Schema {
  const schema = new Schema("shop");
  const named: Record<string, ColumnSchema> = {};
  for (const [name, column] of Object.entries(columns)) named[name] = { name, nullable: true, ...column };
  schema.updateTable({ name: "t", columns: named });
  configure?.(schema);
  return schema;
}

describe("type inference", () => {
  it("should infer a data type per kind of value", async () => {
    const item = {
      int: 5,
      float: 1.5,
      bool: true,
      text: "hello",
      iso: "2022-06-01T00:48:35.040Z",
      iso_space: "2021-07-24 10:51",
      iso_naive: "2024-01-01T10:00",
      date_text: "1975-05-21",
      time_text: "22:00:00",
      bad_hour: "1975-05-01T27:00:00Z",
      big: 2n ** 60n,
      int64_max: 2n ** 63n - 1n,
      int64_min: -(2n ** 63n),
      when: new Date("2024-03-04T05:06:07.890Z"),
      bytes: new Uint8Array([1, 2, 255]),
      dec: pua("decimal", "12.345"),
      day: pua("date", "2024-02-29"),
      clock: pua("time", "10:11:12.123456"),
      wei: pua("wei", "1000000000000000000000"),
      uuid: pua("uuid", "6e1f5d36-3f2b-4b8c-9b7e-2c1d0f8a9b3c"),
      precise: pua("datetime", "2024-01-01T10:00:00.123456+02:00"),
    };
    const result = await normalize(fixture, [{ table: "t", batches: [[item]] }]);
    const types = Object.fromEntries(
      Object.entries(result.schema.tables.t?.columns ?? {}).map(([name, c]) => [name, c.data_type]),
    );
    expect(types).toEqual({
      int: "bigint",
      float: "double",
      bool: "bool",
      text: "text",
      iso: "timestamp",
      iso_space: "timestamp",
      iso_naive: "timestamp",
      date_text: "text",
      time_text: "text",
      bad_hour: "text",
      big: "bigint",
      int64_max: "bigint",
      int64_min: "bigint",
      when: "timestamp",
      bytes: "binary",
      dec: "decimal",
      day: "date",
      clock: "time",
      wei: "wei",
      uuid: "text",
      precise: "timestamp",
      _dlt_load_id: "text",
      _dlt_id: "text",
    });
    const [row] = rows(result.package, "t");
    expect(row).toMatchObject({
      int: 5,
      float: 1.5,
      bool: true,
      iso: "2022-06-01T00:48:35.040Z",
      iso_space: "2021-07-24T10:51:00Z",
      iso_naive: "2024-01-01T10:00:00Z",
      date_text: "1975-05-21",
      when: "2024-03-04T05:06:07.890Z",
      bytes: Buffer.from([1, 2, 255]).toString("base64"),
      dec: "12.345",
      day: "2024-02-29",
      clock: "10:11:12.123456",
      wei: "1000000000000000000000",
      uuid: "6e1f5d36-3f2b-4b8c-9b7e-2c1d0f8a9b3c",
      precise: "2024-01-01T08:00:00.123456Z",
    });
    // bigints beyond 2^53 are written as exact digits, never as floats
    const [line] = rawLines(result.package, "t");
    expect(line).toContain('"big":1152921504606846976,');
    expect(line).toContain('"int64_max":9223372036854775807,');
    expect(line).toContain('"int64_min":-9223372036854775808,');
  });

  it("should apply opt-in detections and preferred types", async () => {
    const schema = new Schema("shop");
    schema.settings.detections = ["iso_timestamp", "iso_date", "large_integer", "timestamp"];
    schema.settings.preferred_types = { "re:_at$": "timestamp", amount: "double", "re:^code": "text" };
    const now = Math.floor(Date.now() / 1000);
    const item = {
      day: "1975-05-21",
      slash: "1975/05/01",
      huge: 2n ** 64n,
      giant: 10n ** 40n,
      // dlt's large_integer detection looks at the positive side only
      negative: -(2n ** 63n),
      seen: now,
      old: 5,
      updated_at: 0,
      amount: 3,
      code_x: 5,
    };
    const result = await normalize(fixture, [{ table: "t", batches: [[item]] }], schema);
    const columns = result.schema.tables.t?.columns ?? {};
    expect(columns.day?.data_type).toBe("date");
    expect(columns.slash?.data_type).toBe("date");
    expect(columns.huge?.data_type).toBe("wei");
    expect(columns.giant?.data_type).toBe("text");
    expect(columns.negative?.data_type).toBe("bigint");
    expect(columns.seen?.data_type).toBe("timestamp");
    expect(columns.old?.data_type).toBe("bigint");
    expect(columns.updated_at?.data_type).toBe("timestamp");
    expect(columns.amount?.data_type).toBe("double");
    expect(columns.code_x?.data_type).toBe("text");
    expect(rows(result.package, "t")[0]).toMatchObject({
      day: "1975-05-21",
      slash: "1975-05-01",
      huge: (2n ** 64n).toString(),
      giant: (10n ** 40n).toString(),
      seen: new Date(now * 1000).toISOString().replace(".000", ""),
      updated_at: "1970-01-01T00:00:00Z",
      amount: 3,
      code_x: "5",
    });
  });

  it("should add default hints to new columns", async () => {
    const schema = new Schema("shop");
    schema.settings.default_hints = {
      ...schema.settings.default_hints,
      partition: ["re:^day"],
      not_null: ["id"],
    };
    const result = await normalize(fixture, [{ table: "t", batches: [[{ id: 1, day_x: "a" }]] }], schema);
    expect(result.schema.tables.t?.columns.id).toEqual({ name: "id", data_type: "bigint", nullable: false });
    expect(result.schema.tables.t?.columns.day_x).toEqual({
      name: "day_x",
      data_type: "text",
      nullable: true,
      partition: true,
    });
    // `_dlt_id` is no longer not-null here: hints come from the schema's settings
    expect(result.schema.tables.t?.columns._dlt_id).toEqual({
      name: "_dlt_id",
      data_type: "text",
      nullable: true,
      unique: true,
      row_key: true,
    });
  });

  it("should merge declared hints into an incomplete column", async () => {
    const schema = schemaWith({ id: { primary_key: true, nullable: false, description: "the id" } });
    const result = await normalize(fixture, [{ table: "t", batches: [[{ id: 7 }]] }], schema);
    expect(result.schema.tables.t?.columns.id).toEqual({
      name: "id",
      nullable: false,
      primary_key: true,
      description: "the id",
      data_type: "bigint",
    });
    expect(result.schemaUpdate.t?.columns.id?.data_type).toBe("bigint");
  });
});

describe("coercion into existing columns", () => {
  it("should coerce values into declared column types", async () => {
    const schema = schemaWith({
      count: { data_type: "bigint" },
      label: { data_type: "text" },
      ratio: { data_type: "double" },
      flag: { data_type: "bool" },
      ts: { data_type: "timestamp" },
      naive_ts: { data_type: "timestamp", timezone: false },
      ns_ts: { data_type: "timestamp", precision: 9 },
      day: { data_type: "date" },
      clock: { data_type: "time" },
      doc: { data_type: "json" },
      blob: { data_type: "binary" },
      price: { data_type: "decimal" },
    });
    const items = [
      {
        count: "5",
        label: 5,
        ratio: "1.5",
        flag: "yes",
        ts: 0,
        naive_ts: "2024-01-01T10:00:00.5+02:00",
        ns_ts: "2024-01-01T10:00:00.123456789Z",
        day: "2024-01-01T23:30:00-02:00",
        clock: "10:11",
        doc: '{"a":[1,2]}',
        blob: "0x0102",
        price: "12.50",
      },
      {
        count: 2.5 * 2,
        label: true,
        ratio: 7,
        flag: "0",
        ts: "2024-01-01",
        naive_ts: pua("datetime", "2024-06-01T00:00:00"),
        ns_ts: 1.5,
        day: 86400,
        clock: pua("time", "23:59:59"),
        doc: "[1]",
        blob: "AQI=",
        price: 3,
      },
      {
        count: " 0x10 ",
        label: 1.25,
        ratio: "nan",
        flag: 0,
        ts: "2024-01-01T10:00:00.1234567+01:00",
        naive_ts: 1700000000,
        ns_ts: "2024-01-01 00:00",
        day: pua("date", "2020-02-02"),
        clock: "08:00:00.5",
        doc: { kept: true },
        blob: new Uint8Array([7]),
        price: pua("decimal", "1E+2"),
      },
    ];
    const result = await normalize(fixture, [{ table: "t", batches: [items] }], schema);
    // all values fitted: no variant columns
    expect(columnNames(result.schema, "t").filter((c) => c.includes("__v_"))).toEqual([]);
    const out = rows(result.package, "t");
    expect(out[0]).toMatchObject({
      count: 5,
      label: "5",
      ratio: 1.5,
      flag: true,
      ts: "1970-01-01T00:00:00Z",
      naive_ts: "2024-01-01T08:00:00.5",
      ns_ts: "2024-01-01T10:00:00.123456789Z",
      day: "2024-01-02",
      clock: "10:11:00",
      doc: { a: [1, 2] },
      blob: "AQI=",
      price: "12.50",
    });
    expect(out[1]).toMatchObject({
      count: 5,
      label: "True",
      ratio: 7,
      flag: false,
      ts: "2024-01-01T00:00:00Z",
      naive_ts: "2024-06-01T00:00:00",
      ns_ts: "1970-01-01T00:00:01.500000Z",
      day: "1970-01-02",
      clock: "23:59:59",
      doc: [1],
      blob: "AQI=",
      price: "3",
    });
    expect(out[2]).toMatchObject({
      count: 16,
      label: "1.25",
      ratio: "NaN",
      flag: false,
      ts: "2024-01-01T09:00:00.123456Z",
      naive_ts: "2023-11-14T22:13:20",
      ns_ts: "2024-01-01T00:00:00Z",
      day: "2020-02-02",
      clock: "08:00:00.5",
      doc: { kept: true },
      blob: "Bw==",
      price: "1E+2",
    });
  });

  it("should write non-finite doubles as strings DuckDB reads as DOUBLE", async () => {
    const schema = schemaWith({ x: { data_type: "double" } });
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ x: "inf" }, { x: "-Infinity" }, { x: "NaN" }, { x: 0.25 }]] }],
      schema,
    );
    expect(rawLines(result.package, "t").map((l) => l.slice(0, l.indexOf(',"_dlt')))).toEqual([
      '{"x":"Infinity"',
      '{"x":"-Infinity"',
      '{"x":"NaN"',
      '{"x":0.25',
    ]);
  });

  it("should create variant columns for values that cannot be coerced", async () => {
    const result = await normalize(fixture, [
      {
        table: "t",
        batches: [
          [
            { id: 1, amount: 10, flag: true, doc: "plain" },
            { id: "idx-nr-456", amount: 1.5, flag: "maybe", doc: { a: 1 } },
            { id: "2", amount: 2.0, flag: "no" },
            { id: "other", amount: 2.5 },
          ],
        ],
      },
    ]);
    const columns = result.schema.tables.t?.columns ?? {};
    expect(columnNames(result.schema, "t")).toEqual([
      "id",
      "amount",
      "flag",
      "doc",
      "_dlt_load_id",
      "_dlt_id",
      "id__v_text",
      "amount__v_double",
      "flag__v_text",
      "doc__a",
    ]);
    expect(columns.id__v_text).toEqual({
      name: "id__v_text",
      data_type: "text",
      nullable: true,
      variant: true,
    });
    expect(columns.amount__v_double).toEqual({
      name: "amount__v_double",
      data_type: "double",
      nullable: true,
      variant: true,
    });
    // a dict under a text column is flattened (only kept json values go through coercion)
    expect(columns.doc__v_json).toBeUndefined();
    const out = rows(result.package, "t");
    expect(out[1]).toMatchObject({ id__v_text: "idx-nr-456", amount__v_double: 1.5, flag__v_text: "maybe" });
    expect(out[1]?.id).toBeUndefined();
    expect(out[2]).toMatchObject({ id: 2, amount: 2, flag: false });
    expect(out[3]).toMatchObject({ id__v_text: "other", amount__v_double: 2.5 });
  });

  it("should fail when a value fits neither the column nor its variant", async () => {
    const schema = schemaWith({
      n: { data_type: "bigint" },
      n__v_text: { data_type: "timestamp", variant: true },
    });
    const error = await normalize(fixture, [{ table: "t", batches: [[{ n: "not a number" }]] }], schema).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTsdltError(error, "CANNOT_COERCE_COLUMN")).toBe(true);
    expect((error as NormalizeError).table).toBe("t");
    expect((error as NormalizeError).column).toBe("n__v_text");
  });

  it.each([
    ["2^63 into a new column", {}, 2n ** 63n, []],
    ["-2^63-1 into a new column", {}, -(2n ** 63n) - 1n, []],
    ["an integral number beyond int64", {}, 1e30, []],
    ["2^64 into a bigint column", { n: { data_type: "bigint" } }, 2n ** 64n, ["large_integer"]],
    ["-2^64 with the large_integer detection (positive side only)", {}, -(2n ** 64n), ["large_integer"]],
  ] as const)(
    "should fail on %s, naming table, column and value",
    async (_title, columns, value, detections) => {
      const schema = schemaWith(columns as Record<string, ColumnSchema>, (s) => {
        s.settings.detections = ["iso_timestamp", ...detections];
      });
      const error = await normalize(fixture, [{ table: "t", batches: [[{ id: 1, n: value }]] }], schema).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTsdltError(error, "CANNOT_COERCE_COLUMN")).toBe(true);
      expect(error).toMatchObject({ table: "t", column: "n" });
      // the value as sent: digits for a bigint, JSON for a number
      expect((error as Error).message).toContain(
        `The integer ${String(value)} for column \`n\` of table \`t\``,
      );
      expect((error as Error).message).toContain("`bigint`");
      // nothing is left in the load storage
      expect(fixture.loadStorage.listPackages("normalized")).toEqual([]);
    },
  );

  it("should put integers beyond int64 into declared text, decimal and double columns", async () => {
    const schema = schemaWith({
      t: { data_type: "text" },
      d: { data_type: "decimal" },
      f: { data_type: "double" },
      s: { data_type: "bigint" },
    });
    const big = 2n ** 63n;
    const result = await normalize(
      fixture,
      [{ table: "t", batches: [[{ t: big, d: -big - 1n, f: big, s: "99999999999999999999" }]] }],
      schema,
    );
    const [line] = rawLines(result.package, "t");
    expect(line).toContain('"t":"9223372036854775808"');
    expect(line).toContain('"d":"-9223372036854775809"');
    expect(line).toContain('"f":9223372036854776000');
    // a numeric text beyond int64 does not fit the bigint column: it keeps its text in a variant
    expect(line).toContain('"s__v_text":"99999999999999999999"');
  });

  it("should coerce nested values of json columns to plain JSON", async () => {
    // with the nesting budget exhausted, dicts are json values; into a text column they become JSON text
    const schema = schemaWith({ doc: { data_type: "json" }, txt: { data_type: "text" } }, (s) => {
      s.normalizers.json.config = { max_nesting: 0 };
    });
    const result = await normalize(
      fixture,
      [
        {
          table: "t",
          batches: [[{ doc: { at: new Date("2024-01-01T00:00:00Z"), n: 2n ** 62n }, txt: { a: [1] } }]],
        },
      ],
      schema,
    );
    const [line] = rawLines(result.package, "t");
    expect(line).toContain(`"doc":{"at":"2024-01-01T00:00:00.000Z","n":${(2n ** 62n).toString()}}`);
    expect(line).toContain('"txt":"{\\"a\\":[1]}"');
  });
});
