/**
 * The pipeline: names a working folder, a destination and a dataset, and runs extract → normalize →
 * load over user data. Every step is persisted in the working folder, so a failed run is finished by
 * the next one.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import {
  bumpStateVersion,
  type Collector,
  createLoadId,
  type Destination,
  type DestinationClient,
  type DestinationContext,
  decompressState,
  fromTypedJson,
  jobIdOf,
  jsonNormalizerModule,
  type LoaderFileFormat,
  type LoadPackage,
  type Logger,
  type NamingConvention,
  namingConvention,
  newPipelineState,
  normalizeSchemaName,
  PACKAGE_FILES,
  type PackageState,
  PackageStorage,
  type PipelineConfig,
  type PipelineSettings,
  type PipelineStateDoc,
  type PipelineStep,
  PipelineStepFailed,
  pipelineStateRow,
  prepareStagingDestination,
  REPLACE_STRATEGIES,
  resolveConfig,
  resolvePipelineSettings,
  Schema,
  type SchemaContract,
  setActivePipelineName,
  supportsSql,
  supportsStateSync,
  TsdltError,
  toTypedJson,
  writeFileAtomicSync,
  z,
} from "@tsdlt/core";
import {
  type ColumnsHint,
  type DltResource,
  DltSource,
  extractResources,
  extractSource,
  isResource,
  isSource,
  type ResourceHints,
  resource,
  type WriteDispositionHint,
} from "@tsdlt/extract";
import { loadPackage } from "@tsdlt/load";
import { type NormalizeResult, normalizePackage, StreamingNormalizer } from "@tsdlt/normalize";
import { createDataset, type Dataset } from "./dataset.js";
import { type DestinationReference, destinationShortName, resolveDestination } from "./destinations.js";
import { lockWorkingDir } from "./lock.js";
import { defaultLogger } from "./logger.js";
import { defaultPipelinesDir, localDir } from "./paths.js";
import { createCollector, type ProgressOption } from "./progress.js";
import { type RefreshMode, refreshForExtract } from "./refresh.js";
import { ExtractInfo, LoadInfo, type LoadJobInfo, type LoadPackageInfo, NormalizeInfo } from "./step-info.js";
import { PipelineTrace, type PipelineTraceDoc } from "./trace.js";

/** Options of {@link pipeline} (dlt's `dlt.pipeline(...)` parameters, camelCase). */
export interface PipelineOptions {
  /** Identifies the pipeline's working folder and state. Default `dlt_<script name>`, else `dlt_pipeline`. */
  readonly pipelineName?: string;
  /** Folder of pipeline working folders. @default `~/.dlt/pipelines` (env `DLT_DATA_DIR` moves `~/.dlt`) */
  readonly pipelinesDir?: string;
  /** Salt for deterministic hashing (data anonymization). Stored; no step uses it yet. @default derived from the name */
  readonly pipelineSalt?: string;
  /** `"duckdb"`, another destination name, or a destination object such as `dlt.destinations.duckdb({...})`. */
  readonly destination?: DestinationReference;
  /**
   * Staging destination (dlt's `staging`): `"filesystem"` (bucket from `[destination.filesystem]
   * bucket_url`) or a `filesystem({ bucketUrl })` object. Job files are written there first and the
   * destination loads them from the staged files; see `docs/staging.md`.
   */
  readonly staging?: DestinationReference;
  /** Dataset (database schema) to load into. @default `<pipelineName>_dataset` */
  readonly datasetName?: string;
  /** Folder with `<schema>.schema.yaml` files imported when a schema is first created. */
  readonly importSchemaPath?: string;
  /** Folder where the schema is exported as `<schema>.schema.yaml` after each normalize. */
  readonly exportSchemaPath?: string;
  /** Wipe the working folder on creation and suffix the dataset name with a timestamp. @default false */
  readonly devMode?: boolean;
  /** @deprecated Use `devMode`. */
  readonly fullRefresh?: boolean;
  /**
   * Resets the sources (or resources) being extracted, on every run: `drop_sources`, `drop_resources`
   * or `drop_data` (see {@link RefreshMode}). Pass it to `run()` / `extract()` to refresh once.
   */
  readonly refresh?: RefreshMode;
  /** Credentials of the destination when it is given by name (e.g. a DuckDB file path). */
  readonly credentials?: unknown;
  /**
   * Progress display: `"log"` (periodic counter blocks), `"bar"` (live bars on a TTY, log lines
   * elsewhere; dlt's `tqdm`, `enlighten`, `alive_progress` are aliases), or a {@link Collector}. @default "none"
   */
  readonly progress?: ProgressOption;
  /** Logger for warnings and debug output. @default pino to stderr, level from `RUNTIME__LOG_LEVEL` */
  readonly logger?: Logger;
}

const PIPELINE_OPTION_KEYS: readonly string[] = [
  "pipelineName",
  "pipelinesDir",
  "pipelineSalt",
  "destination",
  "staging",
  "datasetName",
  "importSchemaPath",
  "exportSchemaPath",
  "devMode",
  "fullRefresh",
  "refresh",
  "credentials",
  "progress",
  "logger",
];

/** Hints and overrides accepted by {@link Pipeline.run} and {@link Pipeline.extract}. */
export interface RunOptions {
  readonly destination?: DestinationReference;
  readonly staging?: DestinationReference;
  readonly datasetName?: string;
  readonly credentials?: unknown;
  /** Table to load plain data into (required for arrays and iterables). */
  readonly tableName?: string;
  /** `append`, `replace`, `merge`, `skip`, or the object form `{ disposition: "merge", strategy: "scd2", ... }`. */
  readonly writeDisposition?: WriteDispositionHint;
  readonly columns?: ColumnsHint;
  readonly primaryKey?: string | readonly string[];
  readonly mergeKey?: string | readonly string[];
  /** Schema contract for the data of this run; overrides the resources' and sources' contracts. */
  readonly schemaContract?: SchemaContract;
  /**
   * Loader file format. Without `staging`, the format of the job files normalize writes, one of the
   * destination's `supportedLoaderFileFormats` (Postgres: `csv` or `jsonl`); with a `staging`
   * destination, the format of the staged files (`parquet`, `jsonl` or `csv`, as both support), while
   * normalize writes `jsonl`. Holds for one run.
   * @default the destination's preferred (staging) format
   */
  readonly loaderFileFormat?: "jsonl" | "parquet" | "csv";
  /** Refresh for this run only (overrides the pipeline's `refresh`). */
  readonly refresh?: RefreshMode;
  /** Fail the run when a job fails (the package is aborted). @default true */
  readonly raiseOnFailedJobs?: boolean;
}

