/**
 * Reading and dropping through dlt's system tables, the same for every SQL destination: the newest
 * stored schema and pipeline state (REFERENCE §6.5) and `dropTables` for `refresh`/`drop`. A client
 * passes a {@link SqlRunner} over the connection it holds (inside its own locking and transaction), so
 * the logic lives once and each driver only runs queries.
 */
import {
  LOADS_TABLE_NAME,
  PIPELINE_STATE_TABLE_NAME,
  type Schema,
  type StoredStateRow,
  storedStateRowOf,
  VERSION_TABLE_NAME,
} from "@tsdlt/core";
import {
  datasetExistsQuery,
  dropTableSql,
  type StorageColumns,
  storageColumnsQuery,
  toStorageColumns,
} from "./ddl.js";
import {
  deleteSchemaVersionsQuery,
  schemaFromStoredRow,
  storedSchemaQuery,
  storedStateQuery,
} from "./dlt-tables.js";
import type { SqlDialect, SqlQuery } from "./sql-dialect.js";

/** Runs queries on one connection a client holds. */
export interface SqlRunner {
  /** Runs `query` and returns its rows as plain objects. */
  rows(query: SqlQuery): Promise<readonly Readonly<Record<string, unknown>>[]>;
  /** Runs a statement that returns no rows. */
  exec(query: SqlQuery): Promise<void>;
}

/** Lower-cased names of the tables in `storage` (catalog lookups differ in case between databases). */
export function storedTableNames(storage: StorageColumns): Set<string> {
  return new Set(Object.keys(storage).map((name) => name.toLowerCase()));
}

/** Lower-cased names of those of `tables` that exist in `datasetName`. */
async function existingTables(
  run: SqlRunner,
  dialect: SqlDialect,
  datasetName: string,
  tables: readonly string[],
): Promise<Set<string>> {
  return storedTableNames(
    toStorageColumns(await run.rows(storageColumnsQuery(dialect, datasetName, tables))),
  );
}

/**
 * The newest `_dlt_version` schema by name or version hash; undefined when there is none or
 * `_dlt_version` does not exist.
 */
export async function readStoredSchema(
  run: SqlRunner,
  dialect: SqlDialect,
  datasetName: string,
  by: { readonly schemaName: string } | { readonly versionHash: string },
): Promise<Schema | undefined> {
  if (!(await existingTables(run, dialect, datasetName, [VERSION_TABLE_NAME])).has(VERSION_TABLE_NAME))
    return undefined;
  const [row] = await run.rows(storedSchemaQuery(dialect, datasetName, by));
  return row === undefined ? undefined : schemaFromStoredRow(row);
}

/**
 * The newest `_dlt_pipeline_state` row of `pipelineName` whose load completed (`_dlt_loads.status = 0`);
 * undefined when there is none or the tables do not exist.
 */
export async function readStoredState(
  run: SqlRunner,
  dialect: SqlDialect,
  datasetName: string,
  pipelineName: string,
): Promise<StoredStateRow | undefined> {
  const tables = await existingTables(run, dialect, datasetName, [
    PIPELINE_STATE_TABLE_NAME,
    LOADS_TABLE_NAME,
  ]);
  if (!tables.has(PIPELINE_STATE_TABLE_NAME) || !tables.has(LOADS_TABLE_NAME)) return undefined;
  const [row] = await run.rows(storedStateQuery(dialect, datasetName, pipelineName));
  if (row === undefined) return undefined;
  return storedStateRowOf(row);
}

/**
 * Drops `tables` that exist in each of `datasets` and, unless `deleteSchema` is false, every stored
 * version of `schemaName` from the first dataset's `_dlt_version` (dlt's `drop_tables(...,
 * delete_schema=True)`). The caller runs it in a transaction.
 */
export async function dropTablesAndSchema(
  run: SqlRunner,
  dialect: SqlDialect,
  options: {
    readonly datasets: readonly [string, ...string[]];
    readonly tables: readonly string[];
    readonly schemaName: string;
    readonly deleteSchema?: boolean | undefined;
  },
): Promise<void> {
  const { datasets, tables } = options;
  for (const dataset of datasets) {
    if (tables.length === 0 || (await run.rows(datasetExistsQuery(dialect, dataset))).length === 0) continue;
    for (const table of tables) await run.exec({ sql: dropTableSql(dialect, dataset, table), params: [] });
  }
  if (options.deleteSchema === false) return;
  const [dataset] = datasets;
  if (!(await existingTables(run, dialect, dataset, [VERSION_TABLE_NAME])).has(VERSION_TABLE_NAME)) return;
  await run.exec(deleteSchemaVersionsQuery(dialect, dataset, options.schemaName));
}
