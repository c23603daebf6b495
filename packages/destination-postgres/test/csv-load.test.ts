/**
 * The header side of the `csv` job file load path (issue 12): parsing the header record, reading it
 * from a file with a bounded read, checking it against the table, and the `COPY` statement it makes.
 * Loading the files into a real server is in `postgres-client.integration.test.ts`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { TableSchema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CsvHeaderError, csvCopySql, parseCsvRecord, postgresDialect, readCsvHeader } from "../src/index.js";

function table(): TableSchema {
  return {
    name: "Events",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: false },
      name: { name: "name", data_type: "text" },
      'odd, "one"': { name: 'odd, "one"', data_type: "text" },
      pending: { name: "pending" },
    },
  };
}

describe("parseCsvRecord", () => {
  it("should split plain and quoted names, doubled quotes standing for one", () => {
    expect(parseCsvRecord('id,"name","odd, ""one""",x\n1,2\n')).toEqual({
      fields: ["id", "name", 'odd, "one"', "x"],
      end: 27,
    });
    expect(parseCsvRecord('"a\nb",c\r\nrest')).toEqual({ fields: ["a\nb", "c"], end: 9 });
    expect(parseCsvRecord(",\n")).toEqual({ fields: ["", ""], end: 2 });
  });

  it("should ask for more input until the record ends, unless the input is final", () => {
    expect(parseCsvRecord("id,na")).toBeUndefined();
    expect(parseCsvRecord('id,"na')).toBeUndefined();
    // a closing quote at the end may be the first of a doubled quote
    expect(parseCsvRecord('id,"na"')).toBeUndefined();
    // `\r` may be followed by `\n`
    expect(parseCsvRecord("id\r")).toBeUndefined();
    expect(parseCsvRecord('id,"na"', true)).toEqual({ fields: ["id", "na"], end: 7 });
    expect(parseCsvRecord("id,name", true)).toEqual({ fields: ["id", "name"], end: 7 });
  });

  it("should reject a malformed header", () => {
    expect(() => parseCsvRecord('id,"na', true)).toThrow(
      "the header line of the csv job file is malformed: it ends inside a quoted column name",
    );
    expect(() => parseCsvRecord('"id"x,name\n')).toThrow(CsvHeaderError);
    expect(() => parseCsvRecord('id,na"me\n')).toThrow(/a quote inside the unquoted column name `na`/);
  });
});

describe("readCsvHeader", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsdlt-csvpg-header-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(content: string | Buffer): Promise<string> {
    const path = join(dir, `t.${Math.random().toString(36).slice(2)}.0.csv`);
    await writeFile(path, content);
    return path;
  }

  it("should read nothing from an empty file", async () => {
    expect(await readCsvHeader(await file(""))).toBeUndefined();
  });

  it("should tell header-only files from files with rows", async () => {
    expect(await readCsvHeader(await file("id,name\n"))).toEqual({
      columns: ["id", "name"],
      headerOnly: true,
    });
    expect(await readCsvHeader(await file("id,name"))).toEqual({ columns: ["id", "name"], headerOnly: true });
    expect(await readCsvHeader(await file("id,name\n1,a\n"))).toEqual({
      columns: ["id", "name"],
      headerOnly: false,
    });
    expect(await readCsvHeader(await file(gzipSync('id,"name"\n1,a\n')))).toEqual({
      columns: ["id", "name"],
      headerOnly: false,
    });
  });

  it("should find a header line that spans several reads, and the rows after it", async () => {
    const names = Array.from({ length: 1600 }, (_, i) => `"column, number ${i}"`);
    const header = await readCsvHeader(await file(`${names.join(",")}\n1\n`));
    expect(header?.columns).toHaveLength(1600);
    expect(header?.columns[1599]).toBe("column, number 1599");
    expect(header?.headerOnly).toBe(false);
    // rows start right at a read boundary (16 KiB)
    const exact = `${"a".repeat(16 * 1024 - 1)}\n`;
    expect(await readCsvHeader(await file(exact))).toMatchObject({ headerOnly: true });
    expect(await readCsvHeader(await file(`${exact}1\n`))).toMatchObject({ headerOnly: false });
  });

  it("should stop reading a header line longer than 1 MiB", async () => {
    await expect(readCsvHeader(await file(`"${"x".repeat(2 * 1024 * 1024)}`))).rejects.toThrow(
      /the header line of the csv job file is malformed: it is longer than 1048576 bytes/,
    );
  });
});

describe("csvCopySql", () => {
  it("should COPY the header's columns in file order, with the header skipped and NULL as an empty field", () => {
    expect(
      csvCopySql(postgresDialect, "My_Data", table(), {
        columns: ['odd, "one"', "name", "id"],
        headerOnly: false,
      }),
    ).toBe(
      `COPY "my_data"."events" ("odd, ""one""", "name", "id") FROM STDIN WITH (FORMAT csv, HEADER true, NULL '', ENCODING 'UTF8')`,
    );
  });
});
