/**
 * The normalize stage for one package: reads an extracted package (typed JSONL job files), runs the
 * relational normalizer over every item, and commits a normalized package (`jsonl` or `csv` job
 * files, the evolved schema, the schema update and the package state) to the load storage with one rename.
 *
 * Crash safety: output is built in the load storage's temporary folder and committed atomically;
 * the extracted package is deleted only after the commit. If a previous run crashed between the two,
 * the next call finds the committed package and only deletes the extracted one.
 */
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type Collector,
  type DestinationCapabilities,
  isTsdltError,
  type LoaderFileFormat,
  type LoadPackage,
  type Logger,
  type NamingConvention,
  NormalizeError,
  namingConvention,
  PACKAGE_FILES,
  type PackageJob,
  type PackageStorage,
  Schema,
  silentLogger,
  type TableSchema,
  writeFileAtomicSync,
} from "@tsdlt/core";
import { normalizeJobFile } from "./job-file.js";
import type { NormalizedFileFormat } from "./job-writer.js";
import {
  contractsAllowWorkers,
  defaultNormalizeWorkers,
  normalizeInWorkers,
  type TableSummary,
} from "./parallel-normalize.js";
import { RelationalNormalizer } from "./relational-normalizer.js";

/** Options of {@link normalizePackage}. */
export interface NormalizeOptions {
  /** The extracted package to normalize (from the `normalize` package storage). */
  readonly extracted: LoadPackage;
  /** The `load` package storage that receives the normalized package. */
  readonly loadStorage: PackageStorage;
  /**
   * Capabilities of the destination: identifier length (`min(maxIdentifierLength,
   * maxColumnIdentifierLength)`), nesting cap (`maxTableNesting`) and file formats.
   */
  readonly capabilities: DestinationCapabilities;
  /**
   * Format of the job files: `jsonl` or `csv` (one header line, then one record per row; see
   * `docs/custom-destination.md`). It must be one of `capabilities.supportedLoaderFileFormats`.
   * @default capabilities.preferredLoaderFileFormat
   */
  readonly fileFormat?: LoaderFileFormat;
  /** Start a new job file after this many rows of a table. @default no rotation */
  readonly fileMaxItems?: number;
  /** Start a new output file once it reaches this many bytes. @default {@link DEFAULT_NORMALIZE_FILE_MAX_BYTES} (128 MiB) */
  readonly fileMaxBytes?: number;
  /**
   * Worker threads normalizing the package's job files side by side (dlt's `[normalize] workers`).
   * The result is the same as on one thread (see `parallel-normalize.ts`); workers are used only for
   * packages of at least {@link NormalizeOptions.parallelMinBytes} in more than one file, without
   * schema contracts. `1` normalizes on the calling thread.
   * @default the number of cores, at most 4
   */
  readonly workers?: number;
  /**
   * Smallest total size of the extracted job files (bytes) worth starting workers for.
   * @default {@link DEFAULT_PARALLEL_MIN_BYTES} (16 MiB)
   */
  readonly parallelMinBytes?: number;
  /** Receives `Files` and per-table row counters while the package is normalized. */
  readonly collector?: Collector;
  readonly logger?: Logger;
}

/** What {@link normalizePackage} produced. */
export interface NormalizeResult {
  readonly loadId: string;
  /** The committed normalized package. */
  readonly package: LoadPackage;
  /** The evolved schema (version bumped when changed), also stored as the package's `schema.json`. */
  readonly schema: Schema;
  /** Rows written per table, system tables included. Empty when an already committed package was found. */
  readonly rowCounts: Record<string, number>;
  /**
   * Tables and columns this package adds to the destination, also stored as `schema_updates.json`:
   * for tables that get data for the first time all complete columns, otherwise the columns added or
   * completed by this package.
   */
  readonly schemaUpdate: Record<string, TableSchema>;
}

/** Default of {@link NormalizeOptions.parallelMinBytes}: 16 MiB. */
export const DEFAULT_PARALLEL_MIN_BYTES: number = 16 * 2 ** 20;

/**
 * Default of {@link NormalizeOptions.fileMaxBytes}: 128 MiB. Bounded job files keep a destination's
 * bulk load of one file (and a retry of it) bounded, however large the package.
 */
export const DEFAULT_NORMALIZE_FILE_MAX_BYTES: number = 128 * 2 ** 20;

/** Input formats the normalizer reads. */
const INPUT_FORMATS = new Set(["typed-jsonl", "jsonl"]);

