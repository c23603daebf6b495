/**
 * Normalizing a package while it is still being extracted. When the resources wait on I/O (REST pages,
 * database cursors) the thread is mostly idle during extract; `pipeline.run()` hands each job file
 * extract closes to a {@link StreamingNormalizer}, which normalizes it right away, so that after
 * extract only the last files remain.
 *
 * The result is the package {@link normalizePackage} would write from the same files on one thread.
 * Normalize starts from the schema as it is when the first file arrives; {@link
 * StreamingNormalizer.finish} compares it with the schema extract committed, and when anything the
 * streamed files depended on changed after they were normalized (a table's hints, the schema's
 * settings), it throws the output away and returns undefined: the caller then normalizes the package
 * as usual. The same happens when a streamed file failed, so errors are reported exactly as without
 * streaming. Nothing is committed before `finish`, so a crash leaves only the extracted package.
 */
import { performance } from "node:perf_hooks";
import {
  type LoadPackage,
  type NamingConvention,
  type PackageJob,
  parseJobFileName,
  Schema,
  silentLogger,
  type TableSchema,
} from "@tsdlt/core";
import { normalizeJobFile } from "./job-file.js";
import type { NormalizedFileFormat } from "./job-writer.js";
import { sortedJson } from "./json-text.js";
import {
  checkOptions,
  commitNormalized,
  DEFAULT_NORMALIZE_FILE_MAX_BYTES,
  DEFAULT_PARALLEL_MIN_BYTES,
  finishedPackage,
  isNormalizeInput,
  type NormalizeOptions,
  type NormalizeResult,
  namingFor,
  normalizeFailure,
  tablesWithData,
  totalSize,
} from "./normalize-package.js";
import { defaultNormalizeWorkers } from "./parallel-normalize.js";
import { RelationalNormalizer } from "./relational-normalizer.js";

/** Options of {@link StreamingNormalizer}. */
export interface StreamingNormalizeOptions extends Omit<NormalizeOptions, "extracted"> {
  /** The load id extract writes the package under. */
  readonly loadId: string;
  /**
   * The schema extract writes into. It is read, never changed: copied when the first file arrives,
   * and its later table definitions are adopted for tables declared after that.
   */
  readonly schema: Schema;
  /**
   * Streaming starts only when the thread's event loop was busy at most this share of the time
   * between the construction and the first closed file (extraction waits on I/O). A CPU-bound
   * extract gains nothing from it and would lose the worker threads of the normal path. `1` starts
   * with the first file.
   * @default 0.5
   */
  readonly maxEventLoopUtilization?: number;
}

/** A job file extract closed (see `ExtractFileListener` of `@tsdlt/extract`). */
export interface StreamedJobFile {
  readonly fileName: string;
  readonly path: string;
}

/**
 * Share of time the event loop may be busy (extract and streamed normalize together) for more files
 * to be asked for: above it, extraction itself is the bottleneck and no time is idle to fill.
 */
const BUSY_UTILIZATION = 0.9;

/** Shortest stretch of time (ms) over which the event loop's business decides whether streaming starts. */
const START_WINDOW_MS = 150;

/** Busy time (ms) after which streaming is not started at all: extract is CPU-bound. */
const DECIDE_WITHIN_MS = 1000;

/** Event loop business that shows a CPU-bound extract at once (no idle time at all). */
const CPU_BOUND_UTILIZATION = 0.95;

/** Milliseconds of event loop time over which {@link BUSY_UTILIZATION} is measured. */
const BUSY_WINDOW_MS = 1000;

type StreamState = "waiting" | "streaming" | "declined" | "failed" | "closed";

/** What the streamed files are normalized with and into. */
interface StreamWork {
  readonly schema: Schema;
  readonly naming: NamingConvention;
  readonly normalizer: RelationalNormalizer;
  readonly output: LoadPackage;
  /** The schema's settings and normalizers (sorted JSON) when streaming started. */
  readonly settings: string;
  /** Definitions (sorted JSON) of the tables as the streamed files were normalized with them. */
  readonly tables: Map<string, string>;
}

/**
 * Adds `table` (declared after streaming started) to the running normalizer and records the
 * definition it was adopted with; false when the normalizer already met a table of that name.
 */
