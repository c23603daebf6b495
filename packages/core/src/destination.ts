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
import { DestinationError } from "./errors.js";
import type { ParsedJobFileName } from "./load-package.js";
import type { Logger } from "./logger.js";
import type { PipelineStateDoc } from "./pipeline-state.js";
import type { Schema } from "./schema/schema.js";
import type { TableSchema } from "./schema/types.js";
import type { StagedFile } from "./staging.js";

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
  /**
   * The replace strategy chosen for this destination (dlt's `[destination] replace_strategy`); one of
   * `capabilities.supportedReplaceStrategies`. @default the first supported strategy
   */
  readonly replaceStrategy?: ReplaceStrategy | undefined;
  /** Where the data goes, with secrets masked (e.g. `duckdb:////abs/path.duckdb`). */
  displayLocation(context: DestinationContext): string;
  /**
   * Present on destinations that can be another destination's staging area (the filesystem, dlt's
   * `as_staging_destination`): the variant that writes `fileFormat` files for the final destination
   * to load, appending every table and keeping no schema or state files of its own. Its clients'
   * jobs are `StagingLoadJob`s and its clients implement `WithStagedFiles` (see `staging.ts`).
   */
  readonly asStagingDestination?: (options: { readonly fileFormat: LoaderFileFormat }) => Destination;
  /**
   * The file format this destination was explicitly configured to write, if any. Used as the staged
   * file format when the destination stages for another and the run requests no format.
   */
  readonly configuredFileFormat?: LoaderFileFormat | undefined;
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
  /**
   * A job that loads one file of a package into `table`. A client that creates follow-up jobs
   * ({@link WithTableChainFollowupJobs}) also receives their files here (format `sql`), with the
   * chain's root table.
   */
  createLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob>;
  /** Records a completed package in `_dlt_loads` (status 0). */
  completeLoad(loadId: string): Promise<void>;
}

