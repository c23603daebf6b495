/**
 * Normalizing a package while it is still being extracted. `pipeline.run()` hands each job file
 * extract closes to a {@link StreamingNormalizer}, so that after extract only the last files remain:
 *
 * - When the resources wait on I/O (REST pages, database cursors), the thread is mostly idle during
 *   extract: the files are normalized on it, in its idle time.
 * - When extract keeps the thread busy (generated or in-memory data), the files go to normalize's
 *   worker threads (`parallel-normalize.ts`) as they close, once there are enough of them to be worth
 *   the workers: the other cores normalize while this one extracts.
 *
 * The result is the package {@link normalizePackage} would write from the same files. Normalize starts
 * from the schema as it is when streaming starts; {@link StreamingNormalizer.finish} compares it with
 * the schema extract committed, and when anything the streamed files depended on changed after they
 * were normalized (a table's hints, the schema's settings), it throws the output away and returns
 * undefined: the caller then normalizes the package as usual. The same happens when a streamed file
 * failed, so errors are reported exactly as without streaming. Nothing is committed before `finish`,
 * so a crash leaves only the extracted package.
 */
import { availableParallelism } from "node:os";
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
import {
  contractsAllowWorkers,
  defaultNormalizeWorkers,
  JobFeed,
  normalizeInWorkers,
  type TableSummary,
} from "./parallel-normalize.js";
import { RelationalNormalizer } from "./relational-normalizer.js";

/** Options of {@link StreamingNormalizer}. */
export interface StreamingNormalizeOptions extends Omit<NormalizeOptions, "extracted"> {
  /** The load id extract writes the package under. */
  readonly loadId: string;
  /**
   * The schema extract writes into. It is read, never changed: copied when streaming starts, and its
   * later table definitions are adopted for tables declared after that.
   */
  readonly schema: Schema;
  /**
   * The share of time the thread's event loop may be busy for the files to be normalized on it (the
   * resources wait on I/O). Above it, the files go to worker threads (when `workers` > 1 and at least
   * `parallelMinBytes` were extracted), or streaming does not start. `1` starts on the thread with
   * the first file.
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
 * to be asked for on the thread: above it, extraction itself is the bottleneck and no time is idle.
 */
const BUSY_UTILIZATION = 0.9;

/** Shortest stretch of time (ms) over which the event loop's business decides how streaming starts. */
const START_WINDOW_MS = 150;

/** Busy time (ms) after which streaming is not started at all when no workers can take the files. */
const DECIDE_WITHIN_MS = 1000;

/** Event loop business that shows a CPU-bound extract at once (no idle time at all). */
const CPU_BOUND_UTILIZATION = 0.95;

/** Milliseconds of event loop time over which {@link BUSY_UTILIZATION} is measured. */
const BUSY_WINDOW_MS = 1000;

type StreamState = "waiting" | "streaming" | "declined" | "failed" | "closed";

/** What is being streamed into, and by whom. */
interface StreamWork {
  readonly schema: Schema;
  readonly naming: NamingConvention;
  readonly output: LoadPackage;
  /** The schema's settings and normalizers (sorted JSON) when streaming started. */
  readonly settings: string;
  /** Definitions (sorted JSON) of the tables as the streamed files were normalized with them. */
  readonly tables: Map<string, string>;
  /** On this thread: the normalizer. */
  readonly normalizer?: RelationalNormalizer;
  /** In worker threads: the files handed to them, and their result. */
  readonly workers?: { readonly feed: JobFeed; readonly done: Promise<TableSummary[] | undefined> };
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
  readonly #workers: number;
  #state: StreamState = "waiting";
  /** Thread mode: files waiting to be normalized, and the one being normalized. */
  readonly #queue: StreamedJobFile[] = [];
  #running: Promise<void> | undefined;
  #paused = false;
  /** Names of the files normalized (thread) or handed to the workers so far. */
  readonly #done = new Set<string>();
  /** Event loop utilization at construction, then at the start of the current window. */
  #elu = performance.eventLoopUtilization();
  /** Files closed before streaming started (normalized once it starts), and their bytes. */
  readonly #waiting: StreamedJobFile[] = [];
  #waitingBytes = 0;
  /** Event loop time spent busy (above `maxEventLoopUtilization`) before streaming started. */
  #busyMs = 0;
  /** Thread mode: the event loop was busy in the last window (no idle time left to fill). */
  #busy = false;
  /** Files normalized (or handed to the workers) while extract ran. */
  #streamed = 0;
  /** Thread mode: bytes of the files normalized while extract ran. */
  #streamedBytes = 0;
  #work: StreamWork | undefined;