const RUN_OPTION_KEYS: readonly string[] = [
  "destination",
  "staging",
  "datasetName",
  "credentials",
  "tableName",
  "writeDisposition",
  "columns",
  "primaryKey",
  "mergeKey",
  "schemaContract",
  "loaderFileFormat",
  "refresh",
  "raiseOnFailedJobs",
];

/**
 * While `run()` extracts, a table's extracted file is closed (and normalized while extraction goes on)
 * once it has been open this long, so normalize keeps up with resources that wait on I/O.
 */
const STREAMED_FILE_MAX_AGE_MS = 200;

/** Characters that cannot appear in a pipeline name (it is a folder name). */
const INVALID_NAME_CHARS = /[.%{}/\\:*?"<>|\0]/;

function checkOptions(given: object, known: readonly string[], fn: string): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new TsdltError(
        `\`${fn}\` got an unexpected option \`${key}\`. Known options: ${known.join(", ")}.`,
        {
          code: "INVALID_ARGUMENT",
        },
      );
    }
  }
}

/** `dlt_<script stem>` for the running script, else `dlt_pipeline` (dlt's default name). */
function defaultPipelineName(): string {
  const script = process.argv[1];
  if (!script) return "dlt_pipeline";
  const stem = basename(script, extname(script)).replace(/[^a-zA-Z0-9_-]+/g, "_");
  return stem ? `dlt_${stem}` : "dlt_pipeline";
}

function validatePipelineName(name: string): void {
  if (typeof name !== "string" || name.trim() === "" || INVALID_NAME_CHARS.test(name)) {
    throw new TsdltError(
      `Pipeline name ${JSON.stringify(name)} is invalid: it names a folder, so it must be non-empty and must not contain any of . % { } / \\ : * ? " < > |.`,
      { code: "INVALID_PIPELINE_NAME", pipelineName: String(name) },
    );
  }
}

