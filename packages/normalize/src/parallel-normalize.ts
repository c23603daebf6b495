/**
 * Normalizing the job files of one package in worker threads, with the same result as normalizing
 * them one after another on one thread: the same rows in every table and the same evolved schema
 * (tables and columns in the same order, with the same types). Only the split of rows into job files
 * differs (each input file gets job files of its own).
 *
 * How: files are handed out in order, one at a time, to whichever worker is free, so each worker sees
 * an increasing subsequence of the files. Each worker starts a round from the same schema and reports,
 * per file, the schema changes it made (in call order), the columns that received nulls while untyped,
 * the tables it met and the job files it wrote. The main thread merges the reports strictly in file
 * order into the package schema, replaying the changes. A file's report is exact when everything the
 * worker knew at that file agrees with the merged schema, which holds unless a column the file adds
 * already exists with another definition (e.g. `bigint` here, `text` from a file of another worker),
 * or a column the file sent nulls to is not nullable in the merged schema. On such a conflict the
 * job files of that file and of every later one are deleted and a new round starts at that file from
 * the merged schema, so its first file is always exact. Anything else a worker decides depends on the
 * initial schema or on the file's own data only.
 *
 * Not used (the caller normalizes on one thread) when a table has a schema contract other than
 * `evolve`: contracts depend on whether a table is new, which differs between workers. When a worker
 * fails (bad data, a column that cannot be coerced), {@link normalizeInWorkers} returns undefined and
 * the caller normalizes the package again on one thread, which reports the error exactly.
 */
import { rmSync, truncateSync } from "node:fs";
import { availableParallelism } from "node:os";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import {
  type Collector,
  type ColumnSchema,
  EVOLVE_ALL,
  expandContract,
  type LoadPackage,
  type Logger,
  type NamingConvention,
  type PackageJob,
  type Schema,
  type TableSchema,
} from "@tsdlt/core";
import type { NormalizedFileFormat } from "./job-writer.js";
import type { FromNormalizeWorker, NormalizeWorkerSetup, ToNormalizeWorker } from "./normalize-worker.js";
import type { NormalizerFileReport } from "./relational-normalizer.js";
import { RelationalNormalizer } from "./relational-normalizer.js";

/** What the package-level bookkeeping needs of a table that received job files. */
export interface TableSummary {
  readonly name: string;
  rows: number;
  /** Names of columns added or completed by this package. */
  readonly added: Set<string>;
  /** Names that received only nulls (filtered against the final schema). */
  readonly nullOnly: Set<string>;
}

/**
 * The job files {@link normalizeInWorkers} hands out: a fixed list ({@link JobFeed.of}), or the files of
 * a package still being extracted (normalize while extracting), appended as extract closes them and
 * sealed once extract has committed the package.
 */
export class JobFeed {
  readonly jobs: PackageJob[] = [];
  /**
   * Workers that take files while the feed is open: extraction keeps a core busy, and a worker for
   * each core would slow it down by more than it normalizes. The others join once it is sealed.
   */
  readonly workersWhileOpen: number;
  #sealed = false;
  /** No file may be sent (extract is moving them); resolves waiters once none is in flight. */
  #held = false;
  /** The running round should end once its files are answered (tables are to be adopted). */
  #roundBreak = false;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #adoptions: TableSchema[] = [];
  #canceled = false;
  /** The round's reaction to a change (more files, sealed, released, round break). */
  onChange: (() => void) | undefined;

  /** @param workersWhileOpen see {@link JobFeed.workersWhileOpen} (at least 1) */
  constructor(workersWhileOpen: number = Number.POSITIVE_INFINITY) {
    this.workersWhileOpen = Math.max(1, workersWhileOpen);
  }