/** True for the formats of extracted job files normalize reads. */
export function isNormalizeInput(format: string): boolean {
  return INPUT_FORMATS.has(format);
}

/**
 * Normalizes one extracted package into a normalized package in `loadStorage`, then deletes the
 * extracted package. On failure the extracted package is left intact and no output remains.
 *
 * @example
 * ```ts
 * const result = await normalizePackage({ extracted, loadStorage, capabilities });
 * console.log(result.rowCounts); // { users: 2, _dlt_pipeline_state: 1 }
 * ```
 */
export async function normalizePackage(options: NormalizeOptions): Promise<NormalizeResult> {
  const { extracted, loadStorage, capabilities } = options;
  const logger = options.logger ?? silentLogger;
  const loadId = extracted.loadId;
  const fileFormat = checkOptions(options, loadId);

  for (const state of ["normalized", "loaded"] as const) {
    const existing = loadStorage.getPackage(state, loadId);
    if (existing !== undefined) {
      logger.info(
        `Load package \`${loadId}\` is already ${state}; deleting the extracted copy instead of normalizing it again.`,
      );
      rmSync(extracted.path, { recursive: true, force: true });
      return {
        loadId,
        package: existing,
        schema: Schema.fromDict(existing.readSchemaDoc()),
        rowCounts: {},
        schemaUpdate: existing.readJson<Record<string, TableSchema>>(PACKAGE_FILES.schemaUpdates) ?? {},
      };
    }
  }

  const jobs = extracted.listJobs("new_jobs");
  for (const job of jobs) {
    if (!isNormalizeInput(job.parsed.fileFormat)) {
      throw new NormalizeError(
        `Job file \`${job.fileName}\` of load \`${loadId}\` has format \`${job.parsed.fileFormat}\`, which normalize cannot read yet (only typed-jsonl and jsonl).`,
        { code: "NOT_IMPLEMENTED", loadId, path: job.path },
      );
    }
  }
  let schema = Schema.fromDict(extracted.readSchemaDoc());
  const naming = namingFor(schema, capabilities, loadId);
  const maxIdentifierLength = Math.min(
    capabilities.maxIdentifierLength,
    capabilities.maxColumnIdentifierLength,
  );
  let output = loadStorage.createTempPackage(loadId);
  let committed: NormalizeResult;
  try {
    const seenBefore = tablesWithData(schema);
    let touched: readonly TableSummary[] | undefined;
    const workers = options.workers ?? defaultNormalizeWorkers();
    if (
      workers > 1 &&
      jobs.length > 1 &&
      contractsAllowWorkers(schema) &&
      totalSize(jobs) >= (options.parallelMinBytes ?? DEFAULT_PARALLEL_MIN_BYTES)
    ) {
      touched = await normalizeInWorkers({
        schema,
        naming,
        maxIdentifierLength,
        loadId,
        output,
        jobs,
        workers,
        fileFormat,
        fileMaxItems: options.fileMaxItems,
        fileMaxBytes: options.fileMaxBytes ?? DEFAULT_NORMALIZE_FILE_MAX_BYTES,
        maxTableNesting: capabilities.maxTableNesting,
        collector: options.collector,
        logger,
      });
      if (touched === undefined) {
        // a worker failed: start over on one thread, which reports the failure exactly
        loadStorage.deletePackage(output);
        output = loadStorage.createTempPackage(loadId);
        schema = Schema.fromDict(extracted.readSchemaDoc());
      }
    }
    touched ??= await normalizeOnOneThread(schema, naming, loadId, output, jobs, fileFormat, options);
    committed = commitNormalized({ extracted, loadStorage, output, schema, touched, seenBefore, logger });
  } catch (error) {
    loadStorage.deletePackage(output);
    throw normalizeFailure(error, loadId);
  }
  return finishedPackage(extracted, committed, logger);
}

/** The `seen-data` tables of `schema`: those that received data in an earlier package. */
export function tablesWithData(schema: Schema): Set<string> {
  return new Set(
    Object.values(schema.tables)
      .filter((t) => t["x-normalizer"]?.["seen-data"] === true)
      .map((t) => t.name),
  );
}

/** What {@link commitNormalized} needs: a package normalized into `output`, not yet committed. */
export interface NormalizedOutput {
  readonly extracted: LoadPackage;
  readonly loadStorage: PackageStorage;
  readonly output: LoadPackage;
  /** The evolved schema. */
  readonly schema: Schema;
  /** The tables that received job files. */
  readonly touched: readonly TableSummary[];
  /** {@link tablesWithData} of the schema before this package. */
  readonly seenBefore: ReadonlySet<string>;
  readonly logger: Logger;
}

