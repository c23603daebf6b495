/**
 * Settings the pipeline and its stages read from config (REFERENCE §1.2, §8.3, §13), each with its
 * dlt section: `[pipelines.<name>]`, `[runtime]`, `[schema]`, `[extract]`/`[sources.<src>.extract]`,
 * `[data_writer]`/`[sources.<src>.data_writer]`/`[normalize.data_writer]`, `[normalize]`, `[load]` and
 * `[destination.<name>]`. {@link resolvePipelineSettings} resolves them all with provenance.
 */
import { z } from "zod";
import { parseStructured } from "./coerce.js";
import { ConfigContext } from "./providers.js";
import { type ResolvedField, resolveConfigWithProvenance } from "./resolve.js";
import { defineCredentials, secret } from "./schema-meta.js";

/** `[pipelines.<name>]` (dlt's `PipelineConfiguration`): values `pipeline()` options fall back to. */
export interface PipelineConfig {
  readonly pipelinesDir?: string | undefined;
  /** A secret (dlt's `TSecretStrValue`): env or secrets.toml only. */
  readonly pipelineSalt?: string | undefined;
  /** Destination name or type (`destination_type`), e.g. `duckdb`. */
  readonly destinationType?: string | undefined;
  readonly destinationName?: string | undefined;
  readonly stagingType?: string | undefined;
  readonly stagingName?: string | undefined;
  readonly datasetName?: string | undefined;
  /** Layout of dataset names; must contain `%s`. */
  readonly datasetNameLayout?: string | undefined;
  readonly importSchemaPath?: string | undefined;
  readonly exportSchemaPath?: string | undefined;
  readonly devMode: boolean;
  readonly fullRefresh?: boolean | undefined;
  readonly refresh?: "drop_sources" | "drop_resources" | "drop_data" | undefined;
  readonly progress?: string | undefined;
  readonly restoreFromDestination: boolean;
  readonly enableRuntimeTrace: boolean;
  readonly useSingleDataset: boolean;
}

/** `[runtime]` settings. */
export interface RuntimeConfig {
  /** Python-style level name: `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`. @default "WARNING" */
  readonly logLevel: string;
  /** @default 60 */
  readonly requestTimeout: number;
  /** @default 5 */
  readonly requestMaxAttempts: number;
  /** @default 1 */
  readonly requestBackoffFactor: number;
  /** @default 300 */
  readonly requestMaxRetryDelay: number;
  /** Accepted for compatibility; tsdlt sends no telemetry. @default true */
  readonly dlthubTelemetry: boolean;
}

/** `[schema]` settings (or `[sources.<src>.schema]`). */
export interface SchemaConfig {
  /** Naming convention name (`snake_case`, `duck_case`, `direct`, ...); unset → the destination's. */
  readonly naming?: string | undefined;
  /**
   * The json normalizer of new schemas (`json_normalizer`, dlt's `{module = "...", config = {...}}`):
   * `module` is `relational` (default) or `relational_no_coercion`, short or full
   * (`dlt.common.normalizers.json.relational_no_coercion`); `config` holds `max_nesting`,
   * `propagation` or `root_key_propagation`.
   */
  readonly jsonNormalizer?:
    | { readonly module: string; readonly config?: Record<string, unknown> | undefined }
    | undefined;
}

/** Buffered writer settings (`[data_writer]`, `[sources.<src>.data_writer]`, `[normalize.data_writer]`). */
export interface DataWriterConfig {
  /** @default 5000 */
  readonly bufferMaxItems: number;
  readonly fileMaxItems?: number | undefined;
  readonly fileMaxBytes?: number | undefined;
  /** @default false */
  readonly disableCompression: boolean;
}

/** `[extract]` (or `[sources.<src>.extract]`) settings. */
export interface ExtractConfig {
  /** @default 5 */
  readonly workers: number;
  /** @default 20 */
  readonly maxParallelItems: number;
  /** @default "round_robin" */
  readonly nextItemMode: "round_robin" | "fifo";
}

/** `[normalize]` settings. */
export interface NormalizeConfig {
  /**
   * Worker threads normalizing a package's job files side by side (`1`: on the calling thread).
   * @default the machine's cores, at most 4 (dlt: 1 process)
   */
  readonly workers?: number | undefined;
  readonly startMethod?: string | undefined;
}

/** `[load]` settings. */
export interface LoadConfig {
  /** @default 20 */
  readonly workers: number;
  /** @default true */
  readonly raiseOnFailedJobs: boolean;
  /**
   * Attempts of a job failing transiently, per run, before the run raises (`LOAD_JOB_RETRY`) and
   * leaves the package pending for the next run (dlt's `raise_on_max_retries`; at least 1). @default 5
   */
  readonly raiseOnMaxRetries: number;
  /** @default false */
  readonly deleteCompletedJobs: boolean;
  /** @default false */
  readonly truncateStagingDataset: boolean;
  readonly parallelismStrategy?: "parallel" | "table-sequential" | "sequential" | undefined;
}