  /** A sealed feed of `jobs`. */
  static of(jobs: readonly PackageJob[]): JobFeed {
    const feed = new JobFeed();
    feed.jobs.push(...jobs);
    feed.#sealed = true;
    return feed;
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  /** True when file `index` may be sent now. */
  canSend(index: number): boolean {
    return !this.#held && !this.#roundBreak && index < this.jobs.length;
  }

  /** True when a round that sent files up to `nextToSend` has nothing more to wait for. */
  roundComplete(nextToSend: number): boolean {
    return this.#roundBreak || (this.#sealed && nextToSend >= this.jobs.length);
  }

  append(job: PackageJob): void {
    this.jobs.push(job);
    this.onChange?.();
  }

  /**
   * Stops sending files; resolves when no file is in flight any more (so the files can move).
   */
  hold(): Promise<void> {
    this.#held = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Ends the feed with the files of the committed package (`jobs`: every job file, by name, at its
   * final path), adopting `tables` (declared by extract after the workers' schema was taken) before
   * the files not sent yet are normalized, and sends again.
   */
  seal(jobs: readonly PackageJob[], tables: readonly TableSchema[]): void {
    const byName = new Map(jobs.map((job) => [job.fileName, job]));
    const known = new Set(this.jobs.map((job) => job.fileName));
    for (let i = 0; i < this.jobs.length; i++) {
      const moved = byName.get((this.jobs[i] as PackageJob).fileName);
      if (moved !== undefined) this.jobs[i] = moved;
    }
    for (const job of jobs) if (!known.has(job.fileName)) this.jobs.push(job);
    this.#adoptions.push(...tables);
    if (tables.length > 0) this.#roundBreak = true;
    this.#sealed = true;
    this.#held = false;
    this.onChange?.();
  }

  /**
   * Adopts `tables` (declared after the workers' schema was taken) before the next file is sent: the
   * running round ends once its files are answered, and the next one starts with them.
   */
  adopt(tables: readonly TableSchema[]): void {
    if (tables.length === 0) return;
    this.#adoptions.push(...tables);
    this.#roundBreak = true;
    this.onChange?.();
  }

  /** Ends the work early: no more files are sent, and {@link normalizeInWorkers} returns undefined. */
  cancel(): void {
    this.#canceled = true;
    this.#held = false;
    this.#roundBreak = true;
    this.onChange?.();
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  get canceled(): boolean {
    return this.#canceled;
  }

  /** Called by the round: a file was sent, or answered. */
  sent(): void {
    this.#inFlight++;
  }
  answered(): void {
    this.#inFlight--;
    if (this.#inFlight > 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Tables to adopt before the next round; clears the round break. */
  takeAdoptions(): TableSchema[] {
    this.#roundBreak = false;
    return this.#adoptions.splice(0);
  }
}

/** Options of {@link normalizeInWorkers}. */
export interface ParallelNormalizeOptions {
  /** The package schema; evolved in place. */
  readonly schema: Schema;
  readonly naming: NamingConvention;
  readonly maxIdentifierLength: number;
  readonly loadId: string;
  readonly output: LoadPackage;
  /** The extracted job files, in the order a single thread would normalize them. */
  readonly jobs: readonly PackageJob[] | JobFeed;
  readonly workers: number;
  readonly fileFormat: NormalizedFileFormat;
  readonly fileMaxItems: number | undefined;
  readonly fileMaxBytes: number | undefined;
  readonly maxTableNesting: number | undefined;
  readonly collector?: Collector | undefined;
  readonly logger: Logger;
}

/**
 * Rounds after which a package whose files keep conflicting is normalized on one thread instead
 * (rounds that only adopt tables declared while extracting do not count).
 */
const MAX_ROUNDS = 4;

/**
 * V8 limits of a worker. A 16 MB young generation (the default is 3× larger) and a 512 MB old
 * generation (the default is the machine's heap limit, which lets the heap grow further before a full
 * GC) keep a worker at about 80 MB instead of 130 MB for some 10% more GC time. A worker that runs out
 * of memory fails, and the package is then normalized on the calling thread.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 512 } as const;

/** Default number of normalize workers: the cores of the machine, at most 4. */
export function defaultNormalizeWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

/**
 * True when every table evolves freely (no schema contract other than `evolve`), the condition for
 * normalizing in workers.
 */
export function contractsAllowWorkers(schema: Schema): boolean {
  try {
    if (expandContract(schema.settings.schema_contract) !== EVOLVE_ALL) return false;
    for (const table of Object.values(schema.tables)) {
      if (table.schema_contract !== undefined && expandContract(table.schema_contract) !== EVOLVE_ALL) {
        return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/** Where the worker's compiled entry point is: next to this module, or in `dist/` when run from sources. */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts")
    ? new URL("../dist/normalize-worker.js", here)
    : new URL("./normalize-worker.js", here);
}

/** Structural equality of two JSON-like values (key order ignored). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function noop(): void {}

/** A worker and the files sent to it that it has not answered yet. */
interface WorkerSlot {
  readonly worker: Worker;
  /**
   * The port the worker answers on. Its own (not the worker's) so that a thread kept busy by a
   * CPU-bound extract can read the answers between two files ({@link receiveMessageOnPort}): the
   * `message` events would only come once extraction ends.
   */
  readonly answers: MessagePort;
  readonly pending: number[];
  /** The worker thread has ended. */
  exited: boolean;
}

/**
 * Normalizes `jobs` in worker threads into `output`, evolving `schema`. Returns the tables that
 * received job files (in the order a single thread would have met them), or undefined when a worker
 * failed: then `output` holds partial job files and `schema` partial changes — discard both and
 * normalize on one thread.
 */
export async function normalizeInWorkers(
  options: ParallelNormalizeOptions,
): Promise<TableSummary[] | undefined> {
  const { schema, naming, output, collector, logger } = options;
  const feed = options.jobs instanceof JobFeed ? options.jobs : JobFeed.of(options.jobs);
  const jobs = feed.jobs;
  // replays what a single thread does to the schema's normalizer config when it meets a root table
  const replay = new RelationalNormalizer({
    schema,
    naming,
    loadId: options.loadId,
    output,
    fileMaxItems: options.fileMaxItems,
    fileMaxBytes: options.fileMaxBytes,
    maxTableNesting: options.maxTableNesting,
  });
  const tables = new Map<string, TableSummary & { touched: boolean }>();
  const tableOf = (name: string): TableSummary & { touched: boolean } => {
    let table = tables.get(name);
    if (table === undefined) {
      table = { name, rows: 0, added: new Set(), nullOnly: new Set(), touched: false };
      tables.set(name, table);
    }
    return table;
  };
  /** The parent of each table where it was first met, in file order (a single thread's table state). */
  const parents = new Map<string, string | null>();
  /** Job files by name: their table and the rows of merged files they hold. */
  const files = new Map<string, { table: string; rows: number }>();

  /** Checks a file's report against the merged schema; applies it unless it conflicts. */
  const merge = (index: number, report: NormalizerFileReport): boolean => {
    const job = jobs[index] as PackageJob;
    replay.rootTable(naming.normalizeTablesPath(job.parsed.tableName));
    for (const [table, column] of report.nulls) {
      const col = schema.tables[table]?.columns[column];
      if (col?.data_type !== undefined && col.nullable === false) return false;
    }
    for (const [name, parent] of report.tablesCreated) {
      const first = parents.get(name);
      if (first !== undefined && first !== parent) return false;
    }
    for (const change of report.changes) {
      if (change.kind === "table") {
        const existing = schema.tables[change.table.name];
        if (existing !== undefined && existing.parent !== change.table.parent) return false;
        continue;
      }
      const existing = schema.tables[change.table]?.columns[change.column.name];
      if (existing?.data_type !== undefined && !sameJson(existing, change.stored)) return false;
    }
    // table states in the order a single thread creates them (it lists tables in that order)
    for (const [name, parent] of report.tablesCreated) {
      if (!parents.has(name)) parents.set(name, parent);
      tableOf(name);
    }
    for (const change of report.changes) {
      if (change.kind === "table") {
        if (schema.tables[change.table.name] === undefined) schema.updateTable(change.table);
        continue;
      }
      const name = change.column.name;
      tableOf(change.table).added.add(name);
      const existing: ColumnSchema | undefined = schema.tables[change.table]?.columns[name];
      if (existing?.data_type !== undefined) continue;
      schema.updateTable({ name: change.table, columns: { [name]: change.column } });
    }
    for (const [table, column] of report.nulls) tableOf(table).nullOnly.add(column);
    for (const [name, rows] of Object.entries(report.rows)) {
      const table = tableOf(name);
      table.touched = true;
      table.rows += rows;
      if (rows > 0) collector?.update(name, { inc: rows });
    }
    for (const out of report.outputs) {
      const file = files.get(out.fileName);
      if (file === undefined) files.set(out.fileName, { table: out.table, rows: out.rows });
      else file.rows += out.rows;
    }
    collector?.update("Files", { total: jobs.length });
    return true;
  };

  /**
   * Removes what unmerged files wrote (after the workers closed their job files). A worker writes its
   * files in order, so their bytes are the ends of its job files: each file is cut where the first
   * of them starts, or deleted when nothing merged is left in it.
   */
  const discard = (reports: Iterable<NormalizerFileReport>): void => {
    const cuts = new Map<string, number>();
    for (const report of reports) {
      for (const out of report.outputs) {
        cuts.set(out.fileName, Math.min(cuts.get(out.fileName) ?? out.start, out.start));
      }
    }
    for (const [fileName, cut] of cuts) {
      const path = output.jobPath("new_jobs", fileName);
      if (cut === 0 || !files.has(fileName)) {
        rmSync(path, { force: true });
        files.delete(fileName);
      } else {
        truncateSync(path, cut);
      }
    }
  };

  const setup: NormalizeWorkerSetup = {
    loadId: options.loadId,
    outputPath: output.path,
    maxIdentifierLength: options.maxIdentifierLength,
    fileFormat: options.fileFormat,
    fileMaxItems: options.fileMaxItems,
    fileMaxBytes: options.fileMaxBytes,
    maxTableNesting: options.maxTableNesting,
  };
  const count = Math.max(1, feed.sealed ? Math.min(options.workers, jobs.length) : options.workers);
  const url = workerUrl();
  const slots: WorkerSlot[] = Array.from({ length: count }, () => {
    const { port1: answers, port2: answerPort } = new MessageChannel();
    const worker = new Worker(url, {
      workerData: { ...setup, answers: answerPort },
      transferList: [answerPort],
      resourceLimits: WORKER_LIMITS,
      // none of the process's Node options: the worker is compiled JavaScript that needs no loader or
      // custom export condition (`@tsdlt/core` must resolve to its build, also when the process runs
      // from sources), and options such as `--input-type` are not valid in a worker
      execArgv: [],
    });
    const slot: WorkerSlot = { worker, answers, pending: [], exited: false };
    // between rounds nobody else listens: an error then must not become an uncaught exception, and
    // the next round must know that the worker is gone
    worker.on("error", noop);
    worker.once("exit", () => {
      slot.exited = true;
    });
    return slot;
  });
  try {
    let start = 0;
    for (let round = 1; start < jobs.length || !feed.sealed; ) {
      if (feed.canceled) return undefined;
      for (const table of feed.takeAdoptions()) {
        if (!replay.adoptTable(structuredClone(table))) {
          logger.debug(
            `normalize: table ${table.name} of load ${options.loadId} was met before it was declared; normalizing again`,
          );
          return undefined;
        }
      }
      if (round > MAX_ROUNDS) {
        logger.debug(
          `normalize: files of load ${options.loadId} kept conflicting; normalizing on one thread`,
        );
        return undefined;
      }
      const outcome = await runRound(slots, schema, [...parents], feed, start, merge);
      if (outcome.kind === "failed") {
        logger.debug(
          `normalize: a worker failed on file ${outcome.index} of load ${options.loadId} (${outcome.message}); normalizing on one thread`,
        );
        return undefined;
      }
      discard(outcome.unmerged.values());
      if (outcome.next < jobs.length) {
        logger.debug(
          outcome.conflict
            ? `normalize: file ${outcome.next} of load ${options.loadId} conflicts with the schema merged so far; new round from it`
            : `normalize: tables declared while extracting load ${options.loadId} are adopted; new round from file ${outcome.next}`,
        );
      }
      if (outcome.conflict) round++;
      start = outcome.next;
    }
    if (feed.canceled) return undefined;
  } finally {
    feed.onChange = undefined;
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const slot of slots) slot.answers.close();
  }

  // a table gets job files with rows, or one empty job file (as on one thread)
  const withRows = new Set([...files.values()].filter((f) => f.rows > 0).map((f) => f.table));
  const keptEmpty = new Set<string>();
  for (const [fileName, file] of files) {
    if (file.rows > 0) continue;
    if (!withRows.has(file.table) && !keptEmpty.has(file.table)) {
      keptEmpty.add(file.table);
      continue;
    }
    rmSync(output.jobPath("new_jobs", fileName), { force: true });
  }
  return [...tables.values()].filter((t) => t.touched);
}

type RoundOutcome =
  | {
      readonly kind: "merged";
      /** The first file not merged (conflict), or `jobs.length`. */
      readonly next: number;
      /** Reports that were not merged (they came after a conflict). */
      readonly unmerged: ReadonlyMap<number, NormalizerFileReport>;
      /** The round ended at a file that conflicts (not at a round break of the feed). */
      readonly conflict: boolean;
    }
  | { readonly kind: "failed"; readonly index: number; readonly message: string };

/**
 * One round: every worker starts from `schema`; files `start..` are handed out in order; reports are
 * merged in order until one conflicts. Waits for every file sent out before returning.
 */
function runRound(
  slots: readonly WorkerSlot[],
  schema: Schema,
  tables: readonly (readonly [string, string | null])[],
  feed: JobFeed,
  start: number,
  merge: (index: number, report: NormalizerFileReport) => boolean,
): Promise<RoundOutcome> {
  const gone = slots.findIndex((s) => s.exited);
  if (gone !== -1) {
    return Promise.resolve({ kind: "failed", index: start, message: `worker ${gone} has exited` });
  }
  const jobs = feed.jobs;
  return new Promise((resolve) => {
    const doc = schema.toDict();
    const reports = new Map<number, NormalizerFileReport>();
    let nextToSend = start;
    let nextToMerge = start;
    let stopped = false;
    let failure: { index: number; message: string } | undefined;
    let outstanding = 0;
    const listeners: (() => void)[] = [];
    const answerers = new Map<WorkerSlot, (message: FromNormalizeWorker) => void>();
    /** Reads the answers that came in (the event loop may not get to them while extract runs). */
    const readAnswers = (): void => {
      for (const [slot, onMessage] of answerers) {
        for (
          let m = receiveMessageOnPort(slot.answers);
          m !== undefined;
          m = receiveMessageOnPort(slot.answers)
        ) {
          onMessage(m.message as FromNormalizeWorker);
        }
      }
    };

    let closing = 0;
    const finish = (): void => {
      if (failure !== undefined) {
        for (const remove of listeners) remove();
        feed.onChange = undefined;
        resolve({ kind: "failed", ...failure });
        return;
      }
      // the workers close their job files (flushed and synced) before the round's outcome counts
      closing = slots.length;
      for (const slot of slots) {
        const close: ToNormalizeWorker = { type: "close" };
        slot.worker.postMessage(close);
      }
    };
    const closed = (): void => {
      closing--;
      if (closing > 0) return;
      for (const remove of listeners) remove();
      feed.onChange = undefined;
      if (failure !== undefined) resolve({ kind: "failed", ...failure });
      else resolve({ kind: "merged", next: nextToMerge, unmerged: reports, conflict: stopped });
    };
    const send = (slot: WorkerSlot, at: number): void => {
      if (stopped || !feed.canSend(nextToSend) || (!feed.sealed && at >= feed.workersWhileOpen)) return;
      const index = nextToSend++;
      const job = jobs[index] as PackageJob;
      const message: ToNormalizeWorker = {
        type: "file",
        index,
        path: job.path,
        fileName: job.fileName,
        tableName: job.parsed.tableName,
        compressed: job.parsed.compressed,
      };
      slot.pending.push(index);
      outstanding++;
      feed.sent();
      slot.worker.postMessage(message);
    };

    for (const [at, slot] of slots.entries()) {
      slot.pending.length = 0;
      const round: ToNormalizeWorker = { type: "round", schema: doc, tables };
      slot.worker.postMessage(round);
      const onMessage = (message: FromNormalizeWorker): void => {
        if (closing > 0) {
          // the answer to "close": closed, or an error closing the job files
          if (message.type === "error") failure ??= { index: message.index, message: message.message };
          closed();
          return;
        }
        if (message.type === "closed") return;
        slot.pending.splice(slot.pending.indexOf(message.index), 1);
        outstanding--;
        feed.answered();
        if (message.type === "error") {
          failure ??= { index: message.index, message: message.message };
          stopped = true;
        } else {
          reports.set(message.index, message.report);
          while (!stopped && reports.has(nextToMerge)) {
            const report = reports.get(nextToMerge) as NormalizerFileReport;
            if (!merge(nextToMerge, report)) {
              stopped = true;
              break;
            }
            reports.delete(nextToMerge);
            nextToMerge++;
          }
          send(slot, at);
        }
        if (outstanding === 0 && (stopped || feed.roundComplete(nextToSend))) finish();
      };
      // a worker that fails (an uncaught error, out of memory) or exits is lost: its files count as failed
      let lost = false;
      const onLost = (message: string): void => {
        if (lost) return;
        lost = true;
        failure ??= { index: slot.pending[0] ?? -1, message };
        stopped = true;
        outstanding -= slot.pending.length;
        for (const _ of slot.pending) feed.answered();
        slot.pending.length = 0;
        if (closing > 0) closed();
        else if (outstanding === 0) finish();
      };
      const onError = (error: Error): void => onLost(error.message);
      const onExit = (code: number): void => onLost(`the worker exited with code ${code}`);
      slot.answers.on("message", onMessage);
      answerers.set(slot, onMessage);
      slot.worker.on("error", onError);
      slot.worker.on("exit", onExit);
      listeners.push(() => {
        slot.answers.off("message", onMessage);
        slot.worker.off("error", onError);
        slot.worker.off("exit", onExit);
      });
    }
    // keep two files per worker in flight so that a worker never waits for the next one
    const fill = (): void => {
      for (let k = 0; k < 2; k++) {
        for (const [at, slot] of slots.entries()) if (slot.pending.length < 2 && !slot.exited) send(slot, at);
      }
    };
    fill();
    if (outstanding === 0 && (stopped || feed.roundComplete(nextToSend))) {
      finish();
      return;
    }
    feed.onChange = () => {
      if (closing > 0 || failure !== undefined) return;
      // called from extract closing a file: its thread may not have been idle since the last one
      if (!feed.sealed) readAnswers();
      if (closing > 0 || failure !== undefined) return;
      fill();
      if (outstanding === 0 && (stopped || feed.roundComplete(nextToSend))) finish();
    };
  });
}
