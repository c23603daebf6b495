/**
 * The header side of normalize's `csv` job files, shared by the SQL destinations: reading the header
 * line from a file (plain or gzip, quoted names, bounded) and checking it against the table.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { TableSchema } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { csvHeaderProblem, MAX_CSV_HEADER_BYTES, readCsvHeader } from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsdlt-csv-header-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(content: string | Buffer): Promise<string> {
  const path = join(dir, `t.${Math.random().toString(36).slice(2)}.0.csv`);
  await writeFile(path, content);
  return path;
}

describe("readCsvHeader", () => {
  it("reads nothing from an empty file and the names of a header, quoted or not", async () => {
    expect(await readCsvHeader(await file(""))).toEqual([]);
    expect(await readCsvHeader(await file("id,name\n1,a\n"))).toEqual(["id", "name"]);
    expect(await readCsvHeader(await file("id,name"))).toEqual(["id", "name"]);
    expect(await readCsvHeader(await file('id,"odd, ""one""",x\n1,2,3\n'))).toEqual([
      "id",
      'odd, "one"',
      "x",
    ]);
    expect(await readCsvHeader(await file(gzipSync('id,"name"\n1,a\n')))).toEqual(["id", "name"]);
  });

  it("finds a header line that spans several reads", async () => {
    const names = Array.from({ length: 1600 }, (_, i) => `"column, number ${i}"`);
    const header = await readCsvHeader(await file(`${names.join(",")}\n1\n`));
    expect(header).toHaveLength(1600);
    expect(header[1599]).toBe("column, number 1599");
  });

  it("rejects a header that is too long or not a CSV record", async () => {
    await expect(readCsvHeader(await file(`"${"x".repeat(2 * MAX_CSV_HEADER_BYTES)}`))).rejects.toThrow(
      `the header line is longer than ${MAX_CSV_HEADER_BYTES} bytes`,
    );
    await expect(readCsvHeader(await file('"id"x,name\n1,2\n'))).rejects.toThrow(
      /the header line is not a CSV record/,
    );
  });
});

describe("csvHeaderProblem", () => {
  const table: TableSchema = {
    name: "events",
    columns: {
      id: { name: "id", data_type: "bigint" },
      name: { name: "name", data_type: "text" },
      pending: { name: "pending" },
    },
  };

  it("accepts complete columns in any order and names the column at fault otherwise", () => {
    expect(csvHeaderProblem(table, ["name", "id"])).toBeUndefined();
    expect(csvHeaderProblem(table, ["id", "nick"])).toBe(
      "its header names column `nick`, which table `events` does not have",
    );
    expect(csvHeaderProblem(table, ["pending"])).toBe(
      "its header names column `pending`, which has no data type in table `events` yet",
    );
    expect(csvHeaderProblem(table, ["id", "id"])).toBe("its header names column `id` twice");
    expect(csvHeaderProblem(table, ["toString"])).toBe(
      "its header names column `toString`, which table `events` does not have",
    );
  });
});
