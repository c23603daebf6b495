/**
 * @tsdlt/extract — resources, transformers, sources and incremental cursors, and the extract stage
 * that runs them into extracted load packages.
 */
export type { ConfigSpec } from "./config-injection.js";
export type { Current } from "./context.js";
export { current } from "./context.js";
export { Deferred, defer, isDeferred } from "./defer.js";
export type { NextItemMode } from "./engine.js";
export { DEFAULT_MAX_PARALLEL_ITEMS, NEXT_ITEM_MODES } from "./engine.js";
export type {
  ClosedJobFile,
  ExtractFileListener,
  ExtractOptions,
  ExtractResult,
  ExtractSourceOptions,
} from "./extract.js";
export {
  applySourceSettings,
  DEFAULT_BUFFER_MAX_ITEMS,
  DEFAULT_EXTRACT_FILE_MAX_BYTES,
  extractResources,
  extractSource,
} from "./extract.js";
export type {
  ColumnsHint,
  MergeDispositionOptions,
  PlainDispositionOptions,
  ReplaceDispositionOptions,
  ResourceHints,
  TableNameHint,
  WriteDispositionHint,
} from "./hints.js";
export { DEFAULT_VALIDITY_COLUMN_NAMES } from "./hints.js";
export type {
  BoundaryOverflowPolicy,
  IncrementalColumnState,
  IncrementalOptions,
  IncrementalRange,
  LastValueFunc,
  LastValueFunction,
  OnCursorValueMissing,
  RowOrder,
} from "./incremental.js";
export {
  BOUNDARY_OVERFLOW_POLICIES,
  DEFAULT_MAX_UNIQUE_HASHES,
  Incremental,
  incremental,
  isIncremental,
  ON_CURSOR_VALUE_MISSING,
} from "./incremental.js";
export { encodeItems } from "./item-encoder.js";
export type {
  ConfiguredResourceOptions,
  LimitOptions,
  ResourceData,
  ResourceFunction,
  ResourceOptions,
  TransformerFunction,
  TransformerOptions,
} from "./resource.js";
export { DltResource, isResource, resource, transformer } from "./resource.js";
export type {
  ConfiguredSourceFactory,
  ConfiguredSourceOptions,
  SourceFactory,
  SourceOptions,
} from "./source.js";
export { DltSource, isSource, source } from "./source.js";
