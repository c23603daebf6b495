export type { LoadJobContext, SqlErrorContext } from "./client-support.js";
export { loadJobContext, redactParams } from "./client-support.js";
export { csvHeaderProblem, MAX_CSV_HEADER_BYTES, readCsvHeader, readCsvJobHeader } from "./csv-job.js";
export type { SchemaUpdatePlan, StorageColumns } from "./ddl.js";
export {
  addUniqueConstraintsSql,
  alterTableAddColumnsSql,
  columnDefinitionSql,
  createDatasetSql,
  createTableSql,
  datasetExistsQuery,
  dropDatasetSql,
  dropTableSql,
  escapeColumnName,
  qualifiedTableName,
  schemaUpdateSql,
  stagingDialect,
  storageColumnsQuery,
  toStorageColumns,
  truncateTableSql,
} from "./ddl.js";
export type { LoadRow } from "./dlt-tables.js";
export {
  decodeStoredSchema,
  deleteSchemaVersionsQuery,
  encodeStoredSchema,
  insertLoadQuery,
  insertVersionQuery,
  LOADS_TABLE_COLUMNS,
  STATE_TABLE_COLUMNS,
  schemaFromStoredRow,
  schemaVersionExistsQuery,
  storedSchemaQuery,
  storedStateQuery,
  systemTableOf,
  VERSION_TABLE_COLUMNS,
} from "./dlt-tables.js";
export {
  escapeDoubleQuotedIdentifier,
  escapeDuckDBLiteral,
  escapePostgresLiteral,
  escapeStringLiteral,
} from "./escape.js";
export type { FollowupDatasets } from "./followup-helpers.js";
export type { MergeSqlOptions, Scd2Settings } from "./merge.js";
export {
  deleteInsertSql,
  insertOnlySql,
  mergeSql,
  scd2Settings,
  scd2Sql,
  upsertSql,
} from "./merge.js";
export { cloneStagingTableSql, moveStagingTableSql, replaceSql } from "./replace.js";
export type {
  SqlDialect,
  SqlDialectOptions,
  SqlParam,
  SqlQuery,
  StagingOptimizedReplace,
  StagingTableSwap,
} from "./sql-dialect.js";
export { createSqlDialect, withCatalog } from "./sql-dialect.js";
export type { SqlRunner } from "./stored-state.js";
export { dropTablesAndSchema, readStoredSchema, readStoredState, storedTableNames } from "./stored-state.js";
export { parseSqlJobText, tableChainFollowupSql, toSqlJobText } from "./table-chain.js";
