/**
 * The bulk `jsonl` load path: one `INSERT INTO ... SELECT ... FROM read_json(...)` per job file, with
 * every column's JSON type given explicitly so DuckDB never guesses. Values arrive as normalize writes
 * them: text/bigint/double/bool natively, timestamps/dates/times/decimals as strings (cast in SQL),
 * binary as base64 (`from_base64`), json as raw JSON values.
 */
import { type CompleteColumnSchema, isCompleteColumn, isGzipFile, type TableSchema } from "@tsdlt/core";
import { escapeColumnName, qualifiedTableName, type SqlDialect } from "@tsdlt/sql";
import { duckdbColumnType, duckdbDialect } from "./duckdb-dialect.js";

/** How a job file is compressed. */
export type JsonlCompression = "gzip" | "uncompressed";

/**
 * The type `read_json` / `read_csv` reads a column as, and the expression that turns it into the
 * column's type. Binary arrives as base64 in `jsonl` files and as `\x` + hex in `csv` files.
 */
function readPlan(
  column: CompleteColumnSchema,
  table: TableSchema,
  format: "jsonl" | "csv",
): { readonly readAs: string; readonly select: string } {
  const name = escapeColumnName(duckdbDialect, column.name);
  const dbType = duckdbColumnType(column, table);
  switch (column.data_type) {
    case "text":
    case "double":
    case "bool":
    case "bigint":
      return { readAs: dbType, select: name };
    case "json":
      // csv holds the JSON text: read it as text, and the insert parses it into the JSON column
      return format === "csv" ? { readAs: "VARCHAR", select: name } : { readAs: dbType, select: name };
    case "binary":
      return format === "csv"
        ? { readAs: "VARCHAR", select: `unhex(substr(${name}, 3))` }
        : { readAs: "VARCHAR", select: `from_base64(${name})` };
    case "timestamp":
      // via TIMESTAMPTZ so offsets are honoured; the session time zone is UTC, so naive values mean UTC
      return dbType === "TIMESTAMP WITH TIME ZONE"
        ? { readAs: "VARCHAR", select: `CAST(${name} AS TIMESTAMPTZ)` }
        : { readAs: "VARCHAR", select: `CAST(CAST(${name} AS TIMESTAMPTZ) AS ${dbType})` };
    case "date":
    case "time":
    case "decimal":
    case "wei":
      return { readAs: "VARCHAR", select: `CAST(${name} AS ${dbType})` };
  }
}

/**
 * `INSERT INTO <table> (<columns>) SELECT <conversions> FROM <reader>`, with `reader(columns)` given
 * the `{'<name>': '<type>'}` struct of the types the file's columns are read as.
 */
function insertSelectSql(
  datasetName: string,
  table: TableSchema,
  columns: readonly CompleteColumnSchema[],
  format: "jsonl" | "csv",
  dialect: SqlDialect,
  reader: (columns: string) => string,
): string {
  const plans = columns.map((column) => ({ column, ...readPlan(column, table, format) }));
  const target = plans.map((p) => escapeColumnName(duckdbDialect, p.column.name)).join(", ");
  const select = plans.map((p) => p.select).join(", ");
  const struct = plans.map((p) => `${lit(p.column.name)}: '${p.readAs}'`).join(", ");
  return `INSERT INTO ${qualifiedTableName(dialect, datasetName, table.name)} (${target}) SELECT ${select} FROM ${reader(`{${struct}}`)}`;
}

/** A DuckDB string literal. */
const lit = (value: string): string => duckdbDialect.escapeLiteral(value);

/** `[<path literals>]`. */
const fileList = (paths: readonly string[]): string => `[${paths.map(lit).join(", ")}]`;

/**
 * The statement that loads a newline-delimited JSON file — or several, read side by side — into
 * `table` of `datasetName`. Only complete columns are read; keys missing from a line load as NULL,
 * keys not in the table are ignored.
 */
export function jsonlInsertSql(
  datasetName: string,
  table: TableSchema,
  filePath: string | readonly string[],
  options: {
    readonly compression?: JsonlCompression;
    /** The dialect naming the table (a catalog-qualified one). @default duckdbDialect */
    readonly dialect?: SqlDialect;
  } = {},
): string {
  const files = typeof filePath === "string" ? lit(filePath) : fileList(filePath);
  const compression = options.compression ?? "uncompressed";
  return insertSelectSql(
    datasetName,
    table,
    Object.values(table.columns).filter(isCompleteColumn),
    "jsonl",
    options.dialect ?? duckdbDialect,
    (columns) =>
      `read_json(${files}, format = 'newline_delimited', compression = '${compression}', columns = ${columns})`,
  );
}

/** Detects gzip by its magic bytes (normalize may compress job files without a `.gz` suffix). */
export async function detectCompression(filePath: string): Promise<JsonlCompression> {
  return (await isGzipFile(filePath)) ? "gzip" : "uncompressed";
}

/**
 * The statement that loads normalize's `csv` job files with the same header — `columns`, the table's
 * complete columns in header order — into `table` of `datasetName`, read side by side. An unquoted
 * empty field is NULL and `""` the empty string (`allow_quoted_nulls = false`).
 */
export function csvInsertSql(
  datasetName: string,
  table: TableSchema,
  columns: readonly CompleteColumnSchema[],
  filePaths: readonly string[],
  options: {
    /** The dialect naming the table (a catalog-qualified one). @default duckdbDialect */
    readonly dialect?: SqlDialect;
  } = {},
): string {
  return insertSelectSql(
    datasetName,
    table,
    columns,
    "csv",
    options.dialect ?? duckdbDialect,
    (struct) =>
      `read_csv(${fileList(filePaths)}, header = true, auto_detect = false, delim = ',', quote = '"',` +
      ` escape = '"', new_line = '\\n', allow_quoted_nulls = false, columns = ${struct})`,
  );
}
