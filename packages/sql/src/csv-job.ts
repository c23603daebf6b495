/**
 * What SQL destinations need of normalize's `csv` job files: the header line (the file's columns, in
 * order) and a check that it names only complete columns of the table. The rows themselves go to the
 * database's own CSV reader unchanged (DuckDB `read_csv`, Postgres `COPY ... FORMAT csv`).
 *
 * The file contract: a header line of column names, then one record per row in header order; an
 * unquoted empty field is NULL and `""` the empty string; `json` as quoted JSON text, `binary` as
 * `\x` + hex. A file with no header (0 bytes) holds no rows.
 */
import { open } from "node:fs/promises";
import { type CompleteColumnSchema, isCompleteColumn, type TableSchema } from "@tsdlt/core";
import { parse } from "csv-parse/sync";

/** Largest header read, in bytes: a line longer than this is not a header normalize wrote. */
const MAX_HEADER_BYTES = 16 * 2 ** 20;

/**
 * The column names in the header line of the csv job file at `path`; an empty list for an empty
 * file. Reads only the header.
 *
 * @throws Error when the first line is longer than 16 MiB or is not a CSV record.
 */
export async function readCsvHeader(path: string): Promise<string[]> {
  const handle = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, total);
      const chunk = buffer.subarray(0, bytesRead);
      const newline = chunk.indexOf(0x0a);
      chunks.push(newline >= 0 ? chunk.subarray(0, newline) : chunk);
      total += bytesRead;
      if (newline >= 0 || bytesRead === 0) break;
      if (total > MAX_HEADER_BYTES) {
        throw new Error(`the first line is longer than ${MAX_HEADER_BYTES} bytes, so it is not a header`);
      }
    }
    const line = Buffer.concat(chunks).toString("utf8");
    if (line.length === 0) return [];
    const records = parse(line, { relax_column_count: false }) as string[][];
    const header = records[0];
    if (records.length !== 1 || header === undefined)
      throw new Error("the header line is not one CSV record");
    return header;
  } finally {
    await handle.close();
  }
}

/**
 * The table's complete columns named by `header`, in header order. Returns the names that are not
 * complete columns of `table`, or appear twice, in `unknown` (the file does not fit the table).
 */
export function csvHeaderColumns(
  table: TableSchema,
  header: readonly string[],
): { readonly columns: CompleteColumnSchema[]; readonly unknown: string[] } {
  const columns: CompleteColumnSchema[] = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const name of header) {
    const column = table.columns[name];
    if (column !== undefined && isCompleteColumn(column) && !seen.has(name)) columns.push(column);
    else unknown.push(name);
    seen.add(name);
  }
  return { columns, unknown };
}
