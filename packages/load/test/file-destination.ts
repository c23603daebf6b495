/**
 * A small but real destination for testing `@tsdlt/load`: each job copies the rows of its jsonl file
 * into `<dir>/<dataset>/<table>.jsonl`, the stored schema lives in `<dir>/<dataset>/_schema.json`, and
 * completed loads are appended to `<dir>/<dataset>/_dlt_loads.jsonl`. Every call is recorded, and
 * failures can be injected per job file (STYLE rule 23's dummy destination with injectable failures).
 *
 * With `staging: true` it also has a staging dataset (`<dataset>_staging` folder) and table-chain
 * follow-up jobs: a follow-up `.sql` file holds a JSON command; `replace` overwrites each dataset table
 * with its staging copy, `merge` appends the staging rows (no key handling: enough to observe the
 * flow). `initializeStorage({ truncateTables })` empties dataset tables.
 *
 * Not supported: state sync, SQL access, real merge semantics.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Destination,
  type DestinationCapabilities,
  type DestinationClient,
  type DestinationContext,
  DestinationError,
  defineCapabilities,
  type FollowupJob,
  jobIdOf,
  type LoadJob,
  type LoadJobFile,
  type Schema,
  type SchemaUpdateResult,
  type TableChain,
  type TableSchema,
  type WithStagingDataset,
  type WithTableChainFollowupJobs,
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
  /**
   * Adds a staging dataset and follow-up jobs, and declares the merge strategies and staged replace
   * strategies in the capabilities (unless `capabilities` overrides them).
   */
  readonly staging?: boolean;
  /** A failure injected into every follow-up (`.sql`) job. */
  readonly followupFailure?: InjectedFailure;
  /** Makes `createTableChainFollowupJobs` throw this error. */
  readonly failFollowupCreation?: Error;
}

/** The command a follow-up job file of the file destination holds. */
export interface FileFollowupCommand {
  readonly kind: "merge" | "replace";
  readonly strategy: string;
  readonly tables: readonly string[];
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
  /** Options of `updateStoredSchema` calls. */
  updateStoredSchemaOptions: ({ onlyTables?: readonly string[] } | undefined)[];
  /** Tables emptied through `initializeStorage({ truncateTables })`. */
  truncated: string[];
  /** Calls of `initializeStagingDataset`. */
  stagingInit: { tables: readonly string[]; truncateTables: readonly string[] }[];
  /** Job file names handed to `createStagingLoadJob`. */
  createStagingLoadJob: string[];
  /** Chains handed to `createTableChainFollowupJobs`. */
  followupChains: TableChain[];
  /** Every call in order, as `<method>:<detail>`, to check what happens before what. */
  log: string[];
}

