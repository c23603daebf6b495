/**
 * A small but real destination for testing `@tsdlt/load`: each job copies the rows of its jsonl file
 * into `<dir>/<dataset>/<table>.jsonl`, the stored schema lives in `<dir>/<dataset>/_schema.json`, and
 * completed loads are appended to `<dir>/<dataset>/_dlt_loads.jsonl`. Every call is recorded, and
 * failures can be injected per job file (STYLE rule 23's dummy destination with injectable failures).
 *
 * Not supported: state sync, SQL access, staging, merge/replace semantics (rows are always appended).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Destination,
  type DestinationCapabilities,
  type DestinationClient,
  type DestinationContext,
  DestinationError,
  defineCapabilities,
  jobIdOf,
  type LoadJob,
  type LoadJobFile,
  type Schema,
  type SchemaUpdateResult,
  type TableSchema,
} from "@tsdlt/core";

export const DESTINATION_NAME = "file_dest";

/** A failure injected into the job of one file (matched by job id, so on every retry count). */
export type InjectedFailure =
  /** `DestinationError` with `retryable: false` on every attempt. */
  | { readonly kind: "terminal"; readonly message?: string }
  /** `DestinationError` with `retryable: true` on the first `times` attempts, then success. */
  | { readonly kind: "transient"; readonly times: number; readonly message?: string }
  /** A plain `Error` (not a tsdlt error) on every attempt, as a buggy destination would throw. */
  | { readonly kind: "crash"; readonly message?: string };

export interface FileDestinationOptions {
  /** Root folder of the destination's data. */
  readonly dir: string;
  /** Failures keyed by job file name (any retry count). */
  readonly failures?: Readonly<Record<string, InjectedFailure>>;
  /** Called when a job starts running, before it copies rows or fails. */
  readonly beforeRun?: (file: LoadJobFile, signal: AbortSignal | undefined) => void | Promise<void>;
  /** Makes `updateStoredSchema` throw this error. */
  readonly failSchemaUpdate?: Error;
  readonly capabilities?: Partial<DestinationCapabilities>;
}

/** Everything the destination was asked to do, in call order. */
export interface FileDestinationCalls {
  createClient: number;
  initializeStorage: number;
  updateStoredSchema: number;
  /** The job file names handed to `createLoadJob`. */
  createLoadJob: string[];
  /** The retry counts handed to `createLoadJob` (`job.parsed.retryCount`). */
  retryCounts: number[];
  /** The tables handed to `createLoadJob`, by job file name. */
  tables: Record<string, TableSchema>;
  /** Job file names whose `run` was called. */
  runs: string[];
  /** Job file names whose rows were copied. */
  loaded: string[];
  completeLoad: string[];
  dispose: number;
  /** Most jobs running at the same time. */
  maxConcurrentRuns: number;
}

export interface FileDestination extends Destination {
  readonly calls: FileDestinationCalls;
  /** The rows stored in `table` of `dataset`. */
  rows(dataset: string, table: string): unknown[];
  /** The load ids recorded as complete in `dataset`. */
  completedLoads(dataset: string): string[];
}

