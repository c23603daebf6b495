/**
 * DDL for SQL destinations (REFERENCE §3.4): datasets, `CREATE TABLE`, `ALTER TABLE ... ADD COLUMN`,
 * and the schema-update planner that turns "schema vs. what the database already has" into
 * statements. Only new tables and new columns are ever created: nothing is dropped or retyped, and
 * incomplete columns (no `data_type`) are skipped.
 */
import {
  type ColumnSchema,
  type CompleteColumnSchema,
  isCompleteColumn,
  isDltName,
  type Schema,
  type TableSchema,
} from "@tsdlt/core";
import type { SqlDialect, SqlQuery } from "./sql-dialect.js";

/** Escapes a column (or any non-table) identifier: casefold, then quote. */
export function escapeColumnName(dialect: SqlDialect, name: string): string {
  return dialect.escapeIdentifier(dialect.casefoldIdentifier(name));
}

/**
 * `"<dataset>"."<table>"`, casefolded and escaped; `"<catalog>"."<dataset>"."<table>"` when the
 * dialect names a catalog ({@link SqlDialect.catalogName}).
 */
export function qualifiedTableName(dialect: SqlDialect, datasetName: string, tableName: string): string {
  const name = `${escapeColumnName(dialect, datasetName)}.${escapeColumnName(dialect, tableName)}`;
  return dialect.catalogName === undefined
    ? name
    : `${dialect.escapeIdentifier(dialect.catalogName)}.${name}`;
}

/** `CREATE SCHEMA [IF NOT EXISTS] "<dataset>"`. */
export function createDatasetSql(
  dialect: SqlDialect,
  datasetName: string,
  options: { readonly ifNotExists?: boolean } = {},
): string {
  return `CREATE SCHEMA ${options.ifNotExists ? "IF NOT EXISTS " : ""}${escapeColumnName(dialect, datasetName)}`;
}

/** `DROP SCHEMA "<dataset>" CASCADE`. */
export function dropDatasetSql(dialect: SqlDialect, datasetName: string): string {
  return `DROP SCHEMA ${escapeColumnName(dialect, datasetName)} CASCADE`;
}

/** Drops a table if it exists: `DROP TABLE IF EXISTS "<dataset>"."<table>"` (dlt's `sql_client.drop_tables`). */
export function dropTableSql(dialect: SqlDialect, datasetName: string, tableName: string): string {
  return `DROP TABLE IF EXISTS ${qualifiedTableName(dialect, datasetName, tableName)}`;
}

/** Empties a table: `TRUNCATE TABLE` when the capabilities allow it, else `DELETE FROM`. */
export function truncateTableSql(dialect: SqlDialect, datasetName: string, tableName: string): string {
  const qualified = qualifiedTableName(dialect, datasetName, tableName);
  return dialect.capabilities.supportsTruncateCommand
    ? `TRUNCATE TABLE ${qualified}`
    : `DELETE FROM ${qualified}`;
}

/**
 * A column definition `<escaped name> <db type>[ UNIQUE][ NOT NULL]`. `UNIQUE` only when the dialect
 * creates indexes and `withoutUnique` is not set; with `forAlter` and a dialect that cannot add
 * constrained columns, no constraints.
 */
export function columnDefinitionSql(
  dialect: SqlDialect,
  column: CompleteColumnSchema,
  table: TableSchema,
  options: { readonly forAlter?: boolean; readonly withoutUnique?: boolean } = {},
): string {
  const parts = [escapeColumnName(dialect, column.name), dialect.toDbType(column, table)];
  const constraints = !options.forAlter || dialect.supportsAddColumnConstraints;
  if (constraints && dialect.createIndexes && !options.withoutUnique && column.unique === true) {
    parts.push("UNIQUE");
  }
  if (constraints && column.nullable === false) parts.push("NOT NULL");
  return parts.join(" ");
}

/**
 * `CREATE TABLE [IF NOT EXISTS] <qualified> (\n<column defs joined by ",\n">)`; with `withoutUnique`
 * the columns' `UNIQUE` constraints are left for {@link addUniqueConstraintsSql}.
 */
export function createTableSql(
  dialect: SqlDialect,
  datasetName: string,
  table: TableSchema,
  columns: readonly CompleteColumnSchema[],
  options: { readonly ifNotExists?: boolean; readonly withoutUnique?: boolean } = {},
): string {
  const ifNotExists = options.ifNotExists && dialect.capabilities.supportsCreateTableIfNotExists;
  const withoutUnique = options.withoutUnique === true;
  const defs = columns
    .map((column) => columnDefinitionSql(dialect, column, table, { withoutUnique }))
    .join(",\n");
  return `CREATE TABLE ${ifNotExists ? "IF NOT EXISTS " : ""}${qualifiedTableName(dialect, datasetName, table.name)} (\n${defs})`;
}