/** `[destination.<name>]` settings shared by all destinations. */
export interface DestinationCommonConfig {
  /** @default "truncate-and-insert" */
  readonly replaceStrategy: "truncate-and-insert" | "insert-from-staging" | "staging-optimized";
  /** @default "%s_staging" */
  readonly stagingDatasetNameLayout: string;
}

const positiveInt = z.int().min(1);
const boolDefault = (value: boolean) => z.boolean().default(value);

/** Spec of {@link PipelineConfig} (sections `pipelines.<name>`). */
export const pipelineConfigSpec: z.ZodType<PipelineConfig> = z.object({
  pipelinesDir: z.string().optional(),
  pipelineSalt: secret(z.string()).optional(),
  destinationType: z.string().optional(),
  destinationName: z.string().optional(),
  stagingType: z.string().optional(),
  stagingName: z.string().optional(),
  datasetName: z.string().optional(),
  datasetNameLayout: z
    .string()
    .refine((s) => s.includes("%s"), "must contain `%s` where the dataset name goes")
    .optional(),
  importSchemaPath: z.string().optional(),
  exportSchemaPath: z.string().optional(),
  devMode: boolDefault(false),
  fullRefresh: z.boolean().optional(),
  refresh: z.enum(["drop_sources", "drop_resources", "drop_data"]).optional(),
  progress: z.string().optional(),
  restoreFromDestination: boolDefault(true),
  enableRuntimeTrace: boolDefault(true),
  useSingleDataset: boolDefault(true),
});

/** Spec of {@link RuntimeConfig} (section `runtime`). */
export const runtimeConfigSpec: z.ZodType<RuntimeConfig> = z.object({
  logLevel: z
    .string()
    .transform((s) => s.toUpperCase())
    .default("WARNING"),
  requestTimeout: z.number().positive().default(60),
  requestMaxAttempts: positiveInt.default(5),
  requestBackoffFactor: z.number().min(0).default(1),
  requestMaxRetryDelay: z.number().min(0).default(300),
  dlthubTelemetry: boolDefault(true),
});

/** Spec of {@link SchemaConfig} (section `schema`). */
export const schemaConfigSpec: z.ZodType<SchemaConfig> = z.object({
  naming: z.string().optional(),
  // a TOML table, or one JSON / Python-literal value (`SCHEMA__JSON_NORMALIZER='{"module": "..."}'`)
  jsonNormalizer: defineCredentials(
    z.object({ module: z.string().min(1), config: z.record(z.string(), z.unknown()).optional() }),
    { name: "JsonNormalizer", parseNative: parseJsonNormalizer, secret: false },
  ).optional(),
});

function parseJsonNormalizer(text: string): Record<string, unknown> {
  const value = parseStructured(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error('expected an object such as {"module": "relational_no_coercion"}');
  }
  return value as Record<string, unknown>;
}

/** Spec of {@link DataWriterConfig} (embedded section `data_writer`). */
export const dataWriterConfigSpec: z.ZodType<DataWriterConfig> = z.object({
  bufferMaxItems: positiveInt.default(5000),
  fileMaxItems: positiveInt.optional(),
  fileMaxBytes: positiveInt.optional(),
  disableCompression: boolDefault(false),
});

/** Spec of {@link ExtractConfig} (embedded section `extract`). */
export const extractConfigSpec: z.ZodType<ExtractConfig> = z.object({
  workers: positiveInt.default(5),
  maxParallelItems: positiveInt.default(20),
  nextItemMode: z.enum(["round_robin", "fifo"]).default("round_robin"),
});

/** Spec of {@link NormalizeConfig} (section `normalize`). */
export const normalizeConfigSpec: z.ZodType<NormalizeConfig> = z.object({
  workers: positiveInt.optional(),
  startMethod: z.string().optional(),
});

/** Spec of {@link LoadConfig} (section `load`). */
export const loadConfigSpec: z.ZodType<LoadConfig> = z.object({
  workers: positiveInt.default(20),
  raiseOnFailedJobs: boolDefault(true),
  raiseOnMaxRetries: positiveInt.default(5),
  deleteCompletedJobs: boolDefault(false),
  truncateStagingDataset: boolDefault(false),
  parallelismStrategy: z.enum(["parallel", "table-sequential", "sequential"]).optional(),
});

