/**
 * The destination contract (DESIGN §5): factory → client → job, all async. A destination is a plain
 * object; its abilities are data ({@link DestinationCapabilities}); optional abilities are separate
 * interfaces detected with type guards.
 *
 * @example
 * ```ts
 * import { defineCapabilities, type Destination } from "@tsdlt/core";
 * export function myDestination(): Destination {
 *   return {
 *     name: "my_dest",
 *     destinationType: "tsdlt_destination_my_dest",
 *     capabilities: defineCapabilities({ preferredLoaderFileFormat: "jsonl", supportedLoaderFileFormats: ["jsonl"] }),
 *     displayLocation: () => "my-dest://",
 *     async createClient(schema, context) { ... },
 *   };
 * }
 * ```
 */
import type { LoaderFileFormat } from "./data-types.js";
import type { ParsedJobFileName } from "./load-package.js";
import type { Logger } from "./logger.js";
import type { PipelineStateDoc } from "./pipeline-state.js";
import type { Schema } from "./schema/schema.js";
import type { TableSchema } from "./schema/types.js";

/** Merge strategies (REFERENCE §4.3). */
export const MERGE_STRATEGIES = ["delete-insert", "upsert", "scd2", "insert-only"] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];
/** Replace strategies (REFERENCE §4.2). */
export const REPLACE_STRATEGIES = [
  "truncate-and-insert",
  "insert-from-staging",
  "staging-optimized",
] as const;
export type ReplaceStrategy = (typeof REPLACE_STRATEGIES)[number];

/** What a destination can do, as data. Normalize and load read it. */
export interface DestinationCapabilities {
  readonly preferredLoaderFileFormat: LoaderFileFormat;
  readonly supportedLoaderFileFormats: readonly LoaderFileFormat[];
  readonly preferredStagingFileFormat: LoaderFileFormat | undefined;
  readonly supportedStagingFileFormats: readonly LoaderFileFormat[];
  readonly maxIdentifierLength: number;
  readonly maxColumnIdentifierLength: number;
  readonly hasCaseSensitiveIdentifiers: boolean;
  readonly decimalPrecision: readonly [number, number];
  readonly weiPrecision: readonly [number, number];
  readonly timestampPrecision: number;
  readonly maxTimestampPrecision: number;
  readonly maxQueryLength: number;
  readonly maxTextDataTypeLength: number;
  readonly supportsTransactions: boolean;
  readonly supportsDdlTransactions: boolean;
  readonly alterAddMultiColumn: boolean;
  readonly supportsCreateTableIfNotExists: boolean;
  readonly supportsTruncateCommand: boolean;
  readonly supportsNativeBoolean: boolean;
  readonly supportsNestedTypes: boolean;
  readonly supportsTzAwareDatetime: boolean;
  readonly supportsNaiveDatetime: boolean;
  readonly maxTableNesting: number | undefined;
  readonly supportedMergeStrategies: readonly MergeStrategy[];
  readonly supportedReplaceStrategies: readonly ReplaceStrategy[];
  readonly maxParallelLoadJobs: number | undefined;
  readonly loaderParallelismStrategy: "parallel" | "table-sequential" | "sequential";
  /** The destination stores tables in a named dataset (schema / folder) and needs a dataset name. */
  readonly needsDatasetName: boolean;
  /** Naming convention the destination prefers. */
  readonly namingConvention: string;
}

/** Defaults every destination inherits (dlt's `generic_capabilities()`). Deeply frozen: destinations share these arrays. */
export const DEFAULT_CAPABILITIES: DestinationCapabilities = Object.freeze({
  preferredLoaderFileFormat: "jsonl",
  supportedLoaderFileFormats: Object.freeze(["jsonl", "insert_values", "parquet", "csv", "model"] as const),
  preferredStagingFileFormat: undefined,
  supportedStagingFileFormats: Object.freeze([]),
  maxIdentifierLength: 65536,
  maxColumnIdentifierLength: 65536,
  hasCaseSensitiveIdentifiers: true,
  decimalPrecision: Object.freeze([38, 9] as const),
  weiPrecision: Object.freeze([78, 0] as const),
  timestampPrecision: 6,
  maxTimestampPrecision: 6,
  maxQueryLength: 32 * 1024 * 1024,
  maxTextDataTypeLength: 1024 * 1024 * 1024,
  supportsTransactions: true,
  supportsDdlTransactions: true,
  alterAddMultiColumn: true,
  supportsCreateTableIfNotExists: true,
  supportsTruncateCommand: true,
  supportsNativeBoolean: true,
  supportsNestedTypes: false,
  supportsTzAwareDatetime: true,
  supportsNaiveDatetime: true,
  maxTableNesting: undefined,
  supportedMergeStrategies: Object.freeze([]),
  supportedReplaceStrategies: Object.freeze(["truncate-and-insert"] as const),
  maxParallelLoadJobs: undefined,
  loaderParallelismStrategy: "parallel",
  needsDatasetName: true,
  namingConvention: "snake_case",
} satisfies DestinationCapabilities);