function adopt(work: StreamWork, table: TableSchema): boolean {
  if (!work.normalizer.adoptTable(table)) return false;
  work.tables.set(table.name, sortedJson(table));
  return true;
}

/**
 * Normalizes the job files of a package while extract writes it; see the module comment.
 *
 * @example
 * ```ts
 * const stream = new StreamingNormalizer({ loadId, schema, loadStorage, capabilities });
 * await extractResources({ ..., loadId, schema, fileListener: {
 *   rotateAfterMs: 100, fileClosed: (f) => stream.fileClosed(f), beforeCommit: () => stream.pause() } });
 * const result = (await stream.finish(extracted)) ?? (await normalizePackage({ extracted, loadStorage, capabilities }));
 * ```
 */
export class StreamingNormalizer {
  readonly loadId: string;
  readonly #options: StreamingNormalizeOptions;
  readonly #fileFormat: NormalizedFileFormat;
  #state: StreamState = "waiting";
  readonly #queue: StreamedJobFile[] = [];
  /** Names of the files normalized so far. */
  readonly #done = new Set<string>();
  #running: Promise<void> | undefined;
  #paused = false;
  /** Event loop utilization at construction, then at the start of the current window. */
  #elu = performance.eventLoopUtilization();
  /** Files closed before streaming started (normalized once it starts). */
  readonly #waiting: StreamedJobFile[] = [];
  /** Event loop time spent busy (above `maxEventLoopUtilization`) before streaming started. */
  #busyMs = 0;
  /** The event loop was busy in the last window (more files would not be normalized in idle time). */
  #busy = false;
  /** Files normalized while extract ran, and their bytes. */
  #streamed = 0;
  #streamedBytes = 0;
  #work: StreamWork | undefined;

  constructor(options: StreamingNormalizeOptions) {
    this.loadId = options.loadId;
    this.#options = options;
    this.#fileFormat = checkOptions(options, options.loadId);
  }

  /** Files normalized while extract ran. */
  get streamedFiles(): number {
    return this.#streamed;
  }

