/**
 * tsdlt — the data load tool for TypeScript. Hand it arrays, iterables or (async) generators; it
 * infers a schema, normalizes nested data into relational tables and loads them into DuckDB.
 *
 * @example
 * ```ts
 * import * as dlt from "tsdlt";
 * const pipeline = dlt.pipeline({ pipelineName: "quick_start", destination: "duckdb", datasetName: "mydata" });
 * console.log(String(await pipeline.run([{ id: 1, name: "Alice" }], { tableName: "users" })));
 * ```
 */

export type {
  Collector,
  CollectorUpdate,
  ColumnSchema,
  ConfigAccessor,
  ConfigDeclaration,
  ConfigExplanation,
  DataType,
  Destination,
  DestinationCapabilities,
  DestinationClient,
  DuckDbCredentials,
  PipelineStateDoc,
  PostgresCredentials,
  TableSchema,
  TsdltErrorCode,
  WriteDisposition,
} from "@tsdlt/core";
export {
  config,
  DestinationError,
  declaredConfigs,
  defineCapabilities,
  ExtractError,
  explainConfig,
  isTsdltError,
  LoadJobError,
  NormalizeError,
  nullCollector,
  PipelineStepFailed,
  Schema,
  secret,
  secrets,
  TsdltError,
  z,
} from "@tsdlt/core";
export type {
  ColumnsHint,
  ConfigSpec,
  ConfiguredResourceOptions,
  ConfiguredSourceFactory,
  ConfiguredSourceOptions,
  Current,
  IncrementalOptions,
  LimitOptions,
  MergeDispositionOptions,
  ReplaceDispositionOptions,
  ResourceData,
  ResourceFunction,
  ResourceHints,
  ResourceOptions,
  SourceFactory,
  SourceOptions,
  TransformerFunction,
  TransformerOptions,
  WriteDispositionHint,
} from "@tsdlt/extract";
export {
  current,
  DltResource,
  DltSource,
  defer,
  Incremental,
  resource,
  source,
  transformer,
} from "@tsdlt/extract";
export type { AttachOptions } from "./attach.js";
export { attach, attachSync } from "./attach.js";
export type {
  BoundSql,
  ColumnTypeHint,
  ColumnValue,
  DataRow,
  DatasetOptions,
  DataTypeValues,
  FilterOperator,
  RowCount,
  RowCountsOptions,
  RowFromColumns,
  RowFromTable,
  SortDirection,
  SqlClientFactory,
} from "./dataset.js";
export { createDataset, Dataset, FILTER_OPERATORS, Relation } from "./dataset.js";
export type { DestinationReference } from "./destinations.js";
export { destinations, isDestination, resolveDestination } from "./destinations.js";
export { formatElapsed } from "./humanize.js";
export { LOCK_STALE_MS } from "./lock.js";
export { dataDir, defaultPipelinesDir } from "./paths.js";
export type {
  PipelineOptions,
  PipelineSqlClient,
  RunOptions,
} from "./pipeline.js";
export { Pipeline, pipeline, run } from "./pipeline.js";
export type { BarCollectorOptions, LogCollectorOptions, ProgressOption } from "./progress.js";
export { BarCollector, createCollector, LogCollector } from "./progress.js";
export type { DropPlan, DropSelection, RefreshMode } from "./refresh.js";
export { dropResources, planDrop, REFRESH_MODES, schemaResources } from "./refresh.js";
export type {
  RestApiIncrementalDescriptor,
  RestApiIncrementalValues,
  RestApiPageOptions,
  RestApiResourceDescriptor,
  RestApiSourceOptions,
  RestApiWriteDisposition,
} from "./rest-api-source.js";
export { restApiSource } from "./rest-api-source.js";
export {
  type ConfiguredSinkDestinationOptions,
  type ConfiguredSinkFunction,
  destination,
  type SinkDestination,
  type SinkDestinationOptions,
  type SinkFunction,
  type SinkItem,
} from "./sink-destination.js";
export { sources } from "./sources.js";
export type { LoadInfoFields, LoadJobInfo, LoadPackageInfo } from "./step-info.js";
export { ExtractInfo, LoadInfo, NormalizeInfo } from "./step-info.js";
export type { PipelineStepTrace, PipelineTraceDoc } from "./trace.js";
export { PipelineTrace } from "./trace.js";
