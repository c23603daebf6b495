/**
 * The dummy destination (dlt's `dummy`): a destination for testing the load stage and pipelines
 * without a database. It keeps datasets in memory on the destination object (so they outlive
 * clients, as a database does), checks every value of a job against its column, and fails on
 * purpose: jobs at random (`failProbability`, `retryProbability`), jobs matched by deterministic
 * rules (`jobFailures`), or whole steps (`stepFailures`).
 *
 * Maps to: dataset → an in-memory map of tables; `jsonl` job → rows appended to its table; schema
 * evolution → new tables and new columns, with one `_dlt_version` row per stored version;
 * `completeLoad` → a `_dlt_loads` row. Implements `WithStateSync` and `WithDropTables`.
 *
 * Does not support: formats other than `jsonl`, a staging dataset, follow-up jobs (so no merge
 * strategies: the load stage appends merge tables and truncates replace tables), load transactions,
 * SQL. Nothing is persisted: a new destination object starts empty.
 */
import { readFile } from "node:fs/promises";
import {
  type Destination,
  type DestinationCapabilities,
  type DestinationClient,
  type DestinationContext,
  defineCapabilities,
  type LoadJob,
  type LoadJobFile,
  type SchemaUpdateResult,
  type StoredStateRow,
  storedStateRowOf,
  type WithDropTables,
  type WithStateSync,
} from "../destination.js";
import { DestinationError, isTsdltError } from "../errors.js";
import { compareLoadIds, jobIdOf } from "../load-package.js";
import { isCompleteColumn, Schema } from "../schema/schema.js";
import { LOADS_TABLE_NAME, PIPELINE_STATE_TABLE_NAME, VERSION_TABLE_NAME } from "../schema/system-tables.js";
import type { TableSchema } from "../schema/types.js";
import { parseJsonLine, type Row } from "./jsonl.js";
import { rowProblem } from "./values.js";

/** The name of the dummy destination. */
export const DUMMY_DESTINATION_NAME = "dummy";

/** A failure to inject. */
export interface DummyFailure {
  /** `true`: a transient `DestinationError` (the load stage retries); `false`: a terminal one. */
  readonly retryable: boolean;
  /** The error message. @default a message naming the step or job */
  readonly message?: string;
  /** Fail only the first `times` attempts, then succeed. @default every attempt */
  readonly times?: number;
}

/** A failure injected into the jobs it matches (by table and/or file id; a rule with neither matches every job). */
export interface DummyJobFailure extends DummyFailure {
  /** Jobs loading into this table. */
  readonly table?: string;
  /** The job with this file id (any retry count). */
  readonly fileId?: string;
  /** Fail in `createLoadJob` or in `LoadJob.run`. @default "run" */
  readonly at?: "create" | "run";
}

/** Client steps a failure can be injected into. */
export type DummyStep =
  | "createClient"
  | "initializeStorage"
  | "updateStoredSchema"
  | "dropTables"
  | "completeLoad";

/** Options of {@link dummyDestination}. */
export interface DummyDestinationOptions {
  /** Name shown to users. @default "dummy" */
  readonly destinationName?: string;
  /** Probability (0–1) that a job run fails terminally. @default 0 */
  readonly failProbability?: number;
  /** Probability (0–1) that a job run fails transiently (checked after `failProbability`). @default 0 */
  readonly retryProbability?: number;
  /** The random source of the probabilities, for deterministic tests. @default Math.random */
  readonly random?: () => number;
  /** Deterministic failures of matching jobs; the first matching rule that still fails applies. */
  readonly jobFailures?: readonly DummyJobFailure[];
  /** Failures of client steps. */
  readonly stepFailures?: Readonly<Partial<Record<DummyStep, DummyFailure>>>;
  /** Fields merged over the dummy's capabilities (`jsonl` only, no merge strategies). */
  readonly capabilities?: Partial<DestinationCapabilities>;
  /** Each job run waits this long first, so concurrency and aborts are observable. @default 0 */
  readonly jobDelayMs?: number;
}