/**
 * Completes a normalized package in its temporary folder — table bookkeeping, the schema (version
 * bumped), the schema update and the package state — and commits it to the load storage.
 */
export function commitNormalized(done: NormalizedOutput): NormalizeResult {
  const { extracted, schema, touched, output } = done;
  const rowCounts = Object.fromEntries(touched.map((t) => [t.name, t.rows]));
  finishTables(schema, touched, extracted.loadId, done.logger);
  const schemaUpdate = buildSchemaUpdate(schema, touched, done.seenBefore);
  schema.bumpVersion();
  output.writeSchemaDoc(schema.toDict());
  output.writeJson(PACKAGE_FILES.schemaUpdates, schemaUpdate);
  const stateFile = join(extracted.path, PACKAGE_FILES.packageState);
  if (existsSync(stateFile)) {
    writeFileAtomicSync(join(output.path, PACKAGE_FILES.packageState), readFileSync(stateFile));
  }
  const committed = done.loadStorage.commitPackage(output, "normalized");
  return { loadId: extracted.loadId, package: committed, schema, rowCounts, schemaUpdate };
}

/** Deletes the extracted package of a committed normalized one, logs the row counts and returns it. */
export function finishedPackage(
  extracted: LoadPackage,
  result: NormalizeResult,
  logger: Logger,
): NormalizeResult {
  rmSync(extracted.path, { recursive: true, force: true });
  logger.info(
    `Normalized load package \`${result.loadId}\`: ${Object.entries(result.rowCounts)
      .map(([table, rows]) => `${table}: ${rows} row(s)`)
      .join(", ")}`,
  );
  return result;
}

/** The error a failed normalize of package `loadId` throws: tsdlt errors as they are, others wrapped. */
export function normalizeFailure(error: unknown, loadId: string): Error {
  if (isTsdltError(error)) return error;
  return new NormalizeError(
    `Normalizing load package \`${loadId}\` failed: ${error instanceof Error ? error.message : String(error)}. The extracted package is kept and will be normalized again on the next run.`,
    { code: "NORMALIZE_FAILED", loadId, cause: error },
  );
}

/** Total size in bytes of job files. */
export function totalSize(jobs: readonly Pick<PackageJob, "path">[]): number {
  let bytes = 0;
  for (const job of jobs) bytes += statSync(job.path).size;
  return bytes;
}

/** Normalizes `jobs` one after another with one {@link RelationalNormalizer} into `output`. */
export async function normalizeOnOneThread(
  schema: Schema,
  naming: NamingConvention,
  loadId: string,
  output: LoadPackage,
  jobs: readonly PackageJob[],
  fileFormat: NormalizedFileFormat,
  options: NormalizeOptions,
): Promise<TableSummary[]> {
  const normalizer = new RelationalNormalizer({
    schema,
    naming,
    loadId,
    output,
    fileFormat,
    fileMaxItems: options.fileMaxItems,
    fileMaxBytes: options.fileMaxBytes ?? DEFAULT_NORMALIZE_FILE_MAX_BYTES,
    maxTableNesting: options.capabilities.maxTableNesting,
  });
  try {
    const reported = new Map<string, number>();
    for (const job of jobs) {
      const root = normalizer.rootTable(naming.normalizeTablesPath(job.parsed.tableName));
      await normalizeJobFile(normalizer, root, job.path, job.fileName, job.parsed.compressed, loadId);
      if (options.collector) {
        options.collector.update("Files", { total: jobs.length });
        for (const table of normalizer.touchedTables()) {
          const inc = table.rows - (reported.get(table.name) ?? 0);
          if (inc > 0) options.collector.update(table.name, { inc });
          reported.set(table.name, table.rows);
        }
      }
    }
    normalizer.close();
  } catch (error) {
    normalizer.abort();
    throw error;
  }
  return normalizer.touchedTables();
}