/** Spec of {@link DestinationCommonConfig} (section `destination.<name>`). */
export const destinationCommonConfigSpec: z.ZodType<DestinationCommonConfig> = z.object({
  replaceStrategy: z
    .enum(["truncate-and-insert", "insert-from-staging", "staging-optimized"])
    .default("truncate-and-insert"),
  stagingDatasetNameLayout: z.string().default("%s_staging"),
});

/** Options of {@link resolvePipelineSettings}. */
export interface PipelineSettingsOptions {
  readonly pipelineName: string;
  /** Destination name (`duckdb`, or a named destination) for `[destination.<name>]`. */
  readonly destinationName?: string | undefined;
  /** Source section for `[sources.<src>.extract]`, `[sources.<src>.data_writer]`, `[sources.<src>.schema]`. */
  readonly sourceSection?: string | undefined;
  /** Values given in code (the `pipeline()` options), which win over providers. */
  readonly explicit?: { readonly pipeline?: Partial<PipelineConfig> | undefined } | undefined;
  readonly context?: ConfigContext | undefined;
}

/** Every pipeline-level setting, resolved, with provenance. */
export interface PipelineSettings {
  readonly pipeline: PipelineConfig;
  readonly runtime: RuntimeConfig;
  readonly schema: SchemaConfig;
  readonly extract: ExtractConfig;
  /** Writer settings for extract (`[sources.<src>.data_writer]` → `[sources.data_writer]` → `[data_writer]`). */
  readonly extractDataWriter: DataWriterConfig;
  readonly normalize: NormalizeConfig;
  /** Writer settings for normalize (`[normalize.data_writer]` → `[data_writer]`). */
  readonly normalizeDataWriter: DataWriterConfig;
  readonly load: LoadConfig;
  /** Present when a destination name was given. */
  readonly destination: DestinationCommonConfig | undefined;
  /** Provenance of every field, prefixed by group (`runtime.logLevel`, `load.raiseOnFailedJobs`). */
  readonly fields: readonly ResolvedField[];
}

/**
 * Resolves every pipeline-level setting with its dlt sections. Lookups prefixed with the pipeline name
 * go first (`MY_PIPELINE__RUNTIME__LOG_LEVEL` before `RUNTIME__LOG_LEVEL`), except for
 * `[pipelines.<name>]`, which already names the pipeline.
 *
 * @example
 * ```ts
 * const settings = resolvePipelineSettings({ pipelineName: "chess", destinationName: "duckdb" });
 * settings.runtime.logLevel;            // "WARNING" or RUNTIME__LOG_LEVEL / [runtime] log_level
 * settings.load.raiseOnFailedJobs;      // true unless [load] raise_on_failed_jobs = false
 * ```
 */
export function resolvePipelineSettings(options: PipelineSettingsOptions): PipelineSettings {
  const context = (options.context ?? ConfigContext.create()).withPipelineName(options.pipelineName);
  const fields: ResolvedField[] = [];
  const src = options.sourceSection;
  const sourceSections = src ? ["sources", src] : ["sources"];

  function run<T>(
    group: string,
    spec: z.ZodType<T>,
    sections: readonly string[],
    embeddedSections: readonly string[] = [],
    extra: { explicit?: object | undefined; noPrefix?: boolean } = {},
  ): T {
    const resolved = resolveConfigWithProvenance(spec, {
      sections,
      embeddedSections,
      specName: group,
      context: extra.noPrefix ? context.withPipelineName(undefined) : context,
      ...(extra.explicit ? { explicit: extra.explicit as never } : {}),
    });
    for (const f of resolved.fields) fields.push({ ...f, field: `${group}.${f.field}` });
    return resolved.value;
  }

  const pipeline = run("pipeline", pipelineConfigSpec, ["pipelines", options.pipelineName], [], {
    explicit: options.explicit?.pipeline,
    noPrefix: true,
  });
  const runtime = run("runtime", runtimeConfigSpec, ["runtime"]);
  const schema = src
    ? run("schema", schemaConfigSpec, sourceSections, ["schema"])
    : run("schema", schemaConfigSpec, ["schema"]);
  const extract = run("extract", extractConfigSpec, sourceSections, ["extract"]);
  const extractDataWriter = run("extractDataWriter", dataWriterConfigSpec, sourceSections, ["data_writer"]);
  const normalize = run("normalize", normalizeConfigSpec, ["normalize"]);
  const normalizeDataWriter = run(
    "normalizeDataWriter",
    dataWriterConfigSpec,
    ["normalize"],
    ["data_writer"],
  );
  const load = run("load", loadConfigSpec, ["load"]);
  const destination = options.destinationName
    ? run("destination", destinationCommonConfigSpec, ["destination", options.destinationName])
    : undefined;
  return {
    pipeline,
    runtime,
    schema,
    extract,
    extractDataWriter,
    normalize,
    normalizeDataWriter,
    load,
    destination,
    fields,
  };
}