/**
 * `ALTER TABLE <qualified> ADD UNIQUE (<column>)[, ADD UNIQUE (...)]`: the `UNIQUE` constraints that
 * `createTableSql` with `withoutUnique` left out, one per `unique` column, as a column's `UNIQUE` in
 * `CREATE TABLE` declares them (Postgres names both `<table>_<column>_key`). Undefined when the
 * dialect creates no indexes or no column is `unique`.
 */
export function addUniqueConstraintsSql(
  dialect: SqlDialect,
  datasetName: string,
  table: TableSchema,
  columns: readonly CompleteColumnSchema[],
): string | undefined {
  const unique = dialect.createIndexes ? columns.filter((c) => c.unique === true) : [];
  if (unique.length === 0) return undefined;
  const adds = unique.map((c) => `ADD UNIQUE (${escapeColumnName(dialect, c.name)})`);
  return `ALTER TABLE ${qualifiedTableName(dialect, datasetName, table.name)}\n${adds.join(",\n")}`;
}

/**
 * `ALTER TABLE <qualified>\nADD COLUMN <def>`: one statement with all columns joined by `,\n` when
 * `capabilities.alterAddMultiColumn`, else one statement per column.
 */
export function alterTableAddColumnsSql(
  dialect: SqlDialect,
  datasetName: string,
  table: TableSchema,
  columns: readonly CompleteColumnSchema[],
): string[] {
  if (columns.length === 0) return [];
  const base = `ALTER TABLE ${qualifiedTableName(dialect, datasetName, table.name)}\n`;
  const adds = columns.map(
    (column) => `ADD COLUMN ${columnDefinitionSql(dialect, column, table, { forAlter: true })}`,
  );
  return dialect.capabilities.alterAddMultiColumn ? [base + adds.join(",\n")] : adds.map((add) => base + add);
}

/**
 * The dialect for DDL of staging tables: like `dialect` but without `UNIQUE` constraints, because a
 * staging table may hold several rows of one key until the follow-up job deduplicates them.
 */
export function stagingDialect(dialect: SqlDialect): SqlDialect {
  return dialect.createIndexes ? Object.freeze({ ...dialect, createIndexes: false }) : dialect;
}

/** Columns that exist in the destination: table name → column names, as the database reports them. */
export type StorageColumns = Readonly<Record<string, readonly string[]>>;

/** What {@link schemaUpdateSql} plans. */
export interface SchemaUpdatePlan {
  /** DDL to run, in order (one transaction when the destination supports DDL transactions). */
  readonly statements: string[];
  /** Tables created or altered → the schema names of the columns they gain. */
  readonly tables: Record<string, string[]>;
  /** The tables among {@link SchemaUpdatePlan.tables} that are created. */
  readonly newTables: string[];
  /** Things the caller should log (constraints on columns added to existing tables). */
  readonly warnings: string[];
  /**
   * With `deferUnique`: the `UNIQUE` constraints of the created tables, to run after their rows are
   * loaded (building an index once is faster than maintaining it row by row).
   */
  readonly deferred: { readonly table: string; readonly sql: string }[];
}

/**
 * Plans the DDL that brings the destination to `schema`: `CREATE TABLE` for tables missing from
 * `storage` (dlt system tables with `IF NOT EXISTS`), `ALTER TABLE ... ADD COLUMN` for complete columns
 * missing from existing tables. Names are compared after casefolding, and case-insensitively when the
 * destination's identifiers are. Tables without complete columns are skipped.
 *
 * @param onlyTables restrict the plan to these tables (in schema order); default all schema tables.
 * @param deferUnique create data tables without their `UNIQUE` constraints and plan those in
 *   {@link SchemaUpdatePlan.deferred} (only where the caller runs both in one transaction, so that no
 *   one sees a table without them).
 */