/** Creates a file destination writing under `options.dir`. */
export function fileDestination(options: FileDestinationOptions): FileDestination {
  const calls: FileDestinationCalls = {
    createClient: 0,
    initializeStorage: 0,
    updateStoredSchema: 0,
    createLoadJob: [],
    retryCounts: [],
    tables: {},
    runs: [],
    loaded: [],
    completeLoad: [],
    dispose: 0,
    maxConcurrentRuns: 0,
  };
  const attempts = new Map<string, number>();
  const failures = new Map(Object.entries(options.failures ?? {}).map(([file, f]) => [jobIdOf(file), f]));
  const capabilities = defineCapabilities({
    preferredLoaderFileFormat: "jsonl",
    supportedLoaderFileFormats: ["jsonl"],
    ...options.capabilities,
  });
  let running = 0;

  const datasetDir = (dataset: string): string => join(options.dir, dataset);
  const readLines = (file: string): unknown[] =>
    existsSync(file)
      ? readFileSync(file, "utf8")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as unknown)
      : [];

  async function runJob(file: LoadJobFile, dir: string, signal: AbortSignal | undefined): Promise<void> {
    calls.runs.push(file.fileName);
    running++;
    calls.maxConcurrentRuns = Math.max(calls.maxConcurrentRuns, running);
    try {
      await options.beforeRun?.(file, signal);
      // let other workers start, so concurrency is observable
      await new Promise((resolve) => setImmediate(resolve));
      const jobId = jobIdOf(file.fileName);
      const failure = failures.get(jobId);
      const attempt = (attempts.get(jobId) ?? 0) + 1;
      attempts.set(jobId, attempt);
      if (failure?.kind === "terminal") {
        throw new DestinationError(failure.message ?? `rejected ${file.fileName}`, {
          code: "DESTINATION_TERMINAL",
          retryable: false,
          destination: DESTINATION_NAME,
        });
      }
      if (failure?.kind === "transient" && attempt <= failure.times) {
        throw new DestinationError(failure.message ?? `busy (attempt ${attempt})`, {
          code: "DESTINATION_TRANSIENT",
          retryable: true,
          destination: DESTINATION_NAME,
        });
      }
      if (failure?.kind === "crash") throw new Error(failure.message ?? "crashed");
      const text = readFileSync(file.path, "utf8");
      appendFileSync(
        join(dir, `${file.parsed.tableName}.jsonl`),
        text.endsWith("\n") || text === "" ? text : `${text}\n`,
      );
      calls.loaded.push(file.fileName);
    } finally {
      running--;
    }
  }

  return {
    name: DESTINATION_NAME,
    destinationType: `tsdlt_destination_${DESTINATION_NAME}`,
    capabilities,
    displayLocation: (context: DestinationContext) => `file://${join(options.dir, context.datasetName)}`,
    calls,
    rows: (dataset, table) => readLines(join(datasetDir(dataset), `${table}.jsonl`)),
    completedLoads: (dataset) =>
      readLines(join(datasetDir(dataset), "_dlt_loads.jsonl")).map((r) => (r as { load_id: string }).load_id),

    async createClient(schema: Schema, context: DestinationContext): Promise<DestinationClient> {
      calls.createClient++;
      const dir = datasetDir(context.datasetName);
      const schemaFile = join(dir, "_schema.json");
      const client: DestinationClient = {
        capabilities,
        async initializeStorage(): Promise<void> {
          calls.initializeStorage++;
          mkdirSync(dir, { recursive: true });
        },
        async isStorageInitialized(): Promise<boolean> {
          return existsSync(dir);
        },
        async updateStoredSchema(): Promise<SchemaUpdateResult> {
          calls.updateStoredSchema++;
          if (options.failSchemaUpdate) throw options.failSchemaUpdate;
          const stored: Record<string, string[]> = existsSync(schemaFile)
            ? (JSON.parse(readFileSync(schemaFile, "utf8")) as Record<string, string[]>)
            : {};
          const tables: Record<string, string[]> = {};
          const statements: string[] = [];
          for (const table of schema.dataTables()) {
            const known = new Set(stored[table.name] ?? []);
            const added = Object.keys(table.columns).filter((c) => !known.has(c));
            if (added.length === 0) continue;
            tables[table.name] = added;
            statements.push(`${known.size === 0 ? "CREATE" : "ALTER"} ${table.name} (${added.join(", ")})`);
            stored[table.name] = [...known, ...added];
          }
          writeFileSync(schemaFile, JSON.stringify(stored));
          return { tables, statements };
        },
        async createLoadJob(table: TableSchema, file: LoadJobFile, _loadId: string): Promise<LoadJob> {
          calls.createLoadJob.push(file.fileName);
          calls.retryCounts.push(file.parsed.retryCount);
          calls.tables[file.fileName] = table;
          return { jobId: jobIdOf(file.fileName), run: (signal) => runJob(file, dir, signal) };
        },
        async completeLoad(loadId: string): Promise<void> {
          calls.completeLoad.push(loadId);
          appendFileSync(
            join(dir, "_dlt_loads.jsonl"),
            `${JSON.stringify({ load_id: loadId, status: 0 })}\n`,
          );
        },
        async [Symbol.asyncDispose](): Promise<void> {
          calls.dispose++;
        },
      };
      return client;
    },
  };
}
