/** dlt's data types, write dispositions and column hints, as `as const` arrays with derived types. */

/** Every data type a column may have (REFERENCE §2.9). */
export const DATA_TYPES = [
  "text",
  "double",
  "bool",
  "timestamp",
  "bigint",
  "binary",
  "json",
  "decimal",
  "wei",
  "date",
  "time",
] as const;
/** A column data type. */
export type DataType = (typeof DATA_TYPES)[number];

/** True when `value` names a data type. */
export function isDataType(value: unknown): value is DataType {
  return typeof value === "string" && (DATA_TYPES as readonly string[]).includes(value);
}

/** How rows of a table are written at the destination. */
export const WRITE_DISPOSITIONS = ["append", "replace", "merge", "skip"] as const;
/** A write disposition. */
export type WriteDisposition = (typeof WRITE_DISPOSITIONS)[number];

/** Boolean column hints that default hints (`settings.default_hints`) may set by column name. */
export const COLUMN_HINTS = [
  "partition",
  "cluster",
  "primary_key",
  "row_key",
  "parent_key",
  "root_key",
  "sort",
  "unique",
  "merge_key",
  "hard_delete",
  "incremental",
] as const;
/** A boolean column hint. */
export type ColumnHint = (typeof COLUMN_HINTS)[number];

/** The file formats a load package may hold (dlt's `LOADER_FILE_FORMATS`). */
export const LOADER_FILE_FORMATS = [
  "jsonl",
  "typed-jsonl",
  "insert_values",
  "parquet",
  "csv",
  "reference",
  "model",
] as const;
/** A loader file format. */
export type LoaderFileFormat = (typeof LOADER_FILE_FORMATS)[number];
