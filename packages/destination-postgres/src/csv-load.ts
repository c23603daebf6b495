/**
 * The bulk `csv` load path (issue 12): normalize writes `csv` job files that Postgres' `COPY ... WITH
 * (FORMAT csv)` reads as they are, so the file's bytes are streamed into `COPY` unchanged — no
 * parsing or conversion in Node. Only the header line is read (`readCsvHeader` in `@tsdlt/sql`), to name
 * the `COPY` column list in the file's column order and to check that every column exists in the table.
 *
 * The files follow tsdlt's csv contract: UTF-8, `\n` line ends, a header of the column names, a NULL
 * as an empty unquoted field and the empty string as `""`, binary as quoted `\x<hex>` (`bytea`'s hex
 * input), JSON as quoted JSON text. A 0-byte file, or one holding only its header, loads no rows.
 */
import type { TableSchema } from "@tsdlt/core";
import type { SqlDialect } from "@tsdlt/sql";
import { copyFromStdinSql } from "./copy-load.js";

/**
 * The `COPY` statement that loads a `csv` job file whose header names `columns` (see `readCsvJobHeader`
 * in `@tsdlt/sql`) into `table` of `datasetName`.
 */
export function csvCopySql(
  dialect: SqlDialect,
  datasetName: string,
  table: TableSchema,
  columns: readonly string[],
): string {
  return copyFromStdinSql(dialect, datasetName, table, columns, { header: true });
}