/** A job file handed to a destination. */
export interface LoadJobFile {
  readonly path: string;
  readonly fileName: string;
  readonly parsed: ParsedJobFileName;
  /**
   * For reference jobs (format `reference`, loads through a staging destination): the staged file to
   * load. Destinations that declare `supportedStagingFileFormats` read it instead of `path`.
   */
  readonly staged?: StagedFile | undefined;
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

/**
 * The {@link StoredStateRow} of a `_dlt_pipeline_state` row as a destination reads it back (column
 * names as stored; values as the driver or file returns them: numbers or strings, `Date` or text).
 */
export function storedStateRowOf(row: Readonly<Record<string, unknown>>): StoredStateRow {
  const createdAt = row.created_at instanceof Date ? row.created_at : new Date(String(row.created_at));
  return {
    version: Number(row.version),
    engineVersion: Number(row.engine_version),
    pipelineName: String(row.pipeline_name),
    state: String(row.state),
    createdAt: Number.isNaN(createdAt.getTime()) ? new Date(0) : createdAt,
    versionHash:
      row.version_hash === null || row.version_hash === undefined ? undefined : String(row.version_hash),
    loadId: String(row._dlt_load_id),
  };
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
  /**
   * The identifier as the database stores it (Postgres lower-cases every identifier it creates).
   * Readers use it to quote schema column names. Leave it out when identifiers are stored as given.
   */
  casefoldIdentifier?(identifier: string): string;
}

/** Type guard for {@link WithSqlClient}. */
export function supportsSql(client: DestinationClient): client is DestinationClient & WithSqlClient {
  const c = client as Partial<WithSqlClient>;
  return typeof c.query === "function" && typeof c.qualifiedTableName === "function";
}

/**
 * Optional ability: dropping tables (dlt's `drop_tables`). The load stage calls it for the tables a
 * `refresh` run lists in its package (`dropped_tables`), before it migrates the dataset, so the
 * tables are created again from the package's schema. Inside
 * {@link WithLoadTransaction.runInLoadTransaction} the client must run it on the transaction, so
 * the drop commits with the new data or not at all.
 *
 * @example
 * ```ts
 * async dropTables(tables, { deleteSchema = true } = {}) {
 *   for (const t of tables) await this.run(`DROP TABLE IF EXISTS ${this.qualifiedTableName(t)}`);
 *   if (deleteSchema) await this.run(`DELETE FROM _dlt_version WHERE schema_name = $1`, [this.schema.name]);
 * }
 * ```
 */
export interface WithDropTables {
  /**
   * Drops `tables` (in the given order; tables that do not exist are skipped) from the dataset and,
   * when the client has one, from the staging dataset. With `deleteSchema` (the default) every
   * stored version of the client's schema is deleted from `_dlt_version` too, so the next
   * {@link DestinationClient.updateStoredSchema} compares the schema with the tables that exist and
   * creates the dropped ones again.
   */
  dropTables(tables: readonly string[], options?: { readonly deleteSchema?: boolean }): Promise<void>;
}

/** Type guard for {@link WithDropTables}. */
export function supportsDropTables(client: DestinationClient): client is DestinationClient & WithDropTables {
  return typeof (client as Partial<WithDropTables>).dropTables === "function";
}

/** Re-exported for destination authors. */
export type { PipelineStateDoc };

/** The layout of staging dataset names (dlt's `staging_dataset_name_layout`): `%s` is the dataset name. */
export const STAGING_DATASET_NAME_LAYOUT = "%s_staging";

/** The staging dataset of `datasetName` (`<dataset>_staging`); a layout without `%s` is a fixed name. */
export function stagingDatasetName(
  datasetName: string,
  layout: string = STAGING_DATASET_NAME_LAYOUT,
): string {
  return layout.includes("%s") ? layout.replace("%s", datasetName) : layout;
}

/**
 * Optional ability: a staging dataset (`<dataset>_staging`) next to the main one. The load stage loads
 * the jobs of merge tables (and of replace tables, when the replace goes through staging) there, then
 * runs the chain's follow-up jobs ({@link WithTableChainFollowupJobs}) that move the data over.
 */
export interface WithStagingDataset {
  /** Name of the staging dataset (normalized, like the main dataset's). */
  readonly stagingDatasetName: string;
  /**
   * Creates the staging dataset if missing, brings `tables` there to the client's schema as
   * {@link DestinationClient.updateStoredSchema} does in the main dataset (new tables and columns
   * only, no `_dlt_version` row), then empties `truncateTables`. Returns the DDL it ran.
   */
  initializeStagingDataset(options: {
    readonly tables: readonly string[];
    readonly truncateTables: readonly string[];
  }): Promise<SchemaUpdateResult>;
  /** A job that loads one file of a package into the staging copy of `table`. */
  createStagingLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob>;
}

/** Type guard for {@link WithStagingDataset}. */
export function supportsStagingDataset(
  client: DestinationClient,
): client is DestinationClient & WithStagingDataset {
  const c = client as Partial<WithStagingDataset>;
  return (
    typeof c.stagingDatasetName === "string" &&
    typeof c.initializeStagingDataset === "function" &&
    typeof c.createStagingLoadJob === "function"
  );
}

/** What a table chain's follow-up does: a merge or a replace, with the strategy the load stage resolved. */
export type TableChainDisposition =
  | { readonly kind: "merge"; readonly strategy: MergeStrategy }
  | { readonly kind: "replace"; readonly strategy: ReplaceStrategy };

/**
 * A root table with its nested tables whose jobs all completed (dlt's table chain). Write
 * dispositions and hints are those of the package's schema; nested tables carry their root's
 * `write_disposition`.
 */
export interface TableChain {
  /**
   * The root table first, then its nested tables, parents before children: every table of the chain
   * that has complete columns (so exists in the destination), whether or not it had jobs in this load.
   */
  readonly tables: readonly TableSchema[];
  readonly disposition: TableChainDisposition;
  /** When the load package was created: scd2's boundary timestamp unless the root sets `x-boundary-timestamp`. */
  readonly packageCreatedAt: Date;
}

/** A follow-up job to store in the package: the load stage writes it as `<tableName>.<file_id>.0.<fileFormat>`. */
export interface FollowupJob {
  /** Table the job file is named after: the chain's root table. */
  readonly tableName: string;
  /** The file format (extension) of the job file. */
  readonly fileFormat: "sql";
  /** The file's content; for `sql`, one statement per line, run in one transaction. */
  readonly content: string;
}

/**
 * Optional ability: jobs that run once every job of a table chain completed (dlt's
 * `create_table_chain_completed_followup_jobs`): the merge and the replace-from-staging SQL. The load
 * stage stores them in the package (`new_jobs/<root>.<file_id>.0.sql`) and hands them back to
 * {@link DestinationClient.createLoadJob}, so a crash between creating and running them is resumed.
 *
 * @example
 * ```ts
 * async createTableChainFollowupJobs(chain) {
 *   const sql = tableChainFollowupSql(dialect, chain, { datasetName, stagingDatasetName });
 *   return [{ tableName: chain.tables[0].name, fileFormat: "sql", content: toSqlJobText(sql) }];
 * }
 * ```
 */
export interface WithTableChainFollowupJobs {
  createTableChainFollowupJobs(chain: TableChain, loadId: string): Promise<FollowupJob[]>;
}

/** Type guard for {@link WithTableChainFollowupJobs}. */
export function supportsTableChainFollowupJobs(
  client: DestinationClient,
): client is DestinationClient & WithTableChainFollowupJobs {
  return typeof (client as Partial<WithTableChainFollowupJobs>).createTableChainFollowupJobs === "function";
}

/**
 * Optional ability: exactly-once packages. The load stage runs every job of a package, its follow-up
 * jobs and {@link DestinationClient.completeLoad} inside {@link WithLoadTransaction.runInLoadTransaction}:
 * either all of the package's rows and its `_dlt_loads` row become visible, or none. A crash at any
 * point leaves no partial package behind, and {@link WithLoadTransaction.isLoadCompleted} tells a resumed
 * load that the commit already happened, so nothing is loaded twice.
 *
 * While `fn` runs, the load stage calls the client one job at a time; the client must run those jobs
 * (and `completeLoad`, `truncateTables`) on the transaction.
 */
export interface WithLoadTransaction {
  runInLoadTransaction<T>(loadId: string, fn: () => Promise<T>): Promise<T>;
  /** True when `_dlt_loads` already records `loadId`. */
  isLoadCompleted(loadId: string): Promise<boolean>;
  /**
   * When true, the load stage also migrates the dataset (`updateStoredSchema`, the staging dataset,
   * truncation) inside the transaction, so tables a package creates commit with its rows or not at
   * all, and the client may build their indexes after the bulk load. @default false: the migration
   * commits before the transaction starts (it always joins it for a `refresh` that drops tables).
   */
  readonly migrateInLoadTransaction?: boolean;
}

/** Type guard for {@link WithLoadTransaction}. */
export function supportsLoadTransaction(
  client: DestinationClient,
): client is DestinationClient & WithLoadTransaction {
  const c = client as Partial<WithLoadTransaction>;
  return typeof c.runInLoadTransaction === "function" && typeof c.isLoadCompleted === "function";
}

/**
 * Optional ability: one job for several data files of one table. Inside a load transaction, where a
 * package commits or rolls back as a whole so per-file bookkeeping buys nothing, the load stage hands
 * a client with this ability a table's pending files together (in batches bounded by size) instead of
 * one by one: a database that reads many files in one statement loads them in parallel (DuckDB loads
 * 1M bench rows in 3.9 s this way, against 6.7 s file by file).
 *
 * `files` share the table and the file format; `staging` says the job loads into the staging dataset
 * (merge and replace tables, see {@link WithStagingDataset}). Return `undefined` to decline: the load
 * stage then runs the files as single jobs. A failed batch job fails every file in it.
 */
export interface WithBatchLoadJobs {
  createBatchLoadJob(
    table: TableSchema,
    files: readonly LoadJobFile[],
    loadId: string,
    options: { readonly staging: boolean },
  ): Promise<LoadJob | undefined>;
}

/** Type guard for {@link WithBatchLoadJobs}. */
export function supportsBatchLoadJobs(
  client: DestinationClient,
): client is DestinationClient & WithBatchLoadJobs {
  return typeof (client as Partial<WithBatchLoadJobs>).createBatchLoadJob === "function";
}

/** The merge strategy a table asks for with its `x-merge-strategy` hint, if it is one of {@link MERGE_STRATEGIES}. */
export function requestedMergeStrategy(table: TableSchema): MergeStrategy | undefined {
  const hint = table["x-merge-strategy"];
  return (MERGE_STRATEGIES as readonly unknown[]).includes(hint) ? (hint as MergeStrategy) : undefined;
}

/**
 * The merge strategy of a merge table on a destination (dlt's `resolve_merge_strategy`): the
 * `x-merge-strategy` hint, else the destination's first supported strategy. `undefined` when the
 * destination supports no merge strategy at all (the caller falls back to append and warns).
 *
 * @throws DestinationError (terminal) when the hint names an unknown or unsupported strategy.
 */
export function resolveMergeStrategy(
  table: TableSchema,
  capabilities: DestinationCapabilities,
  destinationName = "destination",
): MergeStrategy | undefined {
  const supported = capabilities.supportedMergeStrategies;
  const hint = table["x-merge-strategy"];
  if (hint !== undefined && requestedMergeStrategy(table) === undefined) {
    throw new DestinationError(
      `[tsdlt] [${destinationName}] Table \`${table.name}\` asks for merge strategy ${JSON.stringify(hint)}, which does not exist. Use one of ${MERGE_STRATEGIES.map((s) => `\`${s}\``).join(", ")}.`,
      { code: "DESTINATION_TERMINAL", retryable: false, destination: destinationName, table: table.name },
    );
  }
  if (supported.length === 0) return undefined;
  const strategy = requestedMergeStrategy(table) ?? (supported[0] as MergeStrategy);
  if (!supported.includes(strategy)) {
    throw new DestinationError(
      `[tsdlt] [${destinationName}] Merge strategy \`${strategy}\` of table \`${table.name}\` is not supported by this destination; it supports ${supported.map((s) => `\`${s}\``).join(", ")}. Change the \`strategy\` of the write disposition.`,
      { code: "DESTINATION_TERMINAL", retryable: false, destination: destinationName, table: table.name },
    );
  }
  return strategy;
}

/**
 * The replace strategy to use (dlt's `replace_strategy` config): `requested` when the destination
 * supports it, else the destination's first supported strategy when nothing was requested.
 *
 * @throws DestinationError (terminal) when `requested` is unknown or unsupported.
 */
export function resolveReplaceStrategy(
  requested: ReplaceStrategy | undefined,
  capabilities: DestinationCapabilities,
  destinationName = "destination",
): ReplaceStrategy {
  const supported = capabilities.supportedReplaceStrategies;
  const strategy = requested ?? supported[0] ?? "truncate-and-insert";
  if (requested !== undefined && !supported.includes(requested)) {
    throw new DestinationError(
      `[tsdlt] [${destinationName}] Replace strategy ${JSON.stringify(requested)} is not supported by this destination; it supports ${supported.map((s) => `\`${s}\``).join(", ")}. Set \`replaceStrategy\` to one of them.`,
      { code: "DESTINATION_TERMINAL", retryable: false, destination: destinationName },
    );
  }
  return strategy;
}
