/**
 * `tsdlt-destination-jsonfiles`: an example of a third-party destination, written only against the
 * public contract of `@tsdlt/core` (a peer dependency). It stores every table as a folder of
 * JSON-lines files.
 *
 * Maps to: dataset → folder `<path>/<dataset>/`; table → folder `<dataset>/<table>/` with its
 * columns in `_table.json` (written by schema migration: new tables, new columns, never dropped);
 * load job → one file `<table>/<load_id>.<file_id>.jsonl` holding the job's lines after every value
 * was checked against its column (a job that is retried rewrites its own file, so it never
 * duplicates rows); `_dlt_version`, `_dlt_loads` and `_dlt_pipeline_state` are tables like any
 * other, which gives state sync (`WithStateSync`) for free.
 *
 * Does not support: formats other than `jsonl`, a staging dataset or follow-up jobs (so no merge
 * strategies: the load stage appends merge tables and empties replace tables before loading),
 * load transactions, SQL.
 *
 * Locking and transactions: none. Jobs write distinct files, so they run in parallel safely; a file
 * appears atomically (written aside, then renamed). Two pipelines writing one dataset at once is not
 * supported.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  type ColumnSchema,
  compareLoadIds,
  type DataType,
  type Destination,
  type DestinationCapabilities,
  type DestinationClient,
  type DestinationContext,
  DestinationError,
  defineCapabilities,
  isCompleteColumn,
  jobIdOf,
  LOADS_TABLE_NAME,
  type LoadJob,
  type LoadJobFile,
  loadsTable,
  PIPELINE_STATE_TABLE_NAME,
  Schema,
  type SchemaUpdateResult,
  type StoredStateRow,
  storedStateRowOf,
  type TableSchema,
  TsdltError,
  VERSION_TABLE_NAME,
  versionTable,
  type WithStateSync,
} from "@tsdlt/core";

/** The name of the destination: `destination: "jsonfiles"` finds this package by it. */
export const DESTINATION_NAME = "jsonfiles";

/** Options of {@link jsonfiles}. */
export interface JsonFilesOptions {
  /**
   * Folder holding one folder per dataset; relative paths resolve against the pipeline's local
   * folder (the current directory). `credentials` is accepted as an alias, so
   * `pipeline({ destination: "jsonfiles", credentials: "out" })` works.
   * @default "jsonfiles"
   */
  readonly path?: string;
  readonly credentials?: string;
  /** Name shown to users. @default "jsonfiles" */
  readonly destinationName?: string;
}

/** What this destination can do: `jsonl` only, no merge strategies, `truncate-and-insert` replace. */
export const JSONFILES_CAPABILITIES: DestinationCapabilities = defineCapabilities({
  preferredLoaderFileFormat: "jsonl",
  supportedLoaderFileFormats: ["jsonl"],
  supportedMergeStrategies: [],
  supportedReplaceStrategies: ["truncate-and-insert"],
  supportsTransactions: false,
  supportsDdlTransactions: false,
});

const TABLE_FILE = "_table.json";
type Row = Record<string, unknown>;

const TEXT_PATTERNS: Partial<Record<DataType, RegExp>> = {
  timestamp: /^[+-]?\d{4,6}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?$/,
  date: /^[+-]?\d{4,6}-\d{2}-\d{2}$/,
  time: /^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/,
  decimal: /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/,
  wei: /^[+-]?\d+(\.0*)?$/,
  binary: /^[A-Za-z0-9+/]*={0,2}$/,
};

