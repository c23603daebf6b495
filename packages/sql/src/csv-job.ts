/**
 * What SQL destinations need of normalize's `csv` job files: the header line (the file's columns, in
 * order) and a check that it fits the table. The rows themselves go to the database's own CSV reader
 * unchanged (DuckDB `read_csv`, Postgres `COPY ... FORMAT csv`).
 *
 * The file contract: a header line of column names, then one record per row in header order; an
 * unquoted empty field is NULL and `""` the empty string; `json` as quoted JSON text, `binary` as
 * `\x` + hex. A file with no header (0 bytes) holds no rows.
 */
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { isCompleteColumn, isGzipFile, type TableSchema } from "@tsdlt/core";
import { parse } from "csv-parse/sync";

/** Most bytes a header line may take (Postgres tables hold at most 1,600 columns). */
export const MAX_CSV_HEADER_BYTES: number = 2 ** 20;

/**
 * The column names in the header line of the csv job file at `path` (gunzipped when compressed),
 * reading no more than the header; an empty list for an empty file.
 *
 * @throws Error when the header line is longer than {@link MAX_CSV_HEADER_BYTES} or not one CSV record
 */
export async function readCsvHeader(path: string): Promise<string[]> {
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  const stream = (await isGzipFile(path)) ? file.pipe(createGunzip()) : file;
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const newline = chunk.indexOf(0x0a);
      chunks.push(newline >= 0 ? chunk.subarray(0, newline) : chunk);
      bytes += newline >= 0 ? newline : chunk.length;
      if (bytes > MAX_CSV_HEADER_BYTES) {
        throw new Error(
          `the header line is longer than ${MAX_CSV_HEADER_BYTES} bytes (is it a csv job file?)`,
        );
      }
      if (newline >= 0) break;
    }
  } finally {
    file.destroy();
    stream.destroy();
  }
  const line = Buffer.concat(chunks).toString("utf8");
  if (line.length === 0) return [];
  let records: string[][];
  try {
    records = parse(line) as string[][];
  } catch (cause) {
    throw new Error(`the header line is not a CSV record: ${(cause as Error).message}`, { cause });
  }
  const [header] = records;
  if (records.length !== 1 || header === undefined) throw new Error("the header line is not one CSV record");
  return header;
}

/**
 * Why a csv file with `header` cannot load into `table`, if it cannot: a column the table lacks, one
 * without a data type yet, or one named twice.
 */
export function csvHeaderProblem(table: TableSchema, header: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const name of header) {
    const column = Object.hasOwn(table.columns, name) ? table.columns[name] : undefined;
    if (column === undefined)
      return `its header names column \`${name}\`, which table \`${table.name}\` does not have`;
    if (!isCompleteColumn(column)) {
      return `its header names column \`${name}\`, which has no data type in table \`${table.name}\` yet`;
    }
    if (seen.has(name)) return `its header names column \`${name}\` twice`;
    seen.add(name);
  }
  return undefined;
}

/**
 * The header of the csv job file at `path`, checked against `table` (see {@link csvHeaderProblem}):
 * the columns the file loads, in file order; an empty list for an empty file.
 *
 * @throws Error naming why the file cannot load into `table` (unreadable header, or a column at fault)
 */
export async function readCsvJobHeader(path: string, table: TableSchema): Promise<string[]> {
  const header = await readCsvHeader(path);
  const problem = header.length === 0 ? undefined : csvHeaderProblem(table, header);
  if (problem !== undefined) throw new Error(problem);
  return header;
}