/** Builds a full capabilities object from the fields a destination sets; the rest come from defaults. */
export function defineCapabilities(partial: Partial<DestinationCapabilities>): DestinationCapabilities {
  return Object.freeze({ ...DEFAULT_CAPABILITIES, ...partial });
}

/** What a destination learns about the pipeline it serves. */
export interface DestinationContext {
  readonly pipelineName: string;
  /** Dataset (database schema / folder) to load into; already normalized. */
  readonly datasetName: string;
  /** The pipeline's working folder. */
  readonly workingDir: string;
  /** Folder that relative destination paths resolve against (cwd, or env `DLT_LOCAL_DIR`). */
  readonly localDir: string;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/**
 * A destination: a name, capabilities and a client factory. No I/O happens until
 * {@link Destination.createClient}.
 */
export interface Destination {
  /** Short name shown to users (`duckdb`, `postgres`, or the name given to a named destination). */
  readonly name: string;
  /** Type recorded in pipeline state, e.g. `dlt.destinations.duckdb`. */
  readonly destinationType: string;
  readonly capabilities: DestinationCapabilities;
  /** Where the data goes, with secrets masked (e.g. `duckdb:////abs/path.duckdb`). */
  displayLocation(context: DestinationContext): string;
  /** Opens a client bound to `schema` and the pipeline's dataset. */
  createClient(schema: Schema, context: DestinationContext): Promise<DestinationClient>;
}

/** DDL applied (or found already applied) by {@link DestinationClient.updateStoredSchema}. */
export interface SchemaUpdateResult {
  /** Tables created or altered, with the columns added. Empty when the schema was already stored. */
  readonly tables: Record<string, string[]>;
  /** The SQL (or other commands) executed. */
  readonly statements: readonly string[];
}

/** A client of one destination for one schema; dispose it when done. */
export interface DestinationClient extends AsyncDisposable {
  readonly capabilities: DestinationCapabilities;
  /** Creates the dataset and the dlt system tables if missing. */
  initializeStorage(options?: { truncateTables?: readonly string[] }): Promise<void>;
  isStorageInitialized(): Promise<boolean>;
  /**
   * Brings the destination to the schema's version: creates new tables and adds new columns (never
   * drops or changes types), then records the version in `_dlt_version`. No-op when already stored.
   */
  updateStoredSchema(options?: { onlyTables?: readonly string[] }): Promise<SchemaUpdateResult>;
  /** A job that loads one file of a package into `table`. */
  createLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob>;
  /** Records a completed package in `_dlt_loads` (status 0). */
  completeLoad(loadId: string): Promise<void>;
}

/** A job file handed to a destination. */
export interface LoadJobFile {
  readonly path: string;
  readonly fileName: string;
  readonly parsed: ParsedJobFileName;
}

/** One unit of loading work (one file). Throw a {@link DestinationError} to fail it. */
export interface LoadJob {
  readonly jobId: string;
  run(signal?: AbortSignal): Promise<void>;
}

/** A stored state row read back from the destination. */
export interface StoredStateRow {
  readonly version: number;
  readonly engineVersion: number;
  readonly pipelineName: string;
  readonly state: string;
  readonly createdAt: Date;
  readonly versionHash: string | undefined;
  readonly loadId: string;
}

/** Optional ability: the destination can give back schemas and pipeline state (restore on a new machine). */
export interface WithStateSync {
  /** The newest stored schema named `schemaName` (default: the client's schema name). */
  getStoredSchema(schemaName?: string): Promise<Schema | undefined>;
  /** The newest state of `pipelineName` from a completed load. */
  getStoredState(pipelineName: string): Promise<StoredStateRow | undefined>;
}

/** Type guard for {@link WithStateSync}. */
export function supportsStateSync(client: DestinationClient): client is DestinationClient & WithStateSync {
  const c = client as Partial<WithStateSync>;
  return typeof c.getStoredSchema === "function" && typeof c.getStoredState === "function";
}

/** Optional ability: read-only SQL access to the dataset (for tests, the CLI and `pipeline.dataset()`). */
export interface WithSqlClient {
  /** Runs a query and returns rows as plain objects. */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Qualified, escaped name of a table in the dataset. */
  qualifiedTableName(table: string): string;
}

/** Type guard for {@link WithSqlClient}. */
export function supportsSql(client: DestinationClient): client is DestinationClient & WithSqlClient {
  const c = client as Partial<WithSqlClient>;
  return typeof c.query === "function" && typeof c.qualifiedTableName === "function";
}

/** Re-exported for destination authors. */
export type { PipelineStateDoc };