  /**
   * Takes a file extract closed and normalizes it as soon as the files before it are done. Returns
   * false when it wants no more files: streaming did not start (the thread is busy extracting) or
   * stopped (the thread has no idle time left to fill).
   */
  fileClosed(file: StreamedJobFile): boolean {
    if (this.#state === "waiting") {
      this.#waiting.push(file);
      const window = performance.eventLoopUtilization(this.#elu);
      const windowMs = window.idle + window.active;
      const maxUtilization = this.#options.maxEventLoopUtilization ?? 0.5;
      if (windowMs < START_WINDOW_MS && maxUtilization < 1) return true;
      this.#elu = performance.eventLoopUtilization();
      if (window.utilization > maxUtilization) {
        // busy extracting (or starting up): wait and see, but not for long, and not at all when
        // extraction never left the thread idle (CPU-bound)
        this.#busyMs += windowMs;
        if (this.#busyMs < DECIDE_WITHIN_MS && window.utilization < CPU_BOUND_UTILIZATION) return true;
        this.#state = "declined";
        this.#waiting.length = 0;
        this.#options.logger?.debug(
          `Load package \`${this.loadId}\`: not normalized while extracting, extract keeps the thread ${Math.round(window.utilization * 100)}% busy.`,
        );
        return false;
      }
      if (!this.#start()) return false;
      this.#queue.push(...this.#waiting.splice(0));
      this.#pump();
      return true;
    }
    if (this.#state !== "streaming") return false;
    this.#queue.push(file);
    this.#pump();
    const window = performance.eventLoopUtilization(this.#elu);
    if (window.idle + window.active >= BUSY_WINDOW_MS) {
      this.#elu = performance.eventLoopUtilization();
      this.#busy = window.utilization > BUSY_UTILIZATION;
    }
    return !this.#busy;
  }

  /** Stops taking queued files and waits for the one being normalized; never rejects. */
  async pause(): Promise<void> {
    this.#paused = true;
    while (this.#running !== undefined) await this.#running;
  }

  /**
   * Completes the package from `extracted` (the committed extracted package): checks that the schema
   * extract committed is the one the streamed files were normalized with, normalizes the files not
   * streamed, and commits the normalized package. Returns undefined, leaving no output, when
   * streaming did not take place or its output cannot be used (also when a file or the commit
   * failed): normalize the package as usual then, which reports what failed. Never rejects.
   */
  async finish(extracted: LoadPackage): Promise<NormalizeResult | undefined> {
    await this.pause();
    const work = this.#work;
    if (this.#state !== "streaming" || work === undefined || extracted.loadId !== this.loadId) {
      this.#discard();
      return undefined;
    }
    const logger = this.#options.logger ?? silentLogger;
    let result: NormalizeResult;
    try {
      const final = Schema.fromDict(extracted.readSchemaDoc());
      const jobs = extracted.listJobs("new_jobs").filter((job) => !this.#done.has(job.fileName));
      if (!this.#adoptFinalSchema(final) || jobs.some((job) => !isNormalizeInput(job.parsed.fileFormat))) {
        logger.debug(`Load package \`${this.loadId}\`: streamed normalize discarded, the schema changed.`);
        this.#discard();
        return undefined;
      }
      if (this.#leftForWorkers(jobs)) {
        // extraction outran the thread: most of the package is left, and worker threads do it faster
        logger.debug(`Load package \`${this.loadId}\`: streamed normalize discarded, most files are left.`);
        this.#discard();
        return undefined;
      }
      this.#streamed = this.#done.size;
      for (const job of jobs) {
        await this.#normalizeFile({ fileName: job.fileName, path: job.path });
      }
      work.normalizer.close();
      this.#state = "closed";
      const { schema } = work;
      // the package's schema version is the one extract committed; normalize bumps it from there
      schema.version = final.version;
      schema.versionHash = final.versionHash;
      schema.previousHashes = [...final.previousHashes];
      schema.importedVersionHash = final.importedVersionHash;
      schema.description = final.description;
      schema.tables = inOrderOf(final.tables, schema.tables);
      result = commitNormalized({
        extracted,
        loadStorage: this.#options.loadStorage,
        output: work.output,
        schema,
        touched: work.normalizer.touchedTables(),
        seenBefore: tablesWithData(final),
        logger,
      });
      this.#work = undefined;
    } catch (error) {
      // the normal path normalizes the package again and reports what failed
      logger.debug(
        `Load package \`${this.loadId}\`: streamed normalize discarded: ${normalizeFailure(error, this.loadId).message}`,
      );
      this.#discard();
      return undefined;
    }
    logger.info(
      `Load package \`${this.loadId}\`: ${this.#streamed} of ${extracted.listJobs("new_jobs").length} extracted file(s) were normalized while extracting.`,
    );
    for (const [table, rows] of Object.entries(result.rowCounts)) {
      this.#options.collector?.update(table, { inc: rows });
    }
    return finishedPackage(extracted, result, logger);
  }

  /**
   * True when the files not streamed are more than those streamed, and enough for the usual path's
   * worker threads ({@link NormalizeOptions.parallelMinBytes}, more than one worker).
   */
  #leftForWorkers(left: readonly PackageJob[]): boolean {
    const workers = this.#options.workers ?? defaultNormalizeWorkers();
    if (workers <= 1 || left.length <= 1) return false;
    const leftBytes = totalSize(left);
    return (
      leftBytes >= (this.#options.parallelMinBytes ?? DEFAULT_PARALLEL_MIN_BYTES) &&
      leftBytes > this.#streamedBytes
    );
  }

  /** Throws the output away (extract failed, or the caller normalizes the package itself). */
  async abort(): Promise<void> {
    await this.pause();
    this.#discard();
  }

  /** Prepares the normalizer; a schema it cannot work with leaves the package to the normal path. */
  #start(): boolean {
    const options = this.#options;
    let output: LoadPackage | undefined;
    try {
      const doc = options.schema.toDict();
      const schema = Schema.fromDict(doc);
      const naming = namingFor(schema, options.capabilities, this.loadId);
      output = options.loadStorage.createTempPackage(this.loadId);
      const tables = new Map(Object.entries(doc.tables).map(([name, table]) => [name, sortedJson(table)]));
      const settings = settingsOf(doc);
      const normalizer = new RelationalNormalizer({
        schema,
        naming,
        loadId: this.loadId,
        output,
        fileFormat: this.#fileFormat,
        fileMaxItems: options.fileMaxItems,
        fileMaxBytes: options.fileMaxBytes ?? DEFAULT_NORMALIZE_FILE_MAX_BYTES,
        maxTableNesting: options.capabilities.maxTableNesting,
      });
      this.#work = { schema, naming, normalizer, output, settings, tables };
      this.#state = "streaming";
      return true;
    } catch {
      if (output !== undefined) options.loadStorage.deletePackage(output);
      this.#state = "failed";
      return false;
    }
  }

  #pump(): void {
    if (this.#running !== undefined || this.#paused || this.#state !== "streaming") return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#running = this.#streamFile(next).finally(() => {
      this.#running = undefined;
      this.#pump();
    });
  }

  /** Normalizes a file extract reported; a failure ends streaming (the normal path reports it). */
  async #streamFile(file: StreamedJobFile): Promise<void> {
    try {
      const work = this.#work;
      if (work === undefined) return;
      const name = work.naming.normalizeTablesPath(parseJobFileName(file.fileName).tableName);
      // a table declared after streaming started (a table name picked per item): adopt its hints
      const declared = this.#options.schema.tables[name];
      if (!work.tables.has(name) && declared !== undefined && !adopt(work, structuredClone(declared))) {
        throw new Error(`table ${name} clashes`);
      }
      await this.#normalizeFile(file);
    } catch {
      this.#state = "failed";
      this.#queue.length = 0;
    }
  }

  async #normalizeFile(file: StreamedJobFile): Promise<void> {
    const work = this.#work;
    if (work === undefined) throw new Error("the streamed normalize was discarded");
    const parsed = parseJobFileName(file.fileName);
    const root = work.normalizer.rootTable(work.naming.normalizeTablesPath(parsed.tableName));
    await normalizeJobFile(work.normalizer, root, file.path, file.fileName, parsed.compressed, this.loadId);
    this.#done.add(file.fileName);
    this.#streamedBytes += totalSize([file]);
  }

  /**
   * True when `final` (the schema extract committed) holds, for every table the streamed files were
   * normalized with, the same definition, and the same settings; its other tables (declared at the
   * end, e.g. `_dlt_pipeline_state`) are adopted for the remaining files.
   */
  #adoptFinalSchema(final: Schema): boolean {
    const work = this.#work;
    if (work === undefined) return false;
    const doc = final.toDict();
    if (settingsOf(doc) !== work.settings) return false;
    for (const [name, definition] of work.tables) {
      const table = doc.tables[name];
      if (table === undefined || sortedJson(table) !== definition) return false;
    }
    for (const [name, table] of Object.entries(doc.tables)) {
      if (!work.tables.has(name) && !adopt(work, table)) return false;
    }
    return true;
  }

  #discard(): void {
    const work = this.#work;
    this.#work = undefined;
    this.#queue.length = 0;
    if (this.#state === "streaming" || this.#state === "failed") {
      work?.normalizer.abort();
    }
    this.#state = "closed";
    if (work !== undefined) this.#options.loadStorage.deletePackage(work.output);
  }
}

/** The parts of a stored schema besides its tables and versions: what normalizing depends on. */
function settingsOf(doc: ReturnType<Schema["toDict"]>): string {
  return sortedJson({
    name: doc.name,
    engine_version: doc.engine_version,
    settings: doc.settings,
    normalizers: doc.normalizers,
  });
}

/** `tables` with the names of `order` first, in that order, then the others as they come. */
function inOrderOf(
  order: Record<string, TableSchema>,
  tables: Record<string, TableSchema>,
): Record<string, TableSchema> {
  const sorted: Record<string, TableSchema> = {};
  for (const name of Object.keys(order)) {
    const table = tables[name];
    if (table !== undefined) sorted[name] = table;
  }
  for (const [name, table] of Object.entries(tables)) sorted[name] ??= table;
  return sorted;
}