/** One attempt of a job, as the dummy saw it. */
export interface DummyJobAttempt {
  readonly fileName: string;
  readonly jobId: string;
  readonly table: string;
  readonly loadId: string;
  readonly retryCount: number;
  /** `completed`, `retry` (failed transiently) or `failed` (terminally). */
  readonly outcome: "completed" | "retry" | "failed";
  readonly message?: string;
}

/** The dummy {@link Destination}: in-memory datasets and a record of every job attempt. */
export interface DummyDestination extends Destination {
  readonly options: Readonly<DummyDestinationOptions>;
  /** Every job attempt in order. */
  readonly attempts: readonly DummyJobAttempt[];
  /** Copies of the rows of `table` in `dataset` (empty when it does not exist). */
  rows(dataset: string, table: string): Row[];
  /** Load ids recorded in `_dlt_loads` of `dataset`, in order. */
  completedLoads(dataset: string): string[];
  createClient(schema: Schema, context: DestinationContext): Promise<DummyClient>;
}

/** @internal A table of a dummy dataset. */
export interface StoredTable {
  columns: string[];
  rows: Row[];
}

/** @internal A dummy dataset: tables by name. */
export type Dataset = Map<string, StoredTable>;

/** @internal The state one dummy destination object shares with its clients. */
export interface DummyStore {
  readonly name: string;
  readonly options: Readonly<DummyDestinationOptions>;
  readonly capabilities: DestinationCapabilities;
  readonly datasets: Map<string, Dataset>;
  readonly attempts: DummyJobAttempt[];
  /** Attempts per failure key (`step:<name>` or `<rule index>:<job id>`). */
  readonly failureCounts: Map<string, number>;
}

function injected(store: DummyStore, key: string, failure: DummyFailure | undefined): boolean {
  if (failure === undefined) return false;
  const count = (store.failureCounts.get(key) ?? 0) + 1;
  store.failureCounts.set(key, count);
  return failure.times === undefined || count <= failure.times;
}

function dummyError(
  store: DummyStore,
  message: string,
  retryable: boolean,
  context: { loadId?: string; jobId?: string; table?: string; path?: string } = {},
): DestinationError {
  return new DestinationError(message, {
    code: retryable ? "DESTINATION_TRANSIENT" : "DESTINATION_TERMINAL",
    retryable,
    destination: store.name,
    ...context,
  });
}

/** A client of the dummy destination for one schema and dataset. Dispose it when done. */
export class DummyClient implements DestinationClient, WithStateSync, WithDropTables {
  readonly capabilities: DestinationCapabilities;
  readonly schema: Schema;
  readonly datasetName: string;
  readonly #store: DummyStore;
  #disposed = false;

  /** @internal Use `dummyDestination().createClient()`. */
  constructor(store: DummyStore, schema: Schema, context: DestinationContext) {
    this.#store = store;
    this.capabilities = store.capabilities;
    this.schema = schema;
    this.datasetName = context.datasetName;
  }

  #assertOpen(): void {
    if (this.#disposed) {
      throw new DestinationError(
        `[tsdlt] [${this.#store.name}] The client of dataset \`${this.datasetName}\` was used after it was disposed.`,
        { code: "CLIENT_DISPOSED", destination: this.#store.name },
      );
    }
  }

  #step(step: DummyStep): void {
    this.#assertOpen();
    const failure = this.#store.options.stepFailures?.[step];
    if (injected(this.#store, `step:${step}`, failure)) {
      const retryable = failure?.retryable === true;
      throw dummyError(
        this.#store,
        failure?.message ??
          `[tsdlt] [${this.#store.name}] \`${step}\` failed ${retryable ? "transiently" : "terminally"} (injected).`,
        retryable,
      );
    }
  }

