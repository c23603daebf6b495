export type { DuckDBClientOptions, DuckDBRow } from "./duckdb-client.js";
export { DuckDBClient } from "./duckdb-client.js";
export type { DuckDBDestination, DuckDBDestinationOptions, DuckDBPathContext } from "./duckdb-destination.js";
export { defaultDuckDBMemoryLimit, duckdb, duckdbDatabasePath } from "./duckdb-destination.js";
export {
  DESTINATION_NAME,
  DESTINATION_TYPE,
  DUCKDB_CAPABILITIES,
  duckdbColumnType,
  duckdbDialect,
} from "./duckdb-dialect.js";
export type { DuckDBErrorClassification, DuckDBErrorReason } from "./duckdb-errors.js";
export { classifyDuckDBError, DUCKDB_ERROR_REASONS } from "./duckdb-errors.js";
export type { JsonlCompression } from "./jsonl-load.js";
export { jsonlInsertSql } from "./jsonl-load.js";
