export { z } from "zod";
export type { Collector, CollectorUpdate } from "./collector.js";
export { nullCollector } from "./collector.js";
// Configuration and secrets: the curated list is `config/index.ts`.
export * from "./config/index.js";
export type { ColumnHint, DataType, LoaderFileFormat, WriteDisposition } from "./data-types.js";
export {
  COLUMN_HINTS,
  DATA_TYPES,
  isDataType,
  LOADER_FILE_FORMATS,
  WRITE_DISPOSITIONS,
} from "./data-types.js";
export type {
  Destination,
  DestinationCapabilities,
  DestinationClient,
  DestinationContext,
  FollowupJob,
  LoadJob,
  LoadJobFile,
  MergeStrategy,
  ReplaceStrategy,
  SchemaUpdateResult,
  StoredStateRow,
  TableChain,
  TableChainDisposition,
  WithBatchLoadJobs,
  WithDropTables,
  WithLoadTransaction,
  WithSqlClient,
  WithStagingDataset,
  WithStateSync,
  WithTableChainFollowupJobs,
} from "./destination.js";
export {
  DEFAULT_CAPABILITIES,
  defineCapabilities,
  MERGE_STRATEGIES,
  REPLACE_STRATEGIES,
  requestedMergeStrategy,
  resolveMergeStrategy,
  resolveReplaceStrategy,
  STAGING_DATASET_NAME_LAYOUT,
  stagingDatasetName,
  storedStateRowOf,
  supportsBatchLoadJobs,
  supportsDropTables,
  supportsLoadTransaction,
  supportsSql,
  supportsStagingDataset,
  supportsStateSync,
  supportsTableChainFollowupJobs,
} from "./destination.js";
export type {
  PipelineStep,
  PipelineStepFailedOptions,
  TsdltErrorCode,
  TsdltErrorContext,
  TsdltErrorOptions,
} from "./errors.js";
export {
  DestinationError,
  ERROR_CODES,
  ExtractError,
  isTsdltError,
  LoadJobError,
  NormalizeError,
  PIPELINE_STEPS,
  PipelineStepFailed,
  SchemaError,
  TsdltError,
  toTsdltError,
} from "./errors.js";
export { fsyncDirSync, isGzipFile, renameDurableSync, writeFileAtomicSync } from "./fs-utils.js";
export { DLT_ID_LENGTH_BYTES, digest128, digest256, randomDltId, uniqId } from "./hashing.js";
export type {
  JobState,
  LoadPackageStateDoc,
  PackageJob,
  PackageState,
  PackageStorageKind,
  ParsedJobFileName,
} from "./load-package.js";
export {
  compareLoadIds,
  createLoadId,
  formatJobFileName,
  isLoaderFileFormat,
  JOB_STATES,
  jobIdOf,
  LoadPackage,
  newFileId,
  PACKAGE_FILES,
  PACKAGE_STATES,
  PackageStorage,
  parseJobFileName,
  STORAGE_VERSIONS,
} from "./load-package.js";
export type { Logger } from "./logger.js";
export { silentLogger } from "./logger.js";
export { DIRECT_PATH_SEPARATOR, direct, toDirect } from "./naming/direct.js";
export { duckCase, toDuckCase } from "./naming/duck-case.js";
export type { NamingConvention, NamingConventionSpec } from "./naming/naming-convention.js";
export { createNamingConvention, PATH_SEPARATOR, shortenIdentifier } from "./naming/naming-convention.js";
export type { NamingConventionName } from "./naming/naming-conventions.js";
export {
  defaultNamingConventionName,
  NAMING_CONVENTIONS,
  namingConvention,
  namingConventionName,
} from "./naming/naming-conventions.js";
export type { SnakeCaseOptions } from "./naming/snake-case.js";
export { snakeCase, toSnakeCase } from "./naming/snake-case.js";
export { sqlCiV1, sqlCsV1, toSqlCsV1 } from "./naming/sql-v1.js";
export type { LocalState, PipelineStateDoc, SourceState } from "./pipeline-state.js";
export {
  bumpStateVersion,
  compressState,
  decompressState,
  newPipelineState,
  pipelineStateRow,
  STATE_ENGINE_VERSION,
  stateVersionHash,
} from "./pipeline-state.js";
export type { SchemaOptions } from "./schema/schema.js";
export {
  defaultHints,
  isCompleteColumn,
  JSON_NORMALIZERS,
  jsonNormalizerModule,
  MAX_SCHEMA_NAME_LENGTH,
  normalizeSchemaName,
  RELATIONAL_NO_COERCION_NORMALIZER,
  RELATIONAL_NORMALIZER,
  Schema,
} from "./schema/schema.js";
export type {
  ContractEntity,
  ContractFilter,
  ContractVerdict,
  ResolvedContract,
} from "./schema/schema-contract.js";
export {
  applySchemaContract,
  CONTRACT_ENTITIES,
  EVOLVE_ALL,
  expandContract,
  isNewTable,
  resolveContract,
} from "./schema/schema-contract.js";
export {
  C_DLT_ID,
  C_DLT_LIST_IDX,
  C_DLT_LOAD_ID,
  C_DLT_PARENT_ID,
  C_DLT_ROOT_ID,
  DLT_PREFIX,
  isDltName,
  LOADS_TABLE_NAME,
  loadsTable,
  PIPELINE_STATE_TABLE_NAME,
  pipelineStateTable,
  VERSION_TABLE_NAME,
  versionTable,
} from "./schema/system-tables.js";
export type {
  ColumnSchema,
  CompleteColumnSchema,
  NormalizersConfig,
  SchemaContract,
  SchemaContractMode,
  SchemaSettings,
  StoredSchema,
  TableSchema,
} from "./schema/types.js";
export { SCHEMA_ENGINE_VERSION } from "./schema/types.js";
export type { StagedFile, StagingLoadJob, WithStagedFiles } from "./staging.js";
export {
  formatReferenceJob,
  isStagingLoadJob,
  parseReferenceJob,
  prepareStagingDestination,
  REFERENCE_FILE_FORMAT,
  referenceJobFileName,
  resolveStagingFileFormat,
  stagedFileFormat,
  supportsStagedFiles,
} from "./staging.js";
export type { PuaKind, TypedScalar } from "./typed-json.js";
export {
  decodePua,
  fromTypedJson,
  isPuaEncoded,
  PUA_KINDS,
  PUA_START,
  toTypedJson,
  typedJsonReplacer,
} from "./typed-json.js";
