/**
 * The replace follow-up SQL (REFERENCE §4.2): statements that make each table of a chain hold
 * exactly the rows of its staging copy. Run in one transaction, so readers see the old rows until
 * the new ones are complete, and a failed load leaves the old rows in place.
 */
import type { ReplaceStrategy, TableSchema } from "@tsdlt/core";
import { qualifiedTableName, truncateTableSql } from "./ddl.js";
import { ChainSql, completeColumnNames, type FollowupDatasets } from "./followup-helpers.js";
import type { SqlDialect, StagingTableSwap } from "./sql-dialect.js";

/**
 * The replace follow-up statements of a table chain (root first). `insert-from-staging` (and
 * `truncate-and-insert` loaded through staging): per table, empty it (`TRUNCATE`, or `DELETE` when the
 * dialect has no truncate) and `INSERT ... SELECT` its staging copy. `staging-optimized`: the
 * dialect's {@link SqlDialect.stagingOptimizedReplace} per table, else as `insert-from-staging`.
 * Every table of the chain is replaced, also those that got no rows in this load (they end empty).
 */
export function replaceSql(
  dialect: SqlDialect,
  tables: readonly TableSchema[],
  strategy: ReplaceStrategy,
  datasets: FollowupDatasets,
): string[] {
  const c = new ChainSql(dialect, tables, datasets);
  const swap = strategy === "staging-optimized" ? dialect.stagingOptimizedReplace : undefined;
  const sql: string[] = [];
  for (const table of c.tables) {
    if (swap) {
      sql.push(...swap({ dialect, table, ...datasets }));
      continue;
    }
    const columns = c.list(completeColumnNames(table));
    sql.push(truncateTableSql(dialect, datasets.datasetName, table.name));
    sql.push(`INSERT INTO ${c.dest(table)} (${columns}) SELECT ${columns} FROM ${c.staging(table)}`);
  }
  return sql;
}

/**
 * A {@link SqlDialect.stagingOptimizedReplace} for databases that move tables between schemas
 * (Postgres): drop the destination table, move the staging table into the dataset, recreate an
 * empty staging table like it.
 */
export function moveStagingTableSql(swap: StagingTableSwap): string[] {
  const { dialect, table, datasetName, stagingDatasetName } = swap;
  const dest = qualifiedTableName(dialect, datasetName, table.name);
  const staging = qualifiedTableName(dialect, stagingDatasetName, table.name);
  const dataset = dialect.escapeIdentifier(dialect.casefoldIdentifier(datasetName));
  return [
    `DROP TABLE IF EXISTS ${dest}`,
    `ALTER TABLE ${staging} SET SCHEMA ${dataset}`,
    `CREATE TABLE ${staging} (LIKE ${dest} INCLUDING ALL)`,
  ];
}

/**
 * A {@link SqlDialect.stagingOptimizedReplace} for databases with zero-copy clones (Snowflake,
 * BigQuery, Databricks): drop the destination table and clone the staging table in its place.
 */
export function cloneStagingTableSql(swap: StagingTableSwap): string[] {
  const { dialect, table, datasetName, stagingDatasetName } = swap;
  const dest = qualifiedTableName(dialect, datasetName, table.name);
  return [
    `DROP TABLE IF EXISTS ${dest}`,
    `CREATE TABLE ${dest} CLONE ${qualifiedTableName(dialect, stagingDatasetName, table.name)}`,
  ];
}
