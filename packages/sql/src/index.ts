export type { SchemaUpdatePlan, StorageColumns } from "./ddl.js";
export {
  alterTableAddColumnsSql,
  columnDefinitionSql,
  createDatasetSql,
  createTableSql,
  datasetExistsQuery,
  dropDatasetSql,
  escapeColumnName,
  qualifiedTableName,
  schemaUpdateSql,
  storageColumnsQuery,
  toStorageColumns,
  truncateTableSql,
} from "./ddl.js";
export type { LoadRow } from "./dlt-tables.js";
export {
  decodeStoredSchema,
  encodeStoredSchema,
  insertLoadQuery,
  insertVersionQuery,
  LOADS_TABLE_COLUMNS,
  STATE_TABLE_COLUMNS,
  schemaFromStoredRow,
  schemaVersionExistsQuery,
  storedSchemaQuery,
  storedStateQuery,
  VERSION_TABLE_COLUMNS,
} from "./dlt-tables.js";
export {
  escapeDoubleQuotedIdentifier,
  escapeDuckDBLiteral,
  escapePostgresLiteral,
  escapeStringLiteral,
} from "./escape.js";
export type { SqlDialect, SqlDialectOptions, SqlParam, SqlQuery } from "./sql-dialect.js";
export { createSqlDialect } from "./sql-dialect.js";