/** Why `value` (as normalize writes it into a `jsonl` file) does not fit `column`, or undefined. */
function problemOf(column: ColumnSchema & { data_type: DataType }, value: unknown): string | undefined {
  if (value === null || value === undefined) {
    return column.nullable === false ? "is not nullable but has no value" : undefined;
  }
  const type = column.data_type;
  const ok =
    type === "json" ||
    (type === "text" && typeof value === "string") ||
    (type === "bool" && typeof value === "boolean") ||
    (type === "double" && typeof value === "number") ||
    (type === "bigint" && typeof value === "number" && Number.isInteger(value)) ||
    ((type === "decimal" || type === "wei") && typeof value === "number") ||
    (typeof value === "string" && TEXT_PATTERNS[type]?.test(value.trim()) === true);
  return ok ? undefined : `${JSON.stringify(value)} is not a valid ${type}`;
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/** Writes `text` to `path` atomically: aside first, then renamed over. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

/** A client of {@link jsonfiles} for one schema and dataset. */
export class JsonFilesClient implements DestinationClient, WithStateSync {
  readonly capabilities: DestinationCapabilities = JSONFILES_CAPABILITIES;
  readonly schema: Schema;
  /** The dataset's folder. */
  readonly datasetDir: string;
  readonly #name: string;
  #disposed = false;

  constructor(schema: Schema, datasetDir: string, name: string) {
    this.schema = schema;
    this.datasetDir = datasetDir;
    this.#name = name;
  }

  /** The folder of `table`. */
  tableDir(table: string): string {
    return join(this.datasetDir, table);
  }

  #assertOpen(): void {
    if (this.#disposed) {
      throw new DestinationError(`[tsdlt] [${this.#name}] The client was used after it was disposed.`, {
        code: "CLIENT_DISPOSED",
        destination: this.#name,
      });
    }
  }

  async #columns(table: string): Promise<string[] | undefined> {
    const file = join(this.tableDir(table), TABLE_FILE);
    return existsSync(file) ? (JSON.parse(await readFile(file, "utf8")) as string[]) : undefined;
  }

  /** Adds the complete columns of `table` that its folder does not have yet; returns them. */
  async #migrate(table: TableSchema): Promise<string[]> {
    const complete = Object.values(table.columns)
      .filter(isCompleteColumn)
      .map((c) => c.name);
    const existing = (await this.#columns(table.name)) ?? [];
    const added = complete.filter((name) => !existing.includes(name));
    if (added.length > 0 || !existsSync(join(this.tableDir(table.name), TABLE_FILE))) {
      await mkdir(this.tableDir(table.name), { recursive: true });
      await writeAtomic(join(this.tableDir(table.name), TABLE_FILE), JSON.stringify([...existing, ...added]));
    }
    return added;
  }

  /** Every row of `table` (empty when it does not exist). Integers beyond 2^53 are rounded: use it for dlt tables. */
  async #rows(table: string): Promise<Row[]> {
    const dir = this.tableDir(table);
    if (!existsSync(dir)) return [];
    const files = (await readdir(dir)).filter((f) => f.endsWith(".jsonl")).sort();
    const rows: Row[] = [];
    for (const file of files) {
      for (const line of lines(await readFile(join(dir, file), "utf8"))) rows.push(JSON.parse(line) as Row);
    }
    return rows;
  }

  async initializeStorage(options: { truncateTables?: readonly string[] } = {}): Promise<void> {
    this.#assertOpen();
    await mkdir(this.datasetDir, { recursive: true });
    for (const table of [versionTable(), loadsTable()]) await this.#migrate(table);
    for (const table of options.truncateTables ?? []) {
      const dir = this.tableDir(table);
      if (!existsSync(dir)) continue;
      for (const file of await readdir(dir)) {
        if (file.endsWith(".jsonl")) await rm(join(dir, file), { force: true });
      }
    }
  }

  async isStorageInitialized(): Promise<boolean> {
    this.#assertOpen();
    return existsSync(this.datasetDir);
  }

  async updateStoredSchema(options: { onlyTables?: readonly string[] } = {}): Promise<SchemaUpdateResult> {
    this.#assertOpen();
    await this.initializeStorage();
    const versions = await this.#rows(VERSION_TABLE_NAME);
    if (versions.some((row) => row.version_hash === this.schema.versionHash))
      return { tables: {}, statements: [] };
    const only = options.onlyTables && new Set([VERSION_TABLE_NAME, LOADS_TABLE_NAME, ...options.onlyTables]);
    const tables: Record<string, string[]> = {};
    for (const table of Object.values(this.schema.tables)) {
      if (only !== undefined && !only.has(table.name)) continue;
      if (!Object.values(table.columns).some(isCompleteColumn)) continue;
      const added = await this.#migrate(table);
      if (added.length > 0) tables[table.name] = added;
    }
    const row = {
      version: this.schema.version,
      engine_version: this.schema.engineVersion,
      inserted_at: new Date().toISOString(),
      schema_name: this.schema.name,
      version_hash: this.schema.versionHash,
      schema: JSON.stringify(this.schema.toDict()),
    };
    const name = `${row.inserted_at.replace(/[^0-9]/g, "")}.${this.schema.version}.jsonl`;
    await writeAtomic(join(this.tableDir(VERSION_TABLE_NAME), name), `${JSON.stringify(row)}\n`);
    return { tables, statements: Object.entries(tables).map(([t, c]) => `${t}: +${c.join(", +")}`) };
  }

  async createLoadJob(table: TableSchema, file: LoadJobFile, loadId: string): Promise<LoadJob> {
    this.#assertOpen();
    const jobId = jobIdOf(file.fileName);
    const terminal = (reason: string, cause?: unknown): DestinationError =>
      new DestinationError(
        `[tsdlt] [${this.#name}] Job \`${file.fileName}\` in load \`${loadId}\` failed terminally: ${reason}.`,
        {
          code: "DESTINATION_TERMINAL",
          retryable: false,
          destination: this.#name,
          loadId,
          jobId,
          table: table.name,
          cause,
        },
      );
    if (file.parsed.fileFormat !== "jsonl") {
      throw terminal(`this destination stores \`jsonl\` files, not \`${file.parsed.fileFormat}\``);
    }
    const columns = Object.values(table.columns).filter(isCompleteColumn);
    const target = join(this.tableDir(table.name), `${loadId}.${file.parsed.fileId}.jsonl`);
    return {
      jobId,
      run: async (): Promise<void> => {
        this.#assertOpen();
        if ((await this.#columns(table.name)) === undefined) {
          throw terminal(`table \`${table.name}\` does not exist: the schema was not migrated`);
        }
        const text = await readFile(file.path, "utf8").catch((cause: unknown) => {
          // a file system hiccup may pass; let the load stage retry
          throw new DestinationError(
            `[tsdlt] [${this.#name}] Job \`${file.fileName}\` could not read its file: ${String(cause)}.`,
            { code: "DESTINATION_TRANSIENT", retryable: true, destination: this.#name, loadId, jobId, cause },
          );
        });
        const kept = lines(text);
        for (const [index, line] of kept.entries()) {
          let row: Row;
          try {
            row = JSON.parse(line) as Row;
          } catch (cause) {
            throw terminal(`line ${index + 1} is not JSON`, cause);
          }
          for (const column of columns) {
            const problem = problemOf(column, row[column.name]);
            if (problem) throw terminal(`line ${index + 1}, column \`${column.name}\`: ${problem}`);
          }
        }
        // the lines are stored as written (exact digits of big integers included)
        await writeAtomic(target, kept.map((line) => `${line}\n`).join(""));
      },
    };
  }

  async completeLoad(loadId: string): Promise<void> {
    this.#assertOpen();
    const row = {
      load_id: loadId,
      schema_name: this.schema.name,
      status: 0,
      inserted_at: new Date().toISOString(),
      schema_version_hash: this.schema.versionHash,
    };
    await mkdir(this.tableDir(LOADS_TABLE_NAME), { recursive: true });
    await writeAtomic(join(this.tableDir(LOADS_TABLE_NAME), `${loadId}.jsonl`), `${JSON.stringify(row)}\n`);
  }

  async getStoredSchema(schemaName: string = this.schema.name): Promise<Schema | undefined> {
    this.#assertOpen();
    const newest = (await this.#rows(VERSION_TABLE_NAME))
      .filter((row) => row.schema_name === schemaName)
      .sort(
        (a, b) =>
          String(a.inserted_at).localeCompare(String(b.inserted_at)) || Number(a.version) - Number(b.version),
      )
      .at(-1);
    return newest === undefined ? undefined : Schema.fromDict(JSON.parse(String(newest.schema)));
  }

  async getStoredState(pipelineName: string): Promise<StoredStateRow | undefined> {
    this.#assertOpen();
    const completed = new Set(
      (await this.#rows(LOADS_TABLE_NAME)).filter((r) => Number(r.status) === 0).map((r) => r.load_id),
    );
    const row = (await this.#rows(PIPELINE_STATE_TABLE_NAME))
      .filter((r) => r.pipeline_name === pipelineName && completed.has(r._dlt_load_id))
      .sort((a, b) => compareLoadIds(String(a._dlt_load_id), String(b._dlt_load_id)))
      .at(-1);
    if (row === undefined) return undefined;
    return storedStateRowOf(row);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#disposed = true;
  }
}

/** A {@link jsonfiles} destination. */
export interface JsonFilesDestination extends Destination {
  createClient(schema: Schema, context: DestinationContext): Promise<JsonFilesClient>;
}

/**
 * The JSON-files destination.
 *
 * @example
 * ```ts
 * import * as dlt from "tsdlt";
 * import { jsonfiles } from "tsdlt-destination-jsonfiles";
 * const pipeline = dlt.pipeline({ pipelineName: "files", destination: jsonfiles({ path: "out" }) });
 * await pipeline.run([{ id: 1 }], { tableName: "items" }); // out/files_dataset/items/<load_id>.<file_id>.jsonl
 * ```
 */
export function jsonfiles(options: JsonFilesOptions = {}): JsonFilesDestination {
  const path = options.path ?? options.credentials ?? "jsonfiles";
  if (typeof path !== "string" || path === "") {
    throw new TsdltError(`[tsdlt] [${DESTINATION_NAME}] Option \`path\` must be a non-empty folder path.`, {
      code: "INVALID_ARGUMENT",
      destination: DESTINATION_NAME,
    });
  }
  const name = options.destinationName ?? DESTINATION_NAME;
  const datasetDir = (context: DestinationContext): string =>
    resolve(context.localDir, path, context.datasetName);
  return Object.freeze({
    name,
    destinationType: `tsdlt_destination_${DESTINATION_NAME}`,
    capabilities: JSONFILES_CAPABILITIES,
    displayLocation: (context: DestinationContext): string => `file://${datasetDir(context)}`,
    createClient: async (schema: Schema, context: DestinationContext): Promise<JsonFilesClient> =>
      new JsonFilesClient(schema, datasetDir(context), name),
  });
}
