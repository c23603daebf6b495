/**
 * Postgres' capabilities, type mapping and SQL dialect (REFERENCE §11.4). tsdlt bulk-loads the job
 * files normalize writes with `COPY ... FROM STDIN`: `csv` (preferred; the file's bytes go to `COPY`
 * as they are, see `csv-load.ts`) or `jsonl` (converted to CSV records on the fly, see
 * `copy-load.ts`). dlt's `insert_values` job files are not read.
 */
import {
  type CompleteColumnSchema,
  type DestinationCapabilities,
  DestinationError,
  defineCapabilities,
  type TableSchema,
} from "@tsdlt/core";
import { createSqlDialect, escapePostgresLiteral, moveStagingTableSql, type SqlDialect } from "@tsdlt/sql";

/** The name of the Postgres destination. */
export const DESTINATION_NAME = "postgres";
/** The destination type recorded in pipeline state (as Python dlt writes it). */
export const DESTINATION_TYPE = "dlt.destinations.postgres";

/**
 * What Postgres can do: dlt's Postgres capabilities (identifiers up to 63 bytes, so the pipeline's
 * naming convention shortens longer names; multi-column `ALTER TABLE`; DDL in transactions; all merge
 * strategies; `staging-optimized` replace by moving the staging table), with `csv` as the preferred
 * loader format and `jsonl` also loaded (packages normalized by older versions, or
 * `loaderFileFormat: "jsonl"`). Deeply frozen. Unlike dlt, Postgres loads from a filesystem staging destination, streaming
 * the staged files into `COPY`: `jsonl` by default (exact for every type), `csv` on request.
 */
export const POSTGRES_CAPABILITIES: DestinationCapabilities = defineCapabilities({
  preferredLoaderFileFormat: "csv",
  supportedLoaderFileFormats: Object.freeze(["csv", "jsonl"] as const),
  preferredStagingFileFormat: "jsonl",
  supportedStagingFileFormats: Object.freeze(["jsonl", "csv"] as const),
  maxIdentifierLength: 63,
  maxColumnIdentifierLength: 63,
  hasCaseSensitiveIdentifiers: true,
  decimalPrecision: Object.freeze([38, 9] as const),
  weiPrecision: Object.freeze([156, 78] as const),
  timestampPrecision: 6,
  maxTimestampPrecision: 6,
  maxQueryLength: 32 * 1024 * 1024,
  maxTextDataTypeLength: 1024 * 1024 * 1024,
  supportsTransactions: true,
  supportsDdlTransactions: true,
  alterAddMultiColumn: true,
  supportsCreateTableIfNotExists: true,
  supportsTruncateCommand: true,
  supportsNativeBoolean: true,
  supportsTzAwareDatetime: true,
  supportsNaiveDatetime: true,
  supportedMergeStrategies: Object.freeze(["delete-insert", "upsert", "scd2", "insert-only"] as const),
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

function timePrecision(table: TableSchema, column: CompleteColumnSchema): string {
  const precision = column.precision;
  if (precision === undefined) return "";
  if (precision < 0 || precision > POSTGRES_CAPABILITIES.maxTimestampPrecision) {
    throw invalidColumn(
      table,
      column,
      `${column.data_type} precision ${precision} is outside Postgres' range 0-6; lower the \`precision\` hint`,
    );
  }
  return ` (${precision})`;
}

/**
 * The Postgres type of a column (dlt's `PostgresTypeMapper`): `text` → `varchar` (`varchar(n)` with a
 * precision), `double` → `double precision`, `timestamp` → `timestamp with time zone` (`without time
 * zone` for `timezone: false`, `(p)` with a precision), `time` → `time without time zone`, `bigint` →
 * `bigint` (`smallint` / `integer` for precisions up to 16 / 32 bits), `decimal` → `numeric(p,s)`
 * (default 38,9), `wei` → `numeric(156,78)`, `json` → `jsonb`, `binary` → `bytea`.
 *
 * @throws DestinationError (terminal) for a bigint precision above 64 bits or a time/timestamp
 * precision above 6.
 */
export function postgresColumnType(column: CompleteColumnSchema, table: TableSchema): string {
  const precision = column.precision;
  switch (column.data_type) {
    case "text":
      return precision === undefined ? "varchar" : `varchar(${precision})`;
    case "double":
      return "double precision";
    case "bool":
      return "boolean";
    case "date":
      return "date";
    case "time":
      return `time${timePrecision(table, column)} without time zone`;
    case "timestamp":
      return `timestamp${timePrecision(table, column)} ${column.timezone === false ? "without" : "with"} time zone`;
    case "binary":
      return "bytea";
    case "json":
      return "jsonb";
    case "wei": {
      const [p, s] = POSTGRES_CAPABILITIES.weiPrecision;
      return `numeric(${p},${s})`;
    }
    case "decimal": {
      const [p, s] = POSTGRES_CAPABILITIES.decimalPrecision;
      return `numeric(${precision ?? p},${column.scale ?? s})`;
    }
    case "bigint":
      if (precision === undefined) return "bigint";
      if (precision <= 16) return "smallint";
      if (precision <= 32) return "integer";
      if (precision <= 64) return "bigint";
      throw invalidColumn(
        table,
        column,
        `bigint precision ${precision} exceeds Postgres' widest integer (bigint, 64 bits); use the \`wei\` or \`decimal\` type`,
      );
  }
}

/**
 * The type of a column in Postgres DDL: {@link postgresColumnType}, with `COLLATE "C"` for the row
 * key (`_dlt_id`). The row key is an id whose order means nothing, and its `UNIQUE` index (dlt's
 * `create_indexes`) then compares bytes instead of the database's locale: building the index of 2M
 * ids took 0.7 s instead of 1.9 s under `C.UTF-8` (more under `en_US.UTF-8`), and every index insert
 * of a later `COPY` is cheaper too. Equality is the same under every deterministic collation, and
 * `"C"` wins over the default collation when `_dlt_id` meets another text column.
 */
export function postgresDdlType(column: CompleteColumnSchema, table: TableSchema): string {
  const type = postgresColumnType(column, table);
  return column.row_key === true && column.data_type === "text" ? `${type} COLLATE "C"` : type;
}

/** Options of {@link createPostgresDialect}. */
export interface PostgresDialectOptions {
  /** Emit `UNIQUE` for columns with the `unique` hint (dlt's `create_indexes`). @default true */
  readonly createIndexes?: boolean;
}

/**
 * A Postgres {@link SqlDialect}: double-quoted, lower-cased identifiers, `E'...'` literals, `$n`
 * placeholders; staging rows are deduplicated in load order (`ctid`: staging tables are emptied with
 * `TRUNCATE` and filled by sequential `COPY`s, so physical order is load order); `staging-optimized`
 * replaces move the staging table into the dataset ({@link moveStagingTableSql}).
 */
export function createPostgresDialect(options: PostgresDialectOptions = {}): SqlDialect {
  return createSqlDialect({
    name: DESTINATION_NAME,
    capabilities: POSTGRES_CAPABILITIES,
    createIndexes: options.createIndexes ?? true,
    supportsAddColumnConstraints: true,
    escapeLiteral: escapePostgresLiteral,
    casefoldIdentifier: (identifier: string) => identifier.toLowerCase(),
    toDbType: postgresDdlType,
    loadOrderExpression: "ctid",
    stagingOptimizedReplace: moveStagingTableSql,
  });
}

/** The default Postgres dialect (`UNIQUE` constraints on `unique` columns, as dlt's `create_indexes: true`). */
export const postgresDialect: SqlDialect = createPostgresDialect();