export interface FileDestination extends Destination {
  readonly calls: FileDestinationCalls;
  /** The rows stored in `table` of `dataset`. */
  rows(dataset: string, table: string): unknown[];
  /** The load ids recorded as complete in `dataset`. */
  completedLoads(dataset: string): string[];
  /** Writes rows into `table` of `dataset` (`<dataset>_staging` for staging), as a previous load would have. */
  seed(dataset: string, table: string, rows: readonly unknown[]): void;
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
    updateStoredSchemaOptions: [],
    truncated: [],
    stagingInit: [],
    createStagingLoadJob: [],
    followupChains: [],
    log: [],
  };
  const attempts = new Map<string, number>();
  const failures = new Map(Object.entries(options.failures ?? {}).map(([file, f]) => [jobIdOf(file), f]));
  const capabilities = defineCapabilities({
    preferredLoaderFileFormat: "jsonl",
    supportedLoaderFileFormats: ["jsonl"],
    ...(options.staging
      ? {
          supportedMergeStrategies: ["delete-insert", "upsert", "scd2", "insert-only"],
          supportedReplaceStrategies: ["truncate-and-insert", "insert-from-staging"],
        }
      : {}),
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

  const tableFile = (dir: string, table: string): string => join(dir, `${table}.jsonl`);

  function runFollowup(file: LoadJobFile, dir: string, stagingDir: string): void {
    const command = JSON.parse(readFileSync(file.path, "utf8")) as FileFollowupCommand;
    for (const table of command.tables) {
      const staged = existsSync(tableFile(stagingDir, table))
        ? readFileSync(tableFile(stagingDir, table), "utf8")
        : "";
      if (command.kind === "replace") writeFileSync(tableFile(dir, table), staged);
      else appendFileSync(tableFile(dir, table), staged);
    }
  }

  async function runJob(
    file: LoadJobFile,
    dir: string,
    stagingDir: string,
    signal: AbortSignal | undefined,
    target: string = dir,
  ): Promise<void> {
    calls.runs.push(file.fileName);
    calls.log.push(`run:${file.fileName}`);
    running++;
    calls.maxConcurrentRuns = Math.max(calls.maxConcurrentRuns, running);
    try {
      await options.beforeRun?.(file, signal);
      // let other workers start, so concurrency is observable
      await new Promise((resolve) => setImmediate(resolve));
      const jobId = jobIdOf(file.fileName);
      const failure =
        file.parsed.fileFormat === "sql"
          ? (options.followupFailure ?? failures.get(jobId))
          : failures.get(jobId);
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
      if (file.parsed.fileFormat === "sql") {
        runFollowup(file, dir, stagingDir);
      } else {
        const text = readFileSync(file.path, "utf8");
        mkdirSync(target, { recursive: true });
        appendFileSync(
          tableFile(target, file.parsed.tableName),
          text.endsWith("\n") || text === "" ? text : `${text}\n`,
        );
      }
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
    seed: (dataset, table, rows) => {
      mkdirSync(datasetDir(dataset), { recursive: true });
      writeFileSync(
        tableFile(datasetDir(dataset), table),
        rows.map((r) => `${JSON.stringify(r)}\n`).join(""),
      );
    },

    async createClient(schema: Schema, context: DestinationContext): Promise<DestinationClient> {
      calls.createClient++;
      const dir = datasetDir(context.datasetName);
      const stagingName = `${context.datasetName}_staging`;
      const stagingDir = datasetDir(stagingName);
      const schemaFile = join(dir, "_schema.json");
      const client: DestinationClient = {
        capabilities,
        async initializeStorage(init: { truncateTables?: readonly string[] } = {}): Promise<void> {
          if (init.truncateTables !== undefined) {
            calls.log.push(`truncate:${init.truncateTables.join(",")}`);
            for (const table of init.truncateTables) {
              calls.truncated.push(table);
              rmSync(tableFile(dir, table), { force: true });
            }
            return;
          }
          calls.initializeStorage++;
          mkdirSync(dir, { recursive: true });
        },
        async isStorageInitialized(): Promise<boolean> {
          return existsSync(dir);
        },
        async updateStoredSchema(update?: { onlyTables?: readonly string[] }): Promise<SchemaUpdateResult> {
          calls.updateStoredSchema++;
          calls.updateStoredSchemaOptions.push(update);
          calls.log.push("updateStoredSchema");
          if (options.failSchemaUpdate) throw options.failSchemaUpdate;
          const stored: Record<string, string[]> = existsSync(schemaFile)
            ? (JSON.parse(readFileSync(schemaFile, "utf8")) as Record<string, string[]>)
            : {};
          const tables: Record<string, string[]> = {};
          const statements: string[] = [];
          const only = update?.onlyTables === undefined ? undefined : new Set(update.onlyTables);
          for (const table of schema.dataTables()) {
            if (only !== undefined && !only.has(table.name)) continue;
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
          return { jobId: jobIdOf(file.fileName), run: (signal) => runJob(file, dir, stagingDir, signal) };
        },
        async completeLoad(loadId: string): Promise<void> {
          calls.completeLoad.push(loadId);
          calls.log.push(`completeLoad:${loadId}`);
          appendFileSync(
            join(dir, "_dlt_loads.jsonl"),
            `${JSON.stringify({ load_id: loadId, status: 0 })}\n`,
          );
        },
        async [Symbol.asyncDispose](): Promise<void> {
          calls.dispose++;
        },
      };
      if (!options.staging) return client;
      const staging: WithStagingDataset & WithTableChainFollowupJobs = {
        stagingDatasetName: stagingName,
        async initializeStagingDataset(init): Promise<SchemaUpdateResult> {
          calls.stagingInit.push({ tables: [...init.tables], truncateTables: [...init.truncateTables] });
          calls.log.push(`initializeStagingDataset:${init.truncateTables.join(",")}`);
          mkdirSync(stagingDir, { recursive: true });
          for (const table of init.truncateTables) rmSync(tableFile(stagingDir, table), { force: true });
          return { tables: {}, statements: [] };
        },
        async createStagingLoadJob(table: TableSchema, file: LoadJobFile, _loadId: string): Promise<LoadJob> {
          calls.createStagingLoadJob.push(file.fileName);
          calls.tables[file.fileName] = table;
          return {
            jobId: jobIdOf(file.fileName),
            run: (signal) => runJob(file, dir, stagingDir, signal, stagingDir),
          };
        },
        async createTableChainFollowupJobs(chain: TableChain, _loadId: string): Promise<FollowupJob[]> {
          calls.followupChains.push(chain);
          calls.log.push(`createTableChainFollowupJobs:${chain.tables[0]?.name}`);
          if (options.failFollowupCreation) throw options.failFollowupCreation;
          const command: FileFollowupCommand = {
            kind: chain.disposition.kind,
            strategy: chain.disposition.strategy,
            tables: chain.tables.map((t) => t.name),
          };
          return [
            { tableName: chain.tables[0]?.name ?? "", fileFormat: "sql", content: JSON.stringify(command) },
          ];
        },
      };
      return Object.assign(client, staging);
    },
  };
}