/** `_YYYYMMDDhhmmss` suffix of dev-mode datasets (24-hour clock, UTC). */
function devModeSuffix(now: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `_${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

/** A client for ad hoc SQL against the pipeline's dataset. */
export interface PipelineSqlClient extends AsyncDisposable {
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  qualifiedTableName(table: string): string;
  /** The dataset as the database stores it (normalized and casefolded: `MyData` → `my_data`). */
  readonly datasetName?: string;
  /** The identifier as the database stores it (see `WithSqlClient.casefoldIdentifier`). */
  casefoldIdentifier?(identifier: string): string;
}

/** A pipeline. Create it with {@link pipeline}. */
export class Pipeline {
  readonly pipelineName: string;
  readonly pipelinesDir: string;
  readonly workingDir: string;
  readonly pipelineSalt: string | undefined;
  readonly devMode: boolean;
  readonly importSchemaPath: string | undefined;
  readonly exportSchemaPath: string | undefined;
  readonly progress: ProgressOption;
  readonly #logger: Logger;
  #destinationRef: DestinationReference | undefined;
  #stagingRef: DestinationReference | undefined;
  #loaderFileFormat: RunOptions["loaderFileFormat"];
  #credentials: unknown;
  #destination: Destination | undefined;
  #datasetName: string | undefined;
  #refresh: RefreshMode | undefined;
  #state: PipelineStateDoc;
  #schema: Schema | undefined;
  readonly #normalizeStorage: PackageStorage;
  readonly #loadStorage: PackageStorage;
  #lastTrace: PipelineTrace | undefined;
  readonly #collector: Collector;
  #lockDepth = 0;
  #releaseLock: (() => Promise<void>) | undefined;
  #activeTrace: PipelineTrace | undefined;
  /** Set once the state and schemas were synced from the destination in this instance. */
  #synced = false;
  /** Settings resolved from code, env and TOML at construction. */
  readonly #settings: PipelineSettings;
  /** Set by `run()` while it extracts new data: extract hands its files to a streamed normalize. */
  #normalizeWhileExtracting = false;
  /** The streamed normalize of the package being extracted, until normalize finishes it. */
  #streaming: StreamingNormalizer | undefined;

  constructor(options: PipelineOptions = {}) {
    checkOptions(options, PIPELINE_OPTION_KEYS, "pipeline");
    this.pipelineName = options.pipelineName ?? defaultPipelineName();
    validatePipelineName(this.pipelineName);
    setActivePipelineName(this.pipelineName);
    // Options given in code win; `[pipelines.<name>]`, `[runtime]`, `[load]`, ... in env and TOML fill the rest.
    const settings = resolvePipelineSettings({
      pipelineName: this.pipelineName,
      explicit: {
        pipeline: stripUndefined({
          pipelinesDir: options.pipelinesDir,
          pipelineSalt: options.pipelineSalt,
          datasetName: options.datasetName,
          importSchemaPath: options.importSchemaPath,
          exportSchemaPath: options.exportSchemaPath,
          devMode: options.devMode ?? options.fullRefresh,
          refresh: options.refresh,
          progress: typeof options.progress === "string" ? options.progress : undefined,
        }) as Partial<PipelineConfig>,
      },
    });
    this.#settings = settings;
    const configured = settings.pipeline;
    this.#logger = options.logger ?? defaultLogger(settings.runtime.logLevel);
    this.pipelinesDir = resolve(configured.pipelinesDir ?? defaultPipelinesDir());
    this.workingDir = join(this.pipelinesDir, this.pipelineName);
    this.pipelineSalt = configured.pipelineSalt;
    if (options.fullRefresh !== undefined) {
      this.#logger.warn("The `fullRefresh` option is deprecated; use `devMode` instead.");
    }
    this.devMode = configured.devMode;
    this.importSchemaPath = configured.importSchemaPath;
    this.exportSchemaPath = configured.exportSchemaPath;
    this.progress = options.progress ?? (configured.progress as ProgressOption | undefined) ?? "none";
    this.#collector = createCollector(this.progress);
    this.#destinationRef = options.destination ?? configured.destinationName ?? configured.destinationType;
    this.#stagingRef = options.staging ?? configured.stagingName ?? configured.stagingType;
    this.#credentials = options.credentials;
    this.#refresh = configured.refresh;

    if (this.devMode) rmSync(this.workingDir, { recursive: true, force: true });
    mkdirSync(this.workingDir, { recursive: true });
    this.#normalizeStorage = new PackageStorage(join(this.workingDir, "normalize"), "normalize");
    this.#loadStorage = new PackageStorage(join(this.workingDir, "load"), "load");
    this.#state = this.#readState();
    this.#state._local._dev_mode = this.devMode;
    this.#state._local.initial_cwd ??= process.cwd();

    let dataset = configured.datasetName ?? this.#state.dataset_name;
    if (configured.datasetName !== undefined && this.devMode)
      dataset = this.#devDataset(configured.datasetName);
    this.#datasetName = dataset;
  }

  #devDataset(name: string): string {
    const suffix = devModeSuffix(new Date());
    return name.endsWith("_") ? name + suffix.slice(1) : name + suffix;
  }

  #readState(): PipelineStateDoc {
    const file = join(this.workingDir, "state.json");
    if (!existsSync(file)) return newPipelineState(this.pipelineName);
    try {
      const state = fromTypedJson<PipelineStateDoc>(readFileSync(file, "utf8"));
      state._local ??= {};
      return state;
    } catch (cause) {
      throw new TsdltError(
        `The pipeline state at ${file} cannot be read. Delete the working folder to start over.`,
        {
          code: "STATE_CORRUPTED",
          pipelineName: this.pipelineName,
          cause,
        },
      );
    }
  }

  #writeState(state: PipelineStateDoc): void {
    writeFileAtomicSync(join(this.workingDir, "state.json"), toTypedJson(state, 2));
  }

  /** A copy of the pipeline state document. */
  get state(): PipelineStateDoc {
    return structuredClone(this.#state);
  }

  /** True until the first successful load. */
  get firstRun(): boolean {
    return this.#state._local.first_run !== false;
  }

  /** The dataset the pipeline loads into (known once a destination is set). */
  get datasetName(): string | undefined {
    return this.#datasetName ?? (this.#destinationRef ? `${this.pipelineName}_dataset` : undefined);
  }

  /** Name of the default schema (the normalized pipeline name). */
  get defaultSchemaName(): string {
    return this.#state.default_schema_name ?? normalizeSchemaName(this.pipelineName);
  }

  /** The default schema (created on first use; imported from `importSchemaPath` when present there). */
  get defaultSchema(): Schema {
    this.#schema ??= this.#loadSchema(this.defaultSchemaName);
    return this.#schema;
  }

  /** The last run's trace (also persisted as `trace.json` in the working folder). */
  get lastTrace(): PipelineTrace | undefined {
    if (this.#lastTrace) return this.#lastTrace;
    const file = join(this.workingDir, "trace.json");
    return existsSync(file)
      ? new PipelineTrace(JSON.parse(readFileSync(file, "utf8")) as PipelineTraceDoc)
      : undefined;
  }

  #schemaFile(name: string): string {
    return join(this.workingDir, "schemas", `${name}.schema.json`);
  }

  #loadSchema(name: string): Schema {
    const file = this.#schemaFile(name);
    if (existsSync(file)) return Schema.fromDict(JSON.parse(readFileSync(file, "utf8")));
    return this.#newSchema(name);
  }

  /** A schema as first created: imported from `importSchemaPath` when present there, else empty. */
  #newSchema(name: string): Schema {
    if (this.importSchemaPath) {
      const imported = join(this.importSchemaPath, `${name}.schema.yaml`);
      if (existsSync(imported)) {
        const schema = Schema.fromText(readFileSync(imported, "utf8"));
        schema.importedVersionHash = schema.versionHash;
        return schema;
      }
    }
    const { naming, jsonNormalizer } = this.#settings.schema;
    const schema = naming === undefined ? new Schema(name) : new Schema(name, { naming });
    if (jsonNormalizer !== undefined) {
      // `[schema] json_normalizer` as dlt: a short module name names a module of dlt's json normalizers
      schema.normalizers.json = {
        module: jsonNormalizerModule(jsonNormalizer.module),
        ...(jsonNormalizer.config === undefined ? {} : { config: structuredClone(jsonNormalizer.config) }),
      };
      schema.bumpVersion();
    }
    return schema;
  }

  #saveSchema(schema: Schema): void {
    mkdirSync(join(this.workingDir, "schemas"), { recursive: true });
    writeFileAtomicSync(this.#schemaFile(schema.name), schema.toPrettyJson());
    this.#schema = schema;
    if (this.exportSchemaPath) {
      mkdirSync(this.exportSchemaPath, { recursive: true });
      writeFileAtomicSync(join(this.exportSchemaPath, `${schema.name}.schema.yaml`), schema.toPrettyYaml());
    }
  }

  #applyRunOptions(options: RunOptions): void {
    if (options.destination !== undefined) {
      this.#destinationRef = options.destination;
      this.#destination = undefined;
    }
    if (options.credentials !== undefined) {
      this.#credentials = options.credentials;
      this.#destination = undefined;
    }
    if (options.staging !== undefined) this.#stagingRef = options.staging;
    if (options.loaderFileFormat !== undefined) this.#loaderFileFormat = options.loaderFileFormat;
    if (options.datasetName !== undefined) this.#datasetName = options.datasetName;
  }

  async #resolveDestination(): Promise<Destination> {
    if (this.#destination) return this.#destination;
    const ref = this.#destinationRef ?? this.#state.destination_type;
    if (ref === undefined) {
      throw new TsdltError(
        "Configuration element `destination` was not provided and the `load` step cannot run. Pass `destination` to `pipeline()` or `run()`.",
        { code: "PIPELINE_CONFIG_MISSING", pipelineName: this.pipelineName },
      );
    }
    this.#destination = await resolveDestination(ref, this.#credentials);
    return this.#destination;
  }

  /** The naming convention of `schema` (`normalizers.names`), limited to the destination's identifier length. */
  #naming(destination: Destination | undefined, schema: Schema = this.defaultSchema): NamingConvention {
    const caps = destination?.capabilities;
    const maxLength = caps ? Math.min(caps.maxIdentifierLength, caps.maxColumnIdentifierLength) : undefined;
    return namingConvention(schema.normalizers.names, { maxLength });
  }

  #context(destination: Destination): DestinationContext {
    const dataset = this.datasetName ?? `${this.pipelineName}_dataset`;
    return {
      pipelineName: this.pipelineName,
      datasetName: this.#naming(destination).normalizeIdentifier(dataset),
      workingDir: this.workingDir,
      localDir: this.#state._local.last_run_context
        ? ((this.#state._local.last_run_context as { local_dir?: string }).local_dir ?? localDir())
        : localDir(),
      logger: this.#logger,
    };
  }

  #stepFailed(step: PipelineStep, cause: unknown, loadId?: string): PipelineStepFailed {
    return new PipelineStepFailed({
      pipelineName: this.pipelineName,
      step,
      loadId,
      cause,
      hasPendingData: this.hasPendingData,
    });
  }

  /** Load ids of packages extracted or normalized but not yet loaded. */
  listPendingPackages(): { extracted: string[]; normalized: string[] } {
    return {
      extracted: this.#normalizeStorage.listPackages("extracted"),
      normalized: this.#loadStorage.listPackages("normalized"),
    };
  }

  /** Load ids of completed (loaded or aborted) packages, oldest first. */
  listCompletedPackages(): string[] {
    return this.#loadStorage.listPackages("loaded");
  }

  /** True when packages wait to be normalized or loaded. */
  get hasPendingData(): boolean {
    const pending = this.listPendingPackages();
    return pending.extracted.length + pending.normalized.length > 0;
  }

  /** Resolves an (async) source and applies the run's table hints to each of its resources. */
  async #sourceWithRunHints(source: DltSource, options: RunOptions): Promise<DltSource> {
    const resolved = await source.resolve();
    const hints = this.#runHints(options);
    const hinted = Object.keys(hints).length === 0 ? resolved : resolved.applyHints(hints);
    if (options.schemaContract === undefined) return hinted;
    // as dlt: the run's schema contract replaces the source's (the schema setting)
    return new DltSource(hinted.name, Object.values(hinted.resources), {
      maxTableNesting: hinted.maxTableNesting,
      rootKey: hinted.rootKey,
      schemaContract: options.schemaContract,
    });
  }

  /** The table hints given to `run()` / `extract()`, applied to every resource of the data. */
  #runHints(options: RunOptions): ResourceHints {
    return stripUndefined({
      tableName: options.tableName,
      writeDisposition: options.writeDisposition,
      columns: options.columns,
      primaryKey: options.primaryKey,
      mergeKey: options.mergeKey,
      schemaContract: options.schemaContract,
    }) as ResourceHints;
  }

  /** Turns `data` into resources, applying run hints. */
  #resources(data: unknown, options: RunOptions): DltResource[] {
    const hints = this.#runHints(options);
    const list =
      Array.isArray(data) && data.length > 0 && data.every(isResource) ? (data as DltResource[]) : [data];
    return list.map((item) => {
      if (isResource(item)) return item.applyHints(hints);
      const name = options.tableName ?? (typeof item === "function" && item.name ? item.name : undefined);
      if (name === undefined) {
        throw new TsdltError(
          'The table name is missing. Data passed directly to `run()` or `extract()` (an array, iterable or generator object) needs `tableName`, e.g. `pipeline.run(rows, { tableName: "users" })`.',
          { code: "INVALID_ARGUMENT", pipelineName: this.pipelineName },
        );
      }
      return resource(item as Parameters<typeof resource>[0], { ...hints, name });
    });
  }

  /** Runs `fn` holding the working-folder lock (re-entrant within this instance). */
  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#lockDepth === 0) {
      this.#releaseLock = await lockWorkingDir(this.workingDir, this.pipelineName);
      // Temporary folders are only ever left by a crashed holder of this lock: safe to remove now.
      this.#normalizeStorage.cleanupTemp();
      this.#loadStorage.cleanupTemp();
      this.#adoptStateOfPendingPackages();
    }
    this.#lockDepth++;
    try {
      return await fn();
    } finally {
      this.#lockDepth--;
      if (this.#lockDepth === 0) {
        const release = this.#releaseLock;
        this.#releaseLock = undefined;
        await release?.();
      }
    }
  }

  /**
   * A process killed after committing an extracted package but before writing `state.json` leaves the
   * newer state only in that package; adopt it, so the next extract continues from it (e.g. an
   * incremental cursor does not re-read what the pending package already holds).
   */
  #adoptStateOfPendingPackages(): void {
    let newest: PipelineStateDoc | undefined;
    const pending = [
      ...this.#normalizeStorage
        .listPackages("extracted")
        .map((id) => this.#normalizeStorage.getPackage("extracted", id)),
      ...this.#loadStorage
        .listPackages("normalized")
        .map((id) => this.#loadStorage.getPackage("normalized", id)),
    ];
    for (const pkg of pending) {
      const stored = pkg?.readState().pipeline_state;
      if (!stored?.state) continue;
      const doc = decompressState(stored.state);
      if (doc._state_version > (newest?._state_version ?? this.#state._state_version)) newest = doc;
    }
    if (!newest) return;
    this.#logger.info(
      `pipeline \`${this.pipelineName}\` continues from the state of a pending package (version ${newest._state_version})`,
    );
    this.#state = {
      ...newest,
      _local: { ...this.#state._local, _last_extracted_hash: newest._version_hash },
    };
    this.#writeState(this.#state);
  }

  /** Runs one step under the lock and records it in the running trace (or in a one-step trace). */
  async #step<T extends ExtractInfo | NormalizeInfo | LoadInfo>(
    step: PipelineStep,
    fn: () => Promise<T>,
  ): Promise<T> {
    return this.#locked(async () => {
      const own = this.#activeTrace === undefined;
      const trace = this.#activeTrace ?? PipelineTrace.start(this.pipelineName);
      this.#activeTrace = trace;
      const startedAt = new Date().toISOString();
      try {
        const info = await fn();
        trace.steps.push({
          step,
          startedAt,
          finishedAt: new Date().toISOString(),
          stepInfo: info.toJSON(),
          stepInfoText: String(info),
        });
        return info;
      } catch (error) {
        trace.steps.push({
          step,
          startedAt,
          finishedAt: new Date().toISOString(),
          exception: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        if (own) {
          this.#activeTrace = undefined;
          this.#persistTrace(trace);
        }
      }
    });
  }

  #persistTrace(trace: PipelineTrace): void {
    trace.finishedAt = new Date().toISOString();
    this.#lastTrace = trace;
    writeFileAtomicSync(join(this.workingDir, "trace.json"), JSON.stringify(trace, null, 2));
  }

  /**
   * Extracts `data` into a new load package in the working folder. The pipeline state is stored in
   * the same package when it changed.
   */
  async extract(data: unknown, options: RunOptions = {}): Promise<ExtractInfo> {
    checkOptions(options, RUN_OPTION_KEYS, "extract");
    this.#applyRunOptions(options);
    return this.#step("extract", () => this.#extract(data, options));
  }

  async #extract(data: unknown, options: RunOptions): Promise<ExtractInfo> {
    const startedAt = new Date();
    const destination = this.#destinationRef !== undefined ? await this.#resolveDestination() : undefined;
    let loadId: string | undefined;
    const collector = this.#collector;
    try {
      const source = isSource(data) ? await this.#sourceWithRunHints(data, options) : undefined;
      const resources = source ? [] : this.#resources(data, options);
      if (source && this.#state.default_schema_name === undefined) {
        this.#state.default_schema_name = source.name;
        this.#schema = undefined;
      }
      // A source loads into the schema named after it; plain data into the default schema.
      let schema = (
        source && source.name !== this.defaultSchemaName ? this.#loadSchema(source.name) : this.defaultSchema
      ).clone();
      // as dlt: the run's schema contract also becomes the schema's setting (it outlives this run)
      if (options.schemaContract !== undefined) schema.settings.schema_contract = options.schemaContract;
      collector.start(`Extract ${schema.name}`);
      const state = structuredClone(this.#state);
      state.pipeline_name = this.pipelineName;
      state.default_schema_name = schema.name;
      state.schema_names = [...new Set([...(state.schema_names ?? []), schema.name])].sort();
      if (this.datasetName !== undefined) state.dataset_name = this.datasetName;
      if (destination) {
        state.destination_type = destination.destinationType;
        state.destination_name =
          destinationShortName(destination.destinationType) === destination.name
            ? undefined
            : destination.name;
      }
      state._local.last_run_context = { local_dir: localDir(), run_dir: process.cwd() };
      state.sources ??= {};
      const refreshed = refreshForExtract({
        options,
        refresh: options.refresh ?? this.#refresh,
        schema,
        sources: state.sources,
        resources: source ? Object.values(source.resources) : resources,
        freshSchema: () => this.#newSchema(schema.name),
      });
      if (refreshed) {
        schema = refreshed.schema;
        // dropped tables take the stored schema versions with them: store the state again (dlt does too)
        if (refreshed.packageState.dropped_tables) delete state._local._last_extracted_hash;
      }
      let committedState: { version_hash: string; state: string } | undefined;
      const streaming =
        this.#normalizeWhileExtracting && destination !== undefined
          ? this.#streamingNormalizer(schema, destination)
          : undefined;
      this.#streaming = streaming;
      const common = {
        ...(streaming && {
          loadId: streaming.loadId,
          fileListener: {
            rotateAfterMs: STREAMED_FILE_MAX_AGE_MS,
            fileClosed: (file: { fileName: string; path: string }) => streaming.fileClosed(file),
            beforeCommit: () => streaming.pause(),
          },
        }),
        sources: state.sources,
        schema,
        naming: this.#naming(destination, schema),
        storage: this.#normalizeStorage,
        logger: this.#logger,
        bufferMaxItems: this.#settings.extractDataWriter.bufferMaxItems,
        maxParallelItems: this.#settings.extract.maxParallelItems,
        nextItemMode: this.#settings.extract.nextItemMode,
        collector,
        ...(this.#settings.extractDataWriter.fileMaxBytes !== undefined
          ? { fileMaxBytes: this.#settings.extractDataWriter.fileMaxBytes }
          : {}),
        ...(this.#settings.extractDataWriter.fileMaxItems !== undefined
          ? { fileMaxItems: this.#settings.extractDataWriter.fileMaxItems }
          : {}),
        stateRow: () => {
          bumpStateVersion(state);
          if (state._version_hash === state._local._last_extracted_hash) return undefined;
          const row = pipelineStateRow(state);
          committedState = { version_hash: state._version_hash, state: row.state as string };
          return row;
        },
        // the package carries the state it commits: a crash before state.json is written is recovered from it
        packageState: () => ({
          ...refreshed?.packageState,
          ...(committedState ? { pipeline_state: committedState } : {}),
        }),
      };
      const result = source
        ? await extractSource({ ...common, source })
        : await extractResources({ ...common, resources, sourceName: schema.name });
      loadId = result.loadId;
      collector.update("Resources", { inc: result.resourceNames.length, total: result.resourceNames.length });
      state._local._last_extracted_hash = state._version_hash;
      state._local._last_extracted_at = new Date();
      this.#state = state;
      this.#writeState(state);
      this.#storeSchema(schema);
      return new ExtractInfo({
        pipelineName: this.pipelineName,
        loadPackages: [packageInfo(result.package, "extracted", schema.name)],
        startedAt,
        finishedAt: new Date(),
        firstRun: this.firstRun,
        itemCounts: result.itemCounts,
      });
    } catch (error) {
      await this.#dropStreaming();
      throw this.#stepFailed("extract", error, loadId);
    } finally {
      collector.stop();
    }
  }

  /**
   * Normalizes every extracted package, oldest first, into job files of the format
   * `loaderFileFormat` picks (see {@link RunOptions.loaderFileFormat}; dlt's
   * `normalize(loader_file_format=...)`).
   */
  async normalize(options: Pick<RunOptions, "loaderFileFormat"> = {}): Promise<NormalizeInfo> {
    checkOptions(options, ["loaderFileFormat"], "normalize");
    if (options.loaderFileFormat !== undefined) this.#loaderFileFormat = options.loaderFileFormat;
    return this.#step("normalize", () => this.#normalize());
  }

  /**
   * The format normalize writes the job files for `destination` in (issue 12). With a staging
   * destination: `jsonl`, which the staging step converts into the staged format. Otherwise the run's
   * `loaderFileFormat` when the destination loads such job files, else its preferred format. A
   * destination that writes files itself (the filesystem: it can stage for others) converts `jsonl`
   * job files into the format of its own `fileFormat` option, so it gets `jsonl`.
   *
   * @throws TsdltError (`INVALID_ARGUMENT`) when the destination does not load `loaderFileFormat` job files
   */
  #normalizeFileFormat(destination: Destination): LoaderFileFormat {
    if (this.#stagingRef !== undefined) return "jsonl";
    const requested = this.#loaderFileFormat;
    const capabilities = destination.capabilities;
    if (requested === undefined) return capabilities.preferredLoaderFileFormat;
    const writesFiles = typeof destination.asStagingDestination === "function";
    if (writesFiles ? requested === "jsonl" : capabilities.supportedLoaderFileFormats.includes(requested)) {
      return requested;
    }
    const list = (formats: readonly string[]): string => formats.map((f) => `\`${f}\``).join(", ");
    const fix = writesFiles
      ? `It converts the \`jsonl\` job files normalize writes into the files it stores: pick their format with its \`fileFormat\` option (\`fileFormat: "${requested}"\`), and remove \`loaderFileFormat\`.`
      : `Use one of those as \`loaderFileFormat\`, or remove the option to use its preferred \`${capabilities.preferredLoaderFileFormat}\`.` +
        (capabilities.supportedStagingFileFormats.includes(requested)
          ? ` To load staged \`${requested}\` files instead, add \`staging: "filesystem"\`.`
          : "");
    throw new TsdltError(
      `\`loaderFileFormat: "${requested}"\` is not supported by destination \`${destination.name}\`: it loads ${list(writesFiles ? ["jsonl"] : capabilities.supportedLoaderFileFormats)} job files. ${fix}`,
      { code: "INVALID_ARGUMENT", pipelineName: this.pipelineName, destination: destination.name },
    );
  }

  /** What normalize needs of the destination and the settings (`[normalize]`), streamed or not. */
  #normalizeOptions(destination: Destination) {
    return {
      loadStorage: this.#loadStorage,
      capabilities: destination.capabilities,
      fileFormat: this.#normalizeFileFormat(destination),
      logger: this.#logger,
      collector: this.#collector,
      ...(this.#settings.normalizeDataWriter.fileMaxBytes !== undefined
        ? { fileMaxBytes: this.#settings.normalizeDataWriter.fileMaxBytes }
        : {}),
      ...(this.#settings.normalizeDataWriter.fileMaxItems !== undefined
        ? { fileMaxItems: this.#settings.normalizeDataWriter.fileMaxItems }
        : {}),
      ...(this.#settings.normalize.workers !== undefined
        ? { workers: this.#settings.normalize.workers }
        : {}),
    };
  }

  /**
   * A streamed normalize of the package `schema` is extracted into; undefined when normalize cannot
   * write the destination's job files (normalize itself then reports why).
   */
  #streamingNormalizer(schema: Schema, destination: Destination): StreamingNormalizer | undefined {
    try {
      return new StreamingNormalizer({
        loadId: createLoadId(),
        schema,
        ...this.#normalizeOptions(destination),
      });
    } catch {
      return undefined;
    }
  }

  /** Throws away the streamed normalize of a package that will not be normalized from it. */
  async #dropStreaming(): Promise<void> {
    const streaming = this.#streaming;
    this.#streaming = undefined;
    await streaming?.abort();
  }

  async #normalize(): Promise<NormalizeInfo> {
    const startedAt = new Date();
    const destination = await this.#resolveDestination();
    this.#normalizeFileFormat(destination); // fails before any package when the format is refused
    const rowCounts: Record<string, number> = {};
    const packages: LoadPackageInfo[] = [];
    const collector = this.#collector;
    for (const loadId of this.#normalizeStorage.listPackages("extracted")) {
      const extracted = this.#normalizeStorage.getPackage("extracted", loadId);
      if (!extracted) continue;
      const files = extracted.listJobs("new_jobs").length;
      if (files === 0) {
        // as dlt: a package without data (e.g. every table discarded by its schema contract, or
        // resources that yielded nothing) is deleted, not loaded
        this.#normalizeStorage.deletePackage(extracted);
        this.#logger.info(`Empty load package \`${loadId}\` deleted: it holds no data to normalize.`);
        continue;
      }
      collector.start(`Normalize ${this.defaultSchemaName} in ${loadId}`);
      try {
        let result: NormalizeResult | undefined;
        const streaming = this.#streaming;
        if (streaming?.loadId === loadId) {
          this.#streaming = undefined;
          result = await streaming.finish(extracted);
        }
        result ??= await normalizePackage({ extracted, ...this.#normalizeOptions(destination) });
        collector.update("Files", { inc: files, total: files });
        for (const [table, n] of Object.entries(result.rowCounts))
          rowCounts[table] = (rowCounts[table] ?? 0) + n;
        this.#storeSchema(result.schema);
        packages.push(packageInfo(result.package, "normalized", result.schema.name));
      } catch (error) {
        throw this.#stepFailed("normalize", error, loadId);
      } finally {
        collector.stop();
      }
    }
    return new NormalizeInfo({
      pipelineName: this.pipelineName,
      loadPackages: packages,
      startedAt,
      finishedAt: new Date(),
      firstRun: this.firstRun,
      rowCounts,
    });
  }

  /** Loads every normalized package, oldest first. */
  async load(
    options: Pick<RunOptions, "destination" | "datasetName" | "credentials" | "raiseOnFailedJobs"> = {},
  ): Promise<LoadInfo> {
    this.#applyRunOptions(options);
    return this.#step("load", () =>
      this.#load(options.raiseOnFailedJobs ?? this.#settings.load.raiseOnFailedJobs),
    );
  }

  async #load(raiseOnFailedJobs: boolean): Promise<LoadInfo> {
    const startedAt = new Date();
    const destination = await this.#resolveDestination();
    const context = this.#context(destination);
    const packages: LoadPackageInfo[] = [];
    const collector = this.#collector;
    // `[destination.<name>] replace_strategy` (or DESTINATION__<NAME>__REPLACE_STRATEGY) when configured;
    // otherwise the destination's own option or default applies
    const configured = resolveConfig(z.object({ replaceStrategy: z.enum(REPLACE_STRATEGIES).optional() }), {
      sections: ["destination", destination.name],
    }).replaceStrategy;
    const replaceStrategy = configured === undefined ? {} : { replaceStrategy: configured };
    const staging = await this.#stagingFor(destination);
    for (const loadId of this.#loadStorage.listPackages("normalized")) {
      const pkg = this.#loadStorage.getPackage("normalized", loadId);
      if (!pkg) continue;
      collector.start(`Load ${this.defaultSchemaName} in ${loadId}`);
      try {
        const result = await loadPackage({
          package: pkg,
          storage: this.#loadStorage,
          destination,
          context,
          raiseOnFailedJobs,
          maxRetries: this.#settings.load.raiseOnMaxRetries,
          workers: this.#settings.load.workers,
          logger: this.#logger,
          collector,
          ...replaceStrategy,
          ...staging?.options,
        });
        packages.push(packageInfo(result.package, result.state, this.defaultSchemaName, result.finishedAt));
      } catch (error) {
        throw this.#stepFailed("load", error, loadId);
      } finally {
        collector.stop();
      }
    }
    if (packages.some((p) => p.state === "loaded") && this.#state._local.first_run !== false) {
      this.#state._local.first_run = false;
      this.#writeState(this.#state);
    }
    return new LoadInfo({
      pipelineName: this.pipelineName,
      loadPackages: packages,
      startedAt,
      finishedAt: new Date(),
      firstRun: this.firstRun,
      destinationName: destination.name,
      destinationType: destination.destinationType,
      destinationDisplayableCredentials: destination.displayLocation(context),
      datasetName: context.datasetName,
      ...(staging && {
        stagingName: staging.options.staging.name,
        stagingType: staging.options.staging.destinationType,
        stagingDisplayableCredentials: staging.options.staging.displayLocation(context),
      }),
    });
  }

  /**
   * The staging destination of a load (issue 10): the `staging` reference resolved and turned into its
   * staging variant for the staged file format, and dlt's
   * `[destination.<name>] truncate_tables_on_staging_destination_before_load` (default true).
   */
  async #stagingFor(destination: Destination): Promise<
    | {
        options: { staging: Destination; truncateStagingTablesBeforeLoad?: boolean };
      }
    | undefined
  > {
    const format = this.#loaderFileFormat;
    // without staging, `loaderFileFormat` picked the job files' format (`#normalizeFileFormat`)
    if (this.#stagingRef === undefined) return undefined;
    const staging = prepareStagingDestination(
      destination,
      await resolveDestination(this.#stagingRef),
      format,
    );
    const truncate = resolveConfig(
      z.object({ truncateTablesOnStagingDestinationBeforeLoad: z.boolean().optional() }),
      { sections: ["destination", destination.name] },
    ).truncateTablesOnStagingDestinationBeforeLoad;
    return {
      options: {
        staging,
        ...(truncate === undefined ? {} : { truncateStagingTablesBeforeLoad: truncate }),
      },
    };
  }

  /**
   * Runs extract → normalize → load. Packages left pending by an earlier failed run are finished first;
   * then `data` (if given) is extracted and loaded in the same call, and the returned {@link LoadInfo}
   * lists every package loaded. (dlt instead returns after finishing pending packages.)
   */
  async run(data?: unknown, options: RunOptions = {}): Promise<LoadInfo> {
    checkOptions(options, RUN_OPTION_KEYS, "run");
    this.#loaderFileFormat = undefined; // per run, as in dlt
    this.#applyRunOptions(options);
    const raiseOnFailedJobs = options.raiseOnFailedJobs ?? this.#settings.load.raiseOnFailedJobs;
    return this.#locked(async () => {
      const trace = PipelineTrace.start(this.pipelineName);
      this.#activeTrace = trace;
      const loadInfos: LoadInfo[] = [];
      try {
        // a `loaderFileFormat` the destination cannot take fails before anything is extracted
        this.#normalizeFileFormat(await this.#resolveDestination());
        await this.syncDestination();
        if (this.hasPendingData) {
          await this.normalize();
          loadInfos.push(await this.load({ raiseOnFailedJobs }));
        }
        if (data !== undefined) {
          const { destination: _d, credentials: _c, datasetName: _n, ...hints } = options;
          this.#normalizeWhileExtracting = true;
          try {
            await this.extract(data, hints);
          } finally {
            this.#normalizeWhileExtracting = false;
          }
          await this.normalize();
          loadInfos.push(await this.load({ raiseOnFailedJobs }));
        } else if (loadInfos.length === 0) {
          loadInfos.push(await this.load({ raiseOnFailedJobs }));
        }
        return mergeLoadInfos(loadInfos);
      } catch (error) {
        if (error instanceof PipelineStepFailed) throw error;
        throw this.#stepFailed("run", error);
      } finally {
        await this.#dropStreaming();
        this.#activeTrace = undefined;
        this.#persistTrace(trace);
      }
    });
  }

  /**
   * Restores state and schemas from the destination (REFERENCE §6.5); `run()` calls it once per
   * instance. When the destination holds a newer state of this pipeline (e.g. on a fresh machine, or
   * after the working folder was deleted), it replaces the local state and its schemas are downloaded,
   * so incremental cursors continue where they stopped. Missing schemas are always downloaded. Skipped
   * in `devMode`. When the dataset was dropped, a pipeline without pending packages starts over.
   */
  async syncDestination(): Promise<void> {
    if (this.#synced || this.devMode) return;
    this.#synced = true;
    await this.#locked(async () => {
      const destination = await this.#resolveDestination();
      const context = this.#context(destination);
      let client: DestinationClient | undefined;
      try {
        client = await destination.createClient(this.defaultSchema, context);
        if (!supportsStateSync(client)) return;
        if (!(await client.isStorageInitialized())) {
          if (this.#state._local.first_run === false && !this.hasPendingData) {
            this.#logger.warn(
              `Dataset \`${context.datasetName}\` does not exist in destination \`${destination.name}\` any more: pipeline \`${this.pipelineName}\` starts over with a fresh local state.`,
            );
            this.#resetLocalState();
          }
          return;
        }
        let schemaNames = this.#state.schema_names ?? [];
        const stored = await client.getStoredState(this.pipelineName);
        if (stored) {
          const remote = decompressState(stored.state);
          if (remote.pipeline_name !== this.pipelineName) {
            throw new TsdltError(
              `The state stored in dataset \`${context.datasetName}\` belongs to pipeline \`${remote.pipeline_name}\`, not \`${this.pipelineName}\`.`,
              { code: "STATE_CORRUPTED", pipelineName: this.pipelineName },
            );
          }
          const local = this.#state;
          if (remote._state_version >= local._state_version && remote._version_hash !== local._version_hash) {
            if (this.hasPendingData) {
              this.#logger.warn(
                `Pipeline \`${this.pipelineName}\` restored a newer state from the destination while packages are pending; they were extracted with the older state.`,
              );
            }
            const restored = {
              ...remote,
              _local: { ...local._local, _last_extracted_hash: remote._version_hash },
            };
            if (this.#datasetName !== undefined) restored.dataset_name = this.#datasetName;
            this.#state = restored;
            this.#writeState(restored);
            schemaNames = remote.schema_names ?? [];
            for (const name of schemaNames) {
              const schema = await client.getStoredSchema(name);
              if (schema) this.#storeSchema(schema);
            }
            return;
          }
        }
        for (const name of schemaNames) {
          if (existsSync(this.#schemaFile(name))) continue;
          const schema = await client.getStoredSchema(name);
          if (schema) this.#storeSchema(schema);
        }
      } catch (error) {
        throw this.#stepFailed("sync", error);
      } finally {
        await client?.[Symbol.asyncDispose]();
      }
    });
  }

  /** Saves a schema restored from the destination (the default schema also becomes the live one). */
  #storeSchema(schema: Schema): void {
    if (schema.name === this.defaultSchemaName) {
      this.#saveSchema(schema);
      return;
    }
    mkdirSync(join(this.workingDir, "schemas"), { recursive: true });
    writeFileAtomicSync(this.#schemaFile(schema.name), schema.toPrettyJson());
    if (this.exportSchemaPath) {
      mkdirSync(this.exportSchemaPath, { recursive: true });
      writeFileAtomicSync(join(this.exportSchemaPath, `${schema.name}.schema.yaml`), schema.toPrettyYaml());
    }
  }

  /** Forgets local state and schemas (keeps packages and the trace). */
  #resetLocalState(): void {
    rmSync(join(this.workingDir, "schemas"), { recursive: true, force: true });
    const fresh = newPipelineState(this.pipelineName);
    fresh._local = {
      ...fresh._local,
      _dev_mode: this.devMode,
      initial_cwd: this.#state._local.initial_cwd ?? process.cwd(),
    };
    this.#state = fresh;
    this.#schema = undefined;
    this.#writeState(fresh);
  }

  /**
   * Deletes packages waiting to be normalized or loaded; returns their load ids. With
   * `withPartialLoads: false`, packages whose load already started are kept (their data is partly in
   * the destination). The pipeline state is not rolled back.
   */
  async dropPendingPackages(options: { withPartialLoads?: boolean } = {}): Promise<string[]> {
    return this.#locked(async () => {
      const dropped: string[] = [];
      for (const loadId of this.#normalizeStorage.listPackages("extracted")) {
        const pkg = this.#normalizeStorage.getPackage("extracted", loadId);
        if (pkg) this.#normalizeStorage.deletePackage(pkg);
        dropped.push(loadId);
      }
      for (const loadId of this.#loadStorage.listPackages("normalized")) {
        const pkg = this.#loadStorage.getPackage("normalized", loadId);
        if (!pkg) continue;
        const partial = pkg.listJobs("completed_jobs").length + pkg.listJobs("started_jobs").length > 0;
        if (partial && options.withPartialLoads === false) continue;
        this.#loadStorage.deletePackage(pkg);
        dropped.push(loadId);
      }
      return dropped;
    });
  }

  /** Describes the package `loadId` wherever it is (extracted, normalized or completed), or undefined. */
  getLoadPackageInfo(loadId: string): LoadPackageInfo | undefined {
    const extracted = this.#normalizeStorage.getPackage("extracted", loadId);
    if (extracted) return packageInfo(extracted, "extracted", this.defaultSchemaName);
    const normalized = this.#loadStorage.getPackage("normalized", loadId);
    if (normalized) return packageInfo(normalized, "normalized", this.defaultSchemaName);
    const loaded = this.#loadStorage.getPackage("loaded", loadId);
    if (loaded) return packageInfo(loaded, "loaded", this.defaultSchemaName);
    return undefined;
  }

  /**
   * Opens a SQL client on the destination dataset. Dispose it (`await using`) when done.
   *
   * @example
   * ```ts
   * await using client = await pipeline.sqlClient();
   * const rows = await client.query(`SELECT * FROM ${client.qualifiedTableName("users")}`);
   * ```
   */
  async sqlClient(): Promise<PipelineSqlClient> {
    const destination = await this.#resolveDestination();
    const context = this.#context(destination);
    const client: DestinationClient = await destination.createClient(this.defaultSchema, context);
    if (!supportsSql(client)) {
      await client[Symbol.asyncDispose]();
      throw new TsdltError(`Destination \`${destination.name}\` does not support SQL queries.`, {
        code: "NOT_IMPLEMENTED",
        destination: destination.name,
      });
    }
    return {
      query: (sql, params) => client.query(sql, params),
      qualifiedTableName: (table) => client.qualifiedTableName(table),
      datasetName: client.casefoldIdentifier?.(context.datasetName) ?? context.datasetName,
      casefoldIdentifier: (identifier) => client.casefoldIdentifier?.(identifier) ?? identifier,
      [Symbol.asyncDispose]: () => client[Symbol.asyncDispose](),
    };
  }

  /**
   * A lazy reader of the loaded data (dlt's `pipeline.dataset()`): `ds.table("users").where("id", ">", 1).fetchAll()`,
   * `ds.query(sql)`, `ds.rowCounts()`, `ds.loadIds()`.
   */
  dataset(): Dataset {
    return createDataset({
      sqlClient: () => this.sqlClient(),
      schema: this.defaultSchema,
      datasetName: this.datasetName ?? `${this.pipelineName}_dataset`,
    });
  }

  /** Runs one SQL query against the destination dataset and returns the rows. */
  async query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> {
    await using client = await this.sqlClient();
    return client.query(sql, params);
  }

  /** Deletes the pipeline's working folder (state, schemas, packages). The destination is not touched. */
  drop(): void {
    rmSync(this.workingDir, { recursive: true, force: true });
    mkdirSync(this.workingDir, { recursive: true });
    this.#state = newPipelineState(this.pipelineName);
    this.#schema = undefined;
  }
}