  #dataset(create = false): Dataset | undefined {
    let dataset = this.#store.datasets.get(this.datasetName);
    if (dataset === undefined && create) {
      dataset = new Map();
      this.#store.datasets.set(this.datasetName, dataset);
    }
    return dataset;
  }

  #createSystemTables(dataset: Dataset): void {
    for (const name of [VERSION_TABLE_NAME, LOADS_TABLE_NAME]) {
      if (dataset.has(name)) continue;
      const table = this.schema.getTable(name) as TableSchema;
      dataset.set(name, { columns: Object.keys(table.columns), rows: [] });
    }
  }

  /** Creates the dataset with `_dlt_version` and `_dlt_loads`; empties `truncateTables` that exist. */
  async initializeStorage(options: { truncateTables?: readonly string[] } = {}): Promise<void> {
    this.#step("initializeStorage");
    const dataset = this.#dataset(true) as Dataset;
    this.#createSystemTables(dataset);
    for (const name of options.truncateTables ?? []) {
      const table = dataset.get(name);
      if (table) table.rows = [];
    }
  }

  async isStorageInitialized(): Promise<boolean> {
    this.#assertOpen();
    return this.#store.datasets.has(this.datasetName);
  }

  /** Drops `tables` that exist and, with `deleteSchema` (default), the stored versions of the schema. */
  async dropTables(
    tables: readonly string[],
    options: { readonly deleteSchema?: boolean } = {},
  ): Promise<void> {
    this.#step("dropTables");
    const dataset = this.#dataset();
    if (dataset === undefined) return;
    for (const name of tables) dataset.delete(name);
    const versions = dataset.get(VERSION_TABLE_NAME);
    if (versions && options.deleteSchema !== false) {
      versions.rows = versions.rows.filter((row) => row.schema_name !== this.schema.name);
    }
  }

  /** Creates new tables and adds new columns unless the schema's version is stored, then records it. */
  async updateStoredSchema(options: { onlyTables?: readonly string[] } = {}): Promise<SchemaUpdateResult> {
    this.#step("updateStoredSchema");
    const dataset = this.#dataset(true) as Dataset;
    this.#createSystemTables(dataset);
    const versions = dataset.get(VERSION_TABLE_NAME) as StoredTable;
    if (versions.rows.some((row) => row.version_hash === this.schema.versionHash)) {
      return { tables: {}, statements: [] };
    }
    const only = options.onlyTables && new Set([VERSION_TABLE_NAME, LOADS_TABLE_NAME, ...options.onlyTables]);
    const tables: Record<string, string[]> = {};
    const statements: string[] = [];
    for (const table of Object.values(this.schema.tables)) {
      if (only !== undefined && !only.has(table.name)) continue;
      const complete = Object.values(table.columns)
        .filter(isCompleteColumn)
        .map((c) => c.name);
      if (complete.length === 0) continue;
      const stored = dataset.get(table.name);
      const added = complete.filter((name) => !stored?.columns.includes(name));
      if (added.length === 0) continue;
      tables[table.name] = added;
      if (stored) {
        stored.columns.push(...added);
        statements.push(`ALTER TABLE ${table.name} ADD ${added.join(", ")}`);
      } else {
        dataset.set(table.name, { columns: added, rows: [] });
        statements.push(`CREATE TABLE ${table.name} (${added.join(", ")})`);
      }
    }
    versions.rows.push({
      version: this.schema.version,
      engine_version: this.schema.engineVersion,
      inserted_at: new Date().toISOString(),
      schema_name: this.schema.name,
      version_hash: this.schema.versionHash,
      schema: JSON.stringify(this.schema.toDict()),
    });
    return { tables, statements };
  }

  /** A job that appends the rows of a `jsonl` file to `table`, after checking every value. */
  async createLoadJob(table: TableSchema, file: LoadJobFile, loadId: string): Promise<LoadJob> {
    this.#assertOpen();
    const store = this.#store;
    const jobId = jobIdOf(file.fileName);
    const subject = `[tsdlt] [${store.name}] Job \`${file.fileName}\` in load \`${loadId}\``;
    const context = { loadId, jobId, table: table.name, path: file.path };
    const record = (outcome: DummyJobAttempt["outcome"], message?: string): void => {
      store.attempts.push({
        fileName: file.fileName,
        jobId,
        table: table.name,
        loadId,
        retryCount: file.parsed.retryCount,
        outcome,
        ...(message === undefined ? {} : { message }),
      });
    };
    const fail = (reason: string, retryable: boolean): DestinationError => {
      const error = dummyError(
        store,
        `${subject} failed ${retryable ? "transiently" : "terminally"}: ${reason}.`,
        retryable,
        context,
      );
      record(retryable ? "retry" : "failed", error.message);
      return error;
    };
    const injectedFailure = (at: "create" | "run"): DestinationError | undefined => {
      const rules = store.options.jobFailures ?? [];
      for (const [index, rule] of rules.entries()) {
        if ((rule.at ?? "run") !== at) continue;
        if (rule.table !== undefined && rule.table !== file.parsed.tableName) continue;
        if (rule.fileId !== undefined && rule.fileId !== file.parsed.fileId) continue;
        if (injected(store, `${index}:${jobId}`, rule)) {
          return fail(
            rule.message ?? `injected ${rule.retryable ? "transient" : "terminal"} failure`,
            rule.retryable,
          );
        }
      }
      return undefined;
    };

    const atCreate = injectedFailure("create");
    if (atCreate) throw atCreate;
    if (file.parsed.fileFormat !== "jsonl") {
      throw fail(
        `the dummy destination loads only \`jsonl\` files, not \`${file.parsed.fileFormat}\``,
        false,
      );
    }
    return {
      jobId,
      run: async (signal?: AbortSignal): Promise<void> => {
        this.#assertOpen();
        const delay = store.options.jobDelayMs ?? 0;
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (signal?.aborted) throw fail("the job was cancelled before it started", true);
        const atRun = injectedFailure("run");
        if (atRun) throw atRun;
        const random = store.options.random ?? Math.random;
        if (random() < (store.options.failProbability ?? 0)) throw fail("random terminal failure", false);
        if (random() < (store.options.retryProbability ?? 0)) throw fail("random transient failure", true);
        let rows: Row[];
        try {
          rows = (await readFile(file.path, "utf8"))
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map(parseJsonLine);
        } catch (cause) {
          if (isTsdltError(cause)) throw cause;
          throw fail(`the file cannot be read as JSON lines (${(cause as Error).message})`, false);
        }
        const stored = this.#dataset()?.get(table.name);
        if (stored === undefined)
          throw fail(`table \`${table.name}\` does not exist; migrate the schema first`, false);
        for (const [index, row] of rows.entries()) {
          const problem = rowProblem(table.columns, row);
          if (problem !== undefined) throw fail(`line ${index + 1}: ${problem}`, false);
        }
        for (const row of rows) {
          const kept: Row = {};
          for (const column of stored.columns) if (row[column] !== undefined) kept[column] = row[column];
          stored.rows.push(kept);
        }
        record("completed");
      },
    };
  }

  /** Appends the `_dlt_loads` row (status 0) of `loadId`. */
  async completeLoad(loadId: string): Promise<void> {
    this.#step("completeLoad");
    const dataset = this.#dataset(true) as Dataset;
    this.#createSystemTables(dataset);
    (dataset.get(LOADS_TABLE_NAME) as StoredTable).rows.push({
      load_id: loadId,
      schema_name: this.schema.name,
      status: 0,
      inserted_at: new Date().toISOString(),
      schema_version_hash: this.schema.versionHash,
    });
  }

  /** The newest stored schema called `schemaName` (default: this client's schema). */
  async getStoredSchema(schemaName: string = this.schema.name): Promise<Schema | undefined> {
    this.#assertOpen();
    const rows = this.#dataset()?.get(VERSION_TABLE_NAME)?.rows ?? [];
    const newest = rows.filter((row) => row.schema_name === schemaName).at(-1);
    return newest === undefined ? undefined : Schema.fromDict(JSON.parse(String(newest.schema)));
  }

  /** The newest state row of `pipelineName` whose load completed. */
  async getStoredState(pipelineName: string): Promise<StoredStateRow | undefined> {
    this.#assertOpen();
    const dataset = this.#dataset();
    const completed = new Set(
      (dataset?.get(LOADS_TABLE_NAME)?.rows ?? [])
        .filter((r) => Number(r.status) === 0)
        .map((r) => r.load_id),
    );
    const row = (dataset?.get(PIPELINE_STATE_TABLE_NAME)?.rows ?? [])
      .filter((r) => r.pipeline_name === pipelineName && completed.has(r._dlt_load_id))
      .sort((a, b) => compareLoadIds(String(a._dlt_load_id), String(b._dlt_load_id)))
      .at(-1);
    if (row === undefined) return undefined;
    return storedStateRowOf(row);
  }

  /** Copies of the rows of `table` in this client's dataset. */
  async readRows(table: string): Promise<Row[]> {
    this.#assertOpen();
    const stored = this.#dataset()?.get(table);
    if (stored === undefined) {
      throw new DestinationError(
        `[tsdlt] [${this.#store.name}] Table \`${table}\` does not exist in dataset \`${this.datasetName}\`.`,
        { code: "DESTINATION_TERMINAL", destination: this.#store.name, table },
      );
    }
    return stored.rows.map((row) => ({ ...row }));
  }

  /** Marks the client disposed; later calls reject. Idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#disposed = true;
  }
}

/**
 * The dummy destination: in-memory, with injectable failures, for testing the load stage's retry
 * and abort flow and pipelines without a database.
 *
 * @example
 * ```ts
 * import { dummyDestination } from "@tsdlt/core/testing";
 * // the job of table `users` fails transiently twice, then loads
 * const destination = dummyDestination({ jobFailures: [{ table: "users", retryable: true, times: 2 }] });
 * await loadPackage({ package: pkg, storage, destination, context, retryBaseDelayMs: 1 });
 * destination.attempts.map((a) => a.outcome); // ["retry", "retry", "completed"]
 * ```
 */
export function dummyDestination(options: DummyDestinationOptions = {}): DummyDestination {
  const frozen: Readonly<DummyDestinationOptions> = Object.freeze({ ...options });
  const name = frozen.destinationName ?? DUMMY_DESTINATION_NAME;
  const store: DummyStore = {
    name,
    options: frozen,
    capabilities: defineCapabilities({
      preferredLoaderFileFormat: "jsonl",
      supportedLoaderFileFormats: ["jsonl"],
      ...frozen.capabilities,
    }),
    datasets: new Map(),
    attempts: [],
    failureCounts: new Map(),
  };
  return {
    name,
    destinationType: "dlt.destinations.dummy",
    capabilities: store.capabilities,
    options: frozen,
    attempts: store.attempts,
    displayLocation: (context: DestinationContext): string => `dummy://${context.datasetName}`,
    rows: (dataset: string, table: string): Row[] =>
      (store.datasets.get(dataset)?.get(table)?.rows ?? []).map((row) => ({ ...row })),
    completedLoads: (dataset: string): string[] =>
      (store.datasets.get(dataset)?.get(LOADS_TABLE_NAME)?.rows ?? []).map((row) => String(row.load_id)),
    async createClient(schema: Schema, context: DestinationContext): Promise<DummyClient> {
      const client = new DummyClient(store, schema, context);
      const failure = frozen.stepFailures?.createClient;
      if (injected(store, "step:createClient", failure)) {
        const retryable = failure?.retryable === true;
        throw dummyError(
          store,
          failure?.message ??
            `[tsdlt] [${name}] \`createClient\` failed ${retryable ? "transiently" : "terminally"} (injected).`,
          retryable,
        );
      }
      return client;
    },
  };
}

/**
 * Reads a table of a {@link DummyClient} for {@link testDestination}'s `readTable`.
 */
export async function readDummyTable(client: DestinationClient, table: string): Promise<Row[]> {
  if (!(client instanceof DummyClient))
    throw new TypeError("readDummyTable needs a client of dummyDestination()");
  return client.readRows(table);
}