  constructor(options: StreamingNormalizeOptions) {
    this.loadId = options.loadId;
    this.#options = options;
    this.#fileFormat = checkOptions(options, options.loadId);
    this.#workers = options.workers ?? defaultNormalizeWorkers();
  }

  /** Files normalized (or handed to worker threads) while extract ran. */
  get streamedFiles(): number {
    return this.#streamed;
  }

  /** How the files are normalized: on this thread, in worker threads, or not (yet). */
  get mode(): "thread" | "workers" | undefined {
    if (this.#work === undefined) return undefined;
    return this.#work.workers === undefined ? "thread" : "workers";
  }

  /**
   * Takes a file extract closed and normalizes it as soon as the files before it are done. Returns
   * false when it wants no more files by age: streaming did not start (the thread is busy extracting
   * and no workers can help), or the thread has no idle time left to fill.
   */
  fileClosed(file: StreamedJobFile): boolean {
    if (this.#state === "waiting") return this.#decide(file);
    if (this.#state !== "streaming") return false;
    const work = this.#work as StreamWork;
    if (work.workers !== undefined) {
      this.#handToWorkers(work, work.workers.feed, file);
      return true;
    }
    this.#queue.push(file);
    this.#pump();
    const window = performance.eventLoopUtilization(this.#elu);
    if (window.idle + window.active >= BUSY_WINDOW_MS) {
      this.#elu = performance.eventLoopUtilization();
      this.#busy = window.utilization > BUSY_UTILIZATION;
    }
    return !this.#busy;
  }

  /**
   * Stops sending files (they are about to move) and waits for the ones being normalized; never
   * rejects. {@link finish} goes on from there.
   */
  async pause(): Promise<void> {
    this.#paused = true;
    await this.#work?.workers?.feed.hold();
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
      await this.#discard();
      return undefined;
    }
    const logger = this.#options.logger ?? silentLogger;
    let result: NormalizeResult;
    try {
      const final = Schema.fromDict(extracted.readSchemaDoc());
      const jobs = extracted.listJobs("new_jobs");
      const adopt = this.#declaredLater(work, final);
      if (adopt === undefined || jobs.some((job) => !isNormalizeInput(job.parsed.fileFormat))) {
        logger.debug(`Load package \`${this.loadId}\`: streamed normalize discarded, the schema changed.`);
        await this.#discard();
        return undefined;
      }
      if (work.workers === undefined && this.#leftForWorkers(jobs)) {
        // extraction outran the thread: most of the package is left, and worker threads do it faster
        logger.debug(`Load package \`${this.loadId}\`: streamed normalize discarded, most files are left.`);
        await this.#discard();
        return undefined;
      }
      this.#streamed = this.#done.size;
      const touched = work.workers
        ? await this.#finishInWorkers(work.workers, jobs, adopt)
        : await this.#finishOnThread(work.normalizer as RelationalNormalizer, jobs, adopt);
      if (touched === undefined) throw new Error("the worker threads failed");
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
        touched,
        seenBefore: tablesWithData(final),
        logger,
      });
      this.#work = undefined;
    } catch (error) {
      // the normal path normalizes the package again and reports what failed
      logger.debug(
        `Load package \`${this.loadId}\`: streamed normalize discarded: ${normalizeFailure(error, this.loadId).message}`,
      );
      await this.#discard();
      return undefined;
    }
    logger.info(
      `Load package \`${this.loadId}\`: ${this.#streamed} of ${extracted.listJobs("new_jobs").length} extracted file(s) ${work.workers ? "went to worker threads" : "were normalized"} while extracting.`,
    );
    for (const [table, rows] of Object.entries(result.rowCounts)) {
      this.#options.collector?.update(table, { inc: rows });
    }
    return finishedPackage(extracted, result, logger);
  }

  /**
   * Thread mode: true when the files not streamed are more than those streamed, and enough for the
   * usual path's worker threads ({@link NormalizeOptions.parallelMinBytes}, more than one worker).
   */
  #leftForWorkers(jobs: readonly PackageJob[]): boolean {
    const left = jobs.filter((job) => !this.#done.has(job.fileName));
    if (this.#workers <= 1 || left.length <= 1) return false;
    const leftBytes = totalSize(left);
    return (
      leftBytes >= (this.#options.parallelMinBytes ?? DEFAULT_PARALLEL_MIN_BYTES) &&
      leftBytes > this.#streamedBytes
    );
  }

  /** Throws the output away (extract failed, or the caller normalizes the package itself). */
  async abort(): Promise<void> {
    await this.pause();
    await this.#discard();
  }

  /** While waiting: decides from the thread's business whether (and where) streaming starts. */
  #decide(file: StreamedJobFile): boolean {
    this.#waiting.push(file);
    this.#waitingBytes += sizeOf(file);
    const window = performance.eventLoopUtilization(this.#elu);
    const windowMs = window.idle + window.active;
    const maxUtilization = this.#options.maxEventLoopUtilization ?? 0.5;
    if (windowMs < START_WINDOW_MS && maxUtilization < 1) return true;
    this.#elu = performance.eventLoopUtilization();
    if (window.utilization <= maxUtilization) {
      const work = this.#start(false);
      if (work === undefined) return false;
      this.#queue.push(...this.#waiting.splice(0));
      this.#pump();
      return true;
    }
    // busy extracting: the workers take the files once there are enough of them
    const workersFit = this.#workers > 1 && contractsAllowWorkers(this.#options.schema);
    if (workersFit) {
      if (this.#waitingBytes < (this.#options.parallelMinBytes ?? DEFAULT_PARALLEL_MIN_BYTES)) return true;
      const work = this.#start(true);
      if (work?.workers === undefined) return false;
      for (const waiting of this.#waiting.splice(0)) {
        this.#handToWorkers(work, work.workers.feed, waiting);
      }
      return true;
    }
    this.#busyMs += windowMs;
    // not for long, and not at all when extraction never left the thread idle (CPU-bound)
    if (this.#busyMs < DECIDE_WITHIN_MS && window.utilization < CPU_BOUND_UTILIZATION) return true;
    this.#state = "declined";
    this.#waiting.length = 0;
    this.#options.logger?.debug(
      `Load package \`${this.loadId}\`: not normalized while extracting, extract keeps the thread ${Math.round(window.utilization * 100)}% busy.`,
    );
    return false;
  }

  /** Takes the schema and prepares the normalizer (or the workers); undefined when it cannot start. */
  #start(inWorkers: boolean): StreamWork | undefined {
    const options = this.#options;
    let output: LoadPackage | undefined;
    try {
      const doc = options.schema.toDict();
      const schema = Schema.fromDict(doc);
      const naming = namingFor(schema, options.capabilities, this.loadId);
      output = options.loadStorage.createTempPackage(this.loadId);
      const base = {
        schema,
        naming,
        output,
        settings: settingsOf(doc),
        tables: new Map(Object.entries(doc.tables).map(([name, table]) => [name, sortedJson(table)])),
      };
      const normalizerOptions = {
        fileFormat: this.#fileFormat,
        fileMaxItems: options.fileMaxItems,
        fileMaxBytes: options.fileMaxBytes ?? DEFAULT_NORMALIZE_FILE_MAX_BYTES,
        maxTableNesting: options.capabilities.maxTableNesting,
      };
      let work: StreamWork;
      if (inWorkers) {
        // one core extracts: the workers of the others normalize meanwhile, all of them once it is done
        const feed = new JobFeed(Math.min(this.#workers, availableParallelism() - 1));
        const done = normalizeInWorkers({
          ...normalizerOptions,
          schema,
          naming,
          maxIdentifierLength: Math.min(
            options.capabilities.maxIdentifierLength,
            options.capabilities.maxColumnIdentifierLength,
          ),
          loadId: this.loadId,
          output,
          jobs: feed,
          workers: this.#workers,
          logger: options.logger ?? silentLogger,
        }).catch(() => undefined);
        work = { ...base, workers: { feed, done } };
      } else {
        const normalizer = new RelationalNormalizer({
          ...normalizerOptions,
          schema,
          naming,
          loadId: this.loadId,
          output,
        });
        work = { ...base, normalizer };
      }
      this.#work = work;
      this.#state = "streaming";
      return work;
    } catch {
      if (output !== undefined) options.loadStorage.deletePackage(output);
      this.#state = "failed";
      return undefined;
    }
  }

  /** Adopts the file's table when it was declared after streaming started, and feeds the file. */
  #handToWorkers(work: StreamWork, feed: JobFeed, file: StreamedJobFile): void {
    const parsed = parseJobFileName(file.fileName);
    this.#adoptDeclared(work, parsed.tableName);
    this.#done.add(file.fileName);
    feed.append({ ...file, state: "new_jobs", parsed });
  }

  /**
   * A table declared after streaming started (a table name picked per item): its hints are adopted
   * before its first file is normalized.
   */
  #adoptDeclared(work: StreamWork, table: string): void {
    const name = work.naming.normalizeTablesPath(table);
    const declared = this.#options.schema.tables[name];
    if (work.tables.has(name) || declared === undefined) return;
    work.tables.set(name, sortedJson(declared));
    if (work.workers) {
      work.workers.feed.adopt([structuredClone(declared)]);
    } else if (!work.normalizer?.adoptTable(structuredClone(declared))) {
      throw new Error(`table ${name} was met before it was declared`);
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
      if (work?.normalizer === undefined) return;
      this.#adoptDeclared(work, parseJobFileName(file.fileName).tableName);
      await this.#normalizeFile(work.normalizer, work.naming, file);
    } catch {
      this.#state = "failed";
      this.#queue.length = 0;
    }
  }

  async #normalizeFile(
    normalizer: RelationalNormalizer,
    naming: NamingConvention,
    file: StreamedJobFile,
  ): Promise<void> {
    const parsed = parseJobFileName(file.fileName);
    const root = normalizer.rootTable(naming.normalizeTablesPath(parsed.tableName));
    await normalizeJobFile(normalizer, root, file.path, file.fileName, parsed.compressed, this.loadId);
    this.#done.add(file.fileName);
    this.#streamedBytes += totalSize([file]);
  }

  /** Thread mode: adopts the tables declared at the end, normalizes the files left, closes the job files. */
  async #finishOnThread(
    normalizer: RelationalNormalizer,
    jobs: readonly PackageJob[],
    adopt: readonly TableSchema[],
  ): Promise<TableSummary[]> {
    const work = this.#work as StreamWork;
    for (const table of adopt) {
      if (!normalizer.adoptTable(structuredClone(table))) throw new Error(`table ${table.name} clashes`);
    }
    for (const job of jobs) {
      if (!this.#done.has(job.fileName)) await this.#normalizeFile(normalizer, work.naming, job);
    }
    normalizer.close();
    return normalizer.touchedTables();
  }

  /** Worker mode: hands the workers the files left (at their final paths) and waits for them. */
  async #finishInWorkers(
    workers: NonNullable<StreamWork["workers"]>,
    jobs: readonly PackageJob[],
    adopt: readonly TableSchema[],
  ): Promise<TableSummary[] | undefined> {
    workers.feed.seal(jobs, adopt);
    return workers.done;
  }

  /**
   * The tables of `final` (the schema extract committed) to adopt for the files not normalized yet
   * (declared at the end, e.g. `_dlt_pipeline_state`); undefined when `final` changed a table the
   * streamed files were normalized with, or the settings.
   */
  #declaredLater(work: StreamWork, final: Schema): TableSchema[] | undefined {
    const doc = final.toDict();
    if (settingsOf(doc) !== work.settings) return undefined;
    for (const [name, definition] of work.tables) {
      const table = doc.tables[name];
      if (table === undefined || sortedJson(table) !== definition) return undefined;
    }
    const adopt: TableSchema[] = [];
    for (const [name, table] of Object.entries(doc.tables)) {
      if (work.tables.has(name)) continue;
      work.tables.set(name, sortedJson(table));
      adopt.push(table as TableSchema);
    }
    return adopt;
  }

  async #discard(): Promise<void> {
    const work = this.#work;
    this.#work = undefined;
    this.#queue.length = 0;
    this.#waiting.length = 0;
    this.#state = "closed";
    if (work === undefined) return;
    if (work.workers) {
      work.workers.feed.cancel();
      await work.workers.done;
    } else {
      work.normalizer?.abort();
    }
    this.#options.loadStorage.deletePackage(work.output);
  }
}

/** Size of a file in bytes (0 when it cannot be read). */
function sizeOf(file: StreamedJobFile): number {
  try {
    return totalSize([file]);
  } catch {
    return 0;
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