/** Checks the options; returns the format of the job files. */
export function checkOptions(
  options: Omit<NormalizeOptions, "extracted">,
  loadId: string,
): NormalizedFileFormat {
  const { capabilities, fileMaxItems } = options;
  const format = options.fileFormat ?? capabilities.preferredLoaderFileFormat;
  if (format !== "jsonl" && format !== "csv") {
    const origin = options.fileFormat === undefined ? " (the destination's `preferredLoaderFileFormat`)" : "";
    throw new NormalizeError(
      `Loader file format \`${format}\`${origin} is not implemented by normalize; it writes \`jsonl\` and \`csv\` job files. Pass \`fileFormat: "jsonl"\` or \`fileFormat: "csv"\` (the destination must support it).`,
      { code: "NOT_IMPLEMENTED", loadId },
    );
  }
  if (!capabilities.supportedLoaderFileFormats.includes(format)) {
    throw new NormalizeError(
      `The destination does not accept \`${format}\` files (it supports ${capabilities.supportedLoaderFileFormats.map((f) => `\`${f}\``).join(", ")}).`,
      { code: "INVALID_ARGUMENT", loadId },
    );
  }
  if (fileMaxItems !== undefined && (!Number.isInteger(fileMaxItems) || fileMaxItems < 1)) {
    throw new NormalizeError(`\`fileMaxItems\` must be a positive integer, got ${fileMaxItems}.`, {
      code: "INVALID_ARGUMENT",
      loadId,
    });
  }
  return format;
}

/** The schema's naming convention (`normalizers.names`) limited to the destination's identifier length. */
export function namingFor(
  schema: Schema,
  capabilities: DestinationCapabilities,
  loadId: string,
): NamingConvention {
  const maxLength = Math.min(capabilities.maxIdentifierLength, capabilities.maxColumnIdentifierLength);
  try {
    return namingConvention(schema.normalizers.names, { maxLength });
  } catch (cause) {
    throw new NormalizeError(
      `Schema \`${schema.name}\` uses naming convention \`${schema.normalizers.names}\`, which tsdlt does not implement: ${(cause as Error).message}`,
      { code: "NOT_IMPLEMENTED", loadId, cause },
    );
  }
}

/**
 * Marks tables that received job files as `seen-data`, fails on declared non-nullable columns that
 * never got a type, and logs one warning for columns that were not created (only nulls).
 */
function finishTables(
  schema: Schema,
  touched: readonly TableSummary[],
  loadId: string,
  logger: Logger,
): void {
  const unbound: string[] = [];
  for (const table of touched) {
    const stored = schema.tables[table.name];
    if (stored === undefined) continue;
    // dlt's `clean_x_normalizer`: the table has seen data; columns no longer evolve once
    const { "evolve-columns-once": _once, ...xNormalizer } = stored["x-normalizer"] ?? {};
    stored["x-normalizer"] = { ...xNormalizer, "seen-data": true };
    const names = new Set(table.nullOnly);
    for (const column of Object.values(stored.columns)) {
      if (column.data_type !== undefined || column.name === undefined) continue;
      if (column.nullable === false) {
        throw new NormalizeError(
          `Column \`${column.name}\` of table \`${table.name}\` is declared not nullable but received no data in load \`${loadId}\`, so its data type is unknown. Send a value for it or declare its \`data_type\`.`,
          { code: "CANNOT_COERCE_NULL", loadId, table: table.name, column: column.name },
        );
      }
      names.add(column.name);
    }
    for (const name of names) {
      if (stored.columns[name]?.data_type === undefined) unbound.push(`\`${table.name}\`.\`${name}\``);
    }
  }
  if (unbound.length > 0) {
    logger.warn(
      `Load \`${loadId}\`: columns ${unbound.join(", ")} received no values other than null, so their data types could not be inferred and they were not created in the destination. Declare their data types (the \`columns\` hint) to create them.`,
    );
  }
}

/** The part of the schema this package adds (see {@link NormalizeResult.schemaUpdate}). */
function buildSchemaUpdate(
  schema: Schema,
  touched: readonly TableSummary[],
  seenBefore: ReadonlySet<string>,
): Record<string, TableSchema> {
  const update: Record<string, TableSchema> = {};
  for (const table of touched) {
    const stored = schema.tables[table.name];
    if (stored === undefined) continue;
    const firstData = !seenBefore.has(table.name);
    if (!firstData && table.added.size === 0) continue;
    const { columns, ...props } = stored;
    const picked: Record<string, (typeof columns)[string]> = {};
    for (const [name, column] of Object.entries(columns)) {
      if (column.data_type !== undefined && (firstData || table.added.has(name))) picked[name] = column;
    }
    update[table.name] = structuredClone({ ...props, columns: picked });
  }
  return update;
}
