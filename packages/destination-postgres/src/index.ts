export type { CopyPlan, CsvRecordsOptions } from "./copy-load.js";
export { copyPlan, csvRecords, JsonlSyntaxError, jsonLineToCsv } from "./copy-load.js";
export { csvCopySql } from "./csv-load.js";
export type { PostgresClientOptions, PostgresRow } from "./postgres-client.js";
export { PostgresClient } from "./postgres-client.js";
export type { PostgresDestination, PostgresDestinationOptions } from "./postgres-destination.js";
export { postgres, resolvePostgresCredentials } from "./postgres-destination.js";
export type { PostgresDialectOptions } from "./postgres-dialect.js";
export {
  createPostgresDialect,
  DESTINATION_NAME,
  DESTINATION_TYPE,
  POSTGRES_CAPABILITIES,
  postgresColumnType,
  postgresDdlType,
  postgresDialect,
} from "./postgres-dialect.js";
export type {
  PostgresEndpoint,
  PostgresErrorClassification,
  PostgresErrorReason,
} from "./postgres-errors.js";
export { classifyPostgresError, connectionError, POSTGRES_ERROR_REASONS } from "./postgres-errors.js";