/** One LoadInfo over every package loaded during a run (pending ones first). */
function mergeLoadInfos(infos: readonly LoadInfo[]): LoadInfo {
  const last = infos.at(-1) as LoadInfo;
  if (infos.length === 1) return last;
  const first = infos[0] as LoadInfo;
  return new LoadInfo({
    pipelineName: last.pipelineName,
    loadPackages: infos.flatMap((i) => i.loadPackages),
    startedAt: first.startedAt,
    finishedAt: last.finishedAt,
    firstRun: last.firstRun,
    destinationName: last.destinationName,
    destinationType: last.destinationType,
    destinationDisplayableCredentials: last.destinationDisplayableCredentials,
    datasetName: last.datasetName,
  });
}

/** Describes a package folder for the info objects. */
function packageInfo(
  pkg: LoadPackage,
  state: PackageState,
  schemaName: string,
  completedAt?: Date,
): LoadPackageInfo {
  const jobs: LoadJobInfo[] = [];
  for (const jobState of ["new_jobs", "started_jobs", "completed_jobs", "failed_jobs"] as const) {
    for (const job of pkg.listJobs(jobState)) {
      jobs.push({
        state: jobState,
        jobId: jobIdOf(job.fileName),
        fileName: job.fileName,
        tableName: job.parsed.tableName,
        fileSize: statSync(job.path).size,
        failedMessage: jobState === "failed_jobs" ? pkg.readJobException(job.fileName) : undefined,
      });
    }
  }
  const completed = pkg.readJson<{ status?: PackageState }>(PACKAGE_FILES.completed);
  return {
    loadId: pkg.loadId,
    state: completed?.status ?? state,
    schemaName,
    packagePath: pkg.path,
    completedAt,
    jobs,
  };
}

/**
 * Creates a pipeline: the entry point of tsdlt.
 *
 * @example
 * ```ts
 * const pipeline = dlt.pipeline({ pipelineName: "quick_start", destination: "duckdb", datasetName: "mydata" });
 * const loadInfo = await pipeline.run([{ id: 1, name: "Alice" }], { tableName: "users" });
 * console.log(String(loadInfo));
 * ```
 */
export function pipeline(options: PipelineOptions = {}): Pipeline {
  return new Pipeline(options);
}

/** Runs `data` through the pipeline named in `options` (created with defaults otherwise). */
export async function run(data: unknown, options: PipelineOptions & RunOptions = {}): Promise<LoadInfo> {
  const {
    tableName,
    writeDisposition,
    columns,
    primaryKey,
    mergeKey,
    schemaContract,
    loaderFileFormat,
    raiseOnFailedJobs,
    ...pipelineOptions
  } = options;
  const runOptions = stripUndefined({
    tableName,
    writeDisposition,
    columns,
    primaryKey,
    mergeKey,
    schemaContract,
    loaderFileFormat,
    raiseOnFailedJobs,
  }) as RunOptions;
  return pipeline(pipelineOptions).run(data, runOptions);
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
