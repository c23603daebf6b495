/**
 * DuckDB's capabilities, type mapping and SQL dialect (REFERENCE §11.3). tsdlt loads `jsonl` with
 * DuckDB's own `read_json`, so `jsonl` is the preferred (and for now only) loader format.
 */
import {
  type CompleteColumnSchema,
  type DestinationCapabilities,
  DestinationError,
  defineCapabilities,
  type TableSchema,
} from "@tsdlt/core";
import { createSqlDialect, escapeDuckDBLiteral, type SqlDialect } from "@tsdlt/sql";

/** The name of the DuckDB destination. */
export const DESTINATION_NAME = "duckdb";
/** The destination type recorded in pipeline state (as Python dlt writes it). */
export const DESTINATION_TYPE = "dlt.destinations.duckdb";

/**
 * What DuckDB can do: dlt's DuckDB capabilities, with `jsonl` as the loader format. Deeply frozen.
 * Unlike dlt, DuckDB loads from a filesystem staging destination: `parquet` by default (typed and
 * columnar, read natively), `jsonl` and `csv` on request.
 */
export const DUCKDB_CAPABILITIES: DestinationCapabilities = defineCapabilities({
  preferredLoaderFileFormat: "jsonl",
  supportedLoaderFileFormats: Object.freeze(["jsonl", "csv"] as const),
  preferredStagingFileFormat: "parquet",
  supportedStagingFileFormats: Object.freeze(["parquet", "jsonl", "csv"] as const),
  maxIdentifierLength: 65536,
  maxColumnIdentifierLength: 65536,
  hasCaseSensitiveIdentifiers: false,
  decimalPrecision: Object.freeze([38, 9] as const),
  weiPrecision: Object.freeze([38, 0] as const),
  timestampPrecision: 6,
  maxTimestampPrecision: 9,
  supportsTransactions: true,
  supportsDdlTransactions: true,
  alterAddMultiColumn: false,
  supportsCreateTableIfNotExists: true,
  supportsTruncateCommand: false,
  supportsNativeBoolean: true,
  supportsTzAwareDatetime: true,
  supportsNaiveDatetime: true,
  supportedMergeStrategies: Object.freeze(["delete-insert", "upsert", "scd2", "insert-only"] as const),
  // `staging-optimized` runs as `insert-from-staging`: DuckDB cannot move a table between schemas
  supportedReplaceStrategies: Object.freeze([
    "truncate-and-insert",
    "insert-from-staging",
    "staging-optimized",
  ] as const),
  needsDatasetName: true,
  namingConvention: "snake_case",
});

function invalidColumn(table: TableSchema, column: CompleteColumnSchema, problem: string): DestinationError {
  return new DestinationError(
    `[tsdlt] [${DESTINATION_NAME}] Column \`${table.name}.${column.name}\` cannot be created: ${problem}.`,
    {
      code: "DESTINATION_TERMINAL",
      retryable: false,
      destination: DESTINATION_NAME,
      table: table.name,
      column: column.name,
    },
  );
}

/**
 * The DuckDB type of a column (dlt's `DuckDbTypeMapper`): `text` → `VARCHAR`, `timestamp` →
 * `TIMESTAMP WITH TIME ZONE` (or `TIMESTAMP_S/_MS/TIMESTAMP/_NS` by precision when `timezone: false`),
 * `bigint` → `BIGINT` (or `TINYINT/SMALLINT/INTEGER/HUGEINT` by precision in bits), `decimal` →
 * `DECIMAL(p,s)` (default 38,9), `wei` → `DECIMAL(38,0)`, `json` → `JSON`, `binary` → `BLOB`.
 *
 * @throws DestinationError (terminal) for a bigint precision above 128 bits or a timestamp precision above 9.
 */
export function duckdbColumnType(column: CompleteColumnSchema, table: TableSchema): string {
  const precision = column.precision;
  switch (column.data_type) {
    case "text":
      return "VARCHAR";
    case "double":
      return "DOUBLE";
    case "bool":
      return "BOOLEAN";
    case "date":
      return "DATE";
    case "time":
      return "TIME";
    case "binary":
      return "BLOB";
    case "json":
      return "JSON";
    case "wei": {
      const [p, s] = DUCKDB_CAPABILITIES.weiPrecision;
      return `DECIMAL(${p},${s})`;
    }
    case "decimal": {
      const [p, s] = DUCKDB_CAPABILITIES.decimalPrecision;
      return `DECIMAL(${precision ?? p},${column.scale ?? s})`;
    }
    case "bigint":
      if (precision === undefined) return "BIGINT";
      if (precision <= 8) return "TINYINT";
      if (precision <= 16) return "SMALLINT";
      if (precision <= 32) return "INTEGER";
      if (precision <= 64) return "BIGINT";
      if (precision <= 128) return "HUGEINT";
      throw invalidColumn(
        table,
        column,
        `bigint precision ${precision} exceeds DuckDB's widest integer (HUGEINT, 128 bits); lower the \`precision\` hint`,
      );
    case "timestamp":
      if (column.timezone !== false) return "TIMESTAMP WITH TIME ZONE";
      if (precision === undefined) return "TIMESTAMP";
      if (precision === 0) return "TIMESTAMP_S";
      if (precision <= 3) return "TIMESTAMP_MS";
      if (precision <= 6) return "TIMESTAMP";
      if (precision <= 9) return "TIMESTAMP_NS";
      throw invalidColumn(
        table,
        column,
        `timestamp precision ${precision} exceeds DuckDB's maximum of 9; lower the \`precision\` hint`,
      );
  }
}

/**
 * The DuckDB {@link SqlDialect}: double-quoted identifiers, `E'...'` literals, `$n` placeholders;
 * staging rows are deduplicated in load order (`rowid`); no `staging-optimized` table swap.
 */
export const duckdbDialect: SqlDialect = createSqlDialect({
  name: DESTINATION_NAME,
  capabilities: DUCKDB_CAPABILITIES,
  createIndexes: false,
  supportsAddColumnConstraints: false,
  escapeLiteral: escapeDuckDBLiteral,
  toDbType: duckdbColumnType,
  loadOrderExpression: "rowid",
});