export function schemaUpdateSql(
  dialect: SqlDialect,
  datasetName: string,
  schema: Schema,
  storage: StorageColumns,
  options: { readonly onlyTables?: readonly string[]; readonly deferUnique?: boolean } = {},
): SchemaUpdatePlan {
  const key = (name: string): string =>
    dialect.capabilities.hasCaseSensitiveIdentifiers ? name : name.toLowerCase();
  const stored = new Map<string, Set<string>>();
  for (const [tableName, columns] of Object.entries(storage)) {
    stored.set(key(tableName), new Set(columns.map(key)));
  }
  const only = options.onlyTables ? new Set(options.onlyTables) : undefined;
  const plan: SchemaUpdatePlan = { statements: [], tables: {}, newTables: [], warnings: [], deferred: [] };

  for (const table of Object.values(schema.tables)) {
    if (only && !only.has(table.name)) continue;
    const columns = completeColumns(table.columns);
    if (columns.length === 0) continue;
    const existing = stored.get(key(dialect.casefoldIdentifier(table.name)));
    if (existing === undefined) {
      const system = isDltName(table.name);
      const defer = options.deferUnique === true && !system;
      plan.statements.push(
        createTableSql(dialect, datasetName, table, columns, { ifNotExists: system, withoutUnique: defer }),
      );
      const unique = defer ? addUniqueConstraintsSql(dialect, datasetName, table, columns) : undefined;
      if (unique !== undefined) plan.deferred.push({ table: table.name, sql: unique });
      plan.tables[table.name] = columns.map((c) => c.name);
      plan.newTables.push(table.name);
      continue;
    }
    const added = columns.filter((c) => !existing.has(key(dialect.casefoldIdentifier(c.name))));
    if (added.length === 0) continue;
    plan.statements.push(...alterTableAddColumnsSql(dialect, datasetName, table, added));
    plan.tables[table.name] = added.map((c) => c.name);
    plan.warnings.push(...alterWarnings(dialect, table.name, added));
  }
  return plan;
}

function completeColumns(columns: Record<string, ColumnSchema>): CompleteColumnSchema[] {
  return Object.values(columns).filter(isCompleteColumn);
}

function alterWarnings(
  dialect: SqlDialect,
  tableName: string,
  added: readonly CompleteColumnSchema[],
): string[] {
  const list = (cols: readonly CompleteColumnSchema[]): string => cols.map((c) => `\`${c.name}\``).join(", ");
  const notNull = added.filter((c) => c.nullable === false);
  const unique = dialect.createIndexes ? added.filter((c) => c.unique === true) : [];
  const warnings: string[] = [];
  if (!dialect.supportsAddColumnConstraints) {
    const constrained = added.filter((c) => notNull.includes(c) || unique.includes(c));
    if (constrained.length > 0) {
      warnings.push(
        `[tsdlt] [${dialect.name}] Column(s) ${list(constrained)} are added to existing table \`${tableName}\` without NOT NULL/UNIQUE: ${dialect.name} cannot add constrained columns to an existing table.`,
      );
    }
    return warnings;
  }
  if (notNull.length > 0) {
    warnings.push(
      `[tsdlt] [${dialect.name}] Column(s) ${list(notNull)} with NOT NULL are added to existing table \`${tableName}\`. If the table holds rows the ALTER fails; make the columns nullable to avoid it.`,
    );
  }
  if (unique.length > 0) {
    warnings.push(
      `[tsdlt] [${dialect.name}] Column(s) ${list(unique)} with UNIQUE are added to existing table \`${tableName}\`; several databases cannot add such constraints to existing tables.`,
    );
  }
  return warnings;
}

/**
 * The columns of every table in the dataset, in ordinal order: rows `{ table_name, column_name, data_type }`
 * from `information_schema.columns` of the current database. Fold rows into {@link StorageColumns}.
 */
export function storageColumnsQuery(
  dialect: SqlDialect,
  datasetName: string,
  tables?: readonly string[],
): SqlQuery {
  const params: string[] = [dialect.casefoldIdentifier(datasetName)];
  let sql =
    "SELECT table_name, column_name, data_type FROM information_schema.columns" +
    ` WHERE table_catalog = current_database() AND table_schema = ${dialect.placeholder(1)}`;
  if (tables !== undefined && tables.length > 0) {
    const placeholders = tables.map((t) => {
      params.push(dialect.casefoldIdentifier(t));
      return dialect.placeholder(params.length);
    });
    sql += ` AND table_name IN (${placeholders.join(", ")})`;
  }
  return { sql: `${sql} ORDER BY table_name, ordinal_position`, params };
}

/** Rows of {@link storageColumnsQuery} folded into {@link StorageColumns}. */
export function toStorageColumns(rows: Iterable<Readonly<Record<string, unknown>>>): StorageColumns {
  const out: Record<string, string[]> = {};
  for (const row of rows) {
    const table = String(row.table_name);
    const columns = out[table] ?? [];
    columns.push(String(row.column_name));
    out[table] = columns;
  }
  return out;
}

/** A query returning one row when the dataset (database schema) exists in the current database. */
export function datasetExistsQuery(dialect: SqlDialect, datasetName: string): SqlQuery {
  return {
    sql:
      "SELECT 1 AS found FROM information_schema.schemata" +
      ` WHERE catalog_name = current_database() AND schema_name = ${dialect.placeholder(1)}`,
    params: [dialect.casefoldIdentifier(datasetName)],
  };
}
