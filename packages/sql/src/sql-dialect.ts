/**
 * The dialect contract of SQL destinations: how a database escapes identifiers and literals, which
 * types it uses for dlt's data types, and which DDL variants it accepts. Everything else in
 * `@tsdlt/sql` is a pure function of a dialect, so a new SQL destination only writes a dialect.
 */
import type { CompleteColumnSchema, DestinationCapabilities, TableSchema } from "@tsdlt/core";
import { escapeDoubleQuotedIdentifier, escapePostgresLiteral } from "./escape.js";

/** A value bound to a query placeholder. Drivers convert `Date` and `Uint8Array` to their native forms. */
export type SqlParam = string | number | bigint | boolean | Date | Uint8Array | null;

/** A SQL statement with its bound parameters (placeholders written by {@link SqlDialect.placeholder}). */
export interface SqlQuery {
  readonly sql: string;
  readonly params: readonly SqlParam[];
}

/**
 * How one database speaks SQL. Build one with {@link createSqlDialect}, which supplies the
 * Postgres-style defaults most databases share.
 *
 * @example
 * ```ts
 * const dialect = createSqlDialect({
 *   name: "mydb",
 *   capabilities: defineCapabilities({ alterAddMultiColumn: false }),
 *   toDbType: (column) => (column.data_type === "text" ? "TEXT" : "BLOB"),
 * });
 * createTableSql(dialect, "my_dataset", table, Object.values(table.columns));
 * ```
 */
export interface SqlDialect {
  /** Short name used in messages (`duckdb`, `postgres`). */
  readonly name: string;
  readonly capabilities: DestinationCapabilities;
  /** Emit `UNIQUE` for columns with the `unique` hint (dlt's `create_indexes`). */
  readonly createIndexes: boolean;
  /**
   * Whether `ALTER TABLE ... ADD COLUMN` may carry `NOT NULL` / `UNIQUE`. When false the constraints are
   * left out of added columns (DuckDB rejects them) and a warning says so.
   */
  readonly supportsAddColumnConstraints: boolean;
  /** Quotes an identifier (already casefolded). */
  escapeIdentifier(identifier: string): string;
  /** Renders a JS value as a SQL literal. */
  escapeLiteral(value: unknown): string;
  /** Folds an identifier to the case the database stores (identity for case-preserving databases). */
  casefoldIdentifier(identifier: string): string;
  /** The database type of a complete column of `table`. Throws when the column cannot be represented. */
  toDbType(column: CompleteColumnSchema, table: TableSchema): string;
  /** The placeholder for the `index`-th (1-based) bound parameter. */
  placeholder(index: number): string;
  /**
   * A timestamp literal (scd2 boundary and active-record values), UTC. Must compare and assign to
   * `timestamp` columns of either time zone flavour.
   */
  timestampLiteral(value: Date): string;
  /**
   * An expression ordering a table's rows by the order they were loaded (DuckDB's `rowid`), used to
   * break ties when staging rows are deduplicated: the row loaded first wins, and the choice is the
   * same in every statement of a follow-up job. `undefined`: ties are broken by the row key, which is
   * stable but arbitrary.
   */
  readonly loadOrderExpression: string | undefined;
  /**
   * The `staging-optimized` replace of one table: statements that make the destination table hold
   * exactly the rows of its staging copy without copying them, e.g. {@link moveStagingTableSql}
   * (Postgres) or {@link cloneStagingTableSql}. `undefined`: `staging-optimized` falls back to
   * `insert-from-staging`.
   */
  readonly stagingOptimizedReplace: StagingOptimizedReplace | undefined;
  /**
   * The catalog (database) that qualifies table names: `"<catalog>"."<dataset>"."<table>"`.
   * `undefined`: two-part names, resolved in the connection's current catalog. A client sets it with
   * {@link withCatalog} when a two-part name would be ambiguous, e.g. a DuckDB file `ref.duckdb`
   * (catalog `ref`) holding a dataset `ref`.
   */
  readonly catalogName?: string | undefined;
}

/** What a {@link StagingOptimizedReplace} hook gets for one table of a chain. */
export interface StagingTableSwap {
  readonly dialect: SqlDialect;
  readonly table: TableSchema;
  readonly datasetName: string;
  readonly stagingDatasetName: string;
}

/** A dialect's `staging-optimized` replace of one table (see {@link SqlDialect.stagingOptimizedReplace}). */
export type StagingOptimizedReplace = (swap: StagingTableSwap) => string[];

/** What {@link createSqlDialect} needs; the rest defaults to Postgres-style SQL. */
export interface SqlDialectOptions {
  readonly name: string;
  readonly capabilities: DestinationCapabilities;
  readonly toDbType: SqlDialect["toDbType"];
  /** @default false */
  readonly createIndexes?: boolean;
  /** @default true */
  readonly supportsAddColumnConstraints?: boolean;
  /** @default double quotes, `"` doubled */
  readonly escapeIdentifier?: SqlDialect["escapeIdentifier"];
  /** @default {@link escapePostgresLiteral} */
  readonly escapeLiteral?: SqlDialect["escapeLiteral"];
  /** @default identity */
  readonly casefoldIdentifier?: SqlDialect["casefoldIdentifier"];
  /** @default `$<index>` */
  readonly placeholder?: SqlDialect["placeholder"];
  /** @default `CAST('<ISO 8601 UTC>' AS TIMESTAMP WITH TIME ZONE)` */
  readonly timestampLiteral?: SqlDialect["timestampLiteral"];
  /** @default undefined (ties broken by the row key) */
  readonly loadOrderExpression?: string;
  /** @default undefined (`staging-optimized` falls back to `insert-from-staging`) */
  readonly stagingOptimizedReplace?: StagingOptimizedReplace;
  /** @default undefined (two-part table names) */
  readonly catalogName?: string;
}

/** Builds a frozen {@link SqlDialect}, filling Postgres-style defaults for what `options` leaves out. */
export function createSqlDialect(options: SqlDialectOptions): SqlDialect {
  return Object.freeze({
    name: options.name,
    capabilities: options.capabilities,
    createIndexes: options.createIndexes ?? false,
    supportsAddColumnConstraints: options.supportsAddColumnConstraints ?? true,
    escapeIdentifier: options.escapeIdentifier ?? escapeDoubleQuotedIdentifier,
    escapeLiteral: options.escapeLiteral ?? escapePostgresLiteral,
    casefoldIdentifier: options.casefoldIdentifier ?? ((identifier: string) => identifier),
    toDbType: options.toDbType,
    placeholder: options.placeholder ?? ((index: number) => `$${index}`),
    timestampLiteral:
      options.timestampLiteral ??
      ((value: Date) => `CAST('${value.toISOString()}' AS TIMESTAMP WITH TIME ZONE)`),
    loadOrderExpression: options.loadOrderExpression,
    stagingOptimizedReplace: options.stagingOptimizedReplace,
    catalogName: options.catalogName,
  });
}

/**
 * `dialect` with table names qualified by `catalogName` (see {@link SqlDialect.catalogName}), or
 * without a catalog when it is `undefined`. The catalog is used as given: it is not casefolded.
 */
export function withCatalog(dialect: SqlDialect, catalogName: string | undefined): SqlDialect {
  return Object.freeze({ ...dialect, catalogName });
}
