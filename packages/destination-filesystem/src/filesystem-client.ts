/**
 * The filesystem destination's client: a dataset is a folder (`<bucket>/<dataset>`), a table is a
 * set of files placed by the layout, and a load job writes one file per normalized job file —
 * copied as it is for `jsonl`, converted for `parquet` and `csv` (see `parquet-file.ts`,
 * `csv-file.ts`). dlt's system tables are files too (`system-files.ts`), so `attach` and state
 * restore work from the files alone; a package counts as complete only once its `_dlt_loads` file
 * exists.
 *
 * Write dispositions:
 * - `append`: new files next to the old ones.
 * - `replace`: the new files are written first; when the package completes, the table chain's files
 *   of earlier loads are deleted, then the `_dlt_loads` file is written. No transaction spans files:
 *   between the deletes and the `_dlt_loads` file a reader sees only the new files of a load not yet
 *   marked complete; a crash there is finished by the resumed load. A layout without `{load_id}` cannot
 *   tell old files from new ones, so its replace tables are emptied before loading (dlt's behaviour).
 * - `merge`: not supported on plain files — the job fails with an error that names the table (dlt
 *   merges only into delta/iceberg tables, which tsdlt does not write).
 * - `skip`: nothing is written.
 *
 * As another destination's staging area (`asStagingDestination`, dlt's filesystem staging): every
 * table is appended, each job says where its file goes (`remoteUrl`, recorded by the load stage in a
 * `.reference` job), and {@link WithStagedFiles} lets the load stage truncate a table's staged files of
 * earlier loads before staging, open staged files for the final destination, and delete them after a
 * successful load when `keepStagedFiles` is off.
 *
 * Dropping tables (`refresh`): their files and the schema's `_dlt_version` files are deleted before
 * the load, without a transaction. `drop_data` empties tables as replace does, when the load completes;
 * a load resumed after it already wrote files of a table does not empty that table's older files.
 *
 * Not supported: staging datasets, follow-up jobs, SQL access, table formats (delta, iceberg).
 * Locking: none. Two pipelines writing the same dataset at once may interleave their files; every
 * single file appears atomically (rename on local folders, one PUT on S3).
 */
import { rm } from "node:fs/promises";
import { dirname, posix } from "node:path";
import type { Readable } from "node:stream";
import { inflateSync } from "node:zlib";
import {
  type CompleteColumnSchema,
  compareLoadIds,
  type DestinationCapabilities,
  type DestinationClient,
  type DestinationContext,
  DestinationError,
  isCompleteColumn,
  isDltName,
  LOADS_TABLE_NAME,
  type LoadJob,
  type LoadJobFile,
  LoadPackage,
  type Logger,
  PIPELINE_STATE_TABLE_NAME,
  Schema,
  SchemaError,
  type SchemaUpdateResult,
  type StoredStateRow,
  silentLogger,
  storedStateRowOf,
  type TableSchema,
  TsdltError,
  VERSION_TABLE_NAME,
  type WithDropTables,
  type WithStagedFiles,
  type WithStateSync,
} from "@tsdlt/core";
import { type CsvOptions, writeCsvFile } from "./csv-file.js";
import type { FileStore } from "./file-store.js";
import { readJsonlRows } from "./jsonl-rows.js";
import type { Layout } from "./layout.js";
import { type ParquetOptions, writeParquetFile } from "./parquet-file.js";
import {
  INIT_FILE_NAME,
  initFileContent,
  loadsFilePath,
  parseSystemFileName,
  type SystemFileName,
  stateFilePath,
  systemTableFolder,
  versionFilePath,
} from "./system-files.js";

/** The file formats the destination writes. */
export const FILESYSTEM_FILE_FORMATS = ["jsonl", "parquet", "csv"] as const;
/** A file format of the filesystem destination. */
export type FilesystemFileFormat = (typeof FILESYSTEM_FILE_FORMATS)[number];

/** The resolved settings a {@link FilesystemClient} works with. */
export interface FilesystemClientConfig {
  /** Name shown in messages (`filesystem` or a named destination's name). */
  readonly destinationName: string;
  readonly capabilities: DestinationCapabilities;
  readonly layout: Layout;
  readonly fileFormat: FilesystemFileFormat;
  /** The time the layout's date placeholders show. @default the package's creation time, else now */
  readonly currentDatetime?: Date | (() => Date) | undefined;
  /** State files kept per pipeline (older ones are deleted); 0 or less keeps all. @default 100 */
  readonly maxStateFiles: number;
  readonly parquet?: ParquetOptions | undefined;
  readonly csv?: CsvOptions | undefined;
  /**
   * Write for another destination to load from (dlt's `as_staging_destination`): every table is
   * appended, the state table is written as a plain data file, and no `_dlt_version` or state files
   * are kept. @default false
   */
  readonly asStagingDestination: boolean;
  /**
   * As a staging destination: keep the staged files after the final destination loaded them (they
   * are deleted before the next load of the same table instead, when the load stage truncates). With
   * `false`, a load's staged files are deleted as soon as the load completed. @default true
   */
  readonly keepStagedFiles?: boolean | undefined;
}

/** A file written by a load job: where it went and what it holds. */
export interface WrittenFile {
  readonly table: string;
  readonly loadId: string;
  /** Job id of the normalized file it was made from (`<table>.<file_id>.<format>`). */
  readonly jobId: string;
  readonly fileFormat: FilesystemFileFormat;
  /** Bucket-relative path (`<dataset>/<layout path>`). */
  readonly path: string;
  /** Full URL (`file:///...` or `s3://...`): what a destination loading from staging reads. */
  readonly url: string;
}

/** A load job of the filesystem destination; knows where its file goes before it runs. */
export interface FilesystemLoadJob extends LoadJob {
  readonly table: string;
  /** Bucket-relative path of the file the job writes. */
  readonly remotePath: string;
  /** Full URL of the file the job writes. */
  readonly remoteUrl: string;
}

/** What {@link FilesystemClient} needs. */
export interface FilesystemClientOptions {
  readonly schema: Schema;
  readonly context: DestinationContext;
  readonly store: FileStore;
  readonly config: FilesystemClientConfig;
}

const STATE_COLUMNS = [
  "version",
  "engine_version",
  "pipeline_name",
  "state",
  "created_at",
  "version_hash",
  "_dlt_load_id",
] as const;

function ioError(
  cause: unknown,
  what: string,
  destination: string,
  extra: { table?: string } = {},
): TsdltError {
  if (cause instanceof TsdltError) return cause;
  const code = (cause as { code?: string }).code;
  const retryable =
    code === "EBUSY" || code === "EAGAIN" || code === "EMFILE" || code === "ENFILE" || code === "ETIMEDOUT";
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DestinationError(`[tsdlt] [${destination}] ${what} failed: ${detail}.`, {
    code: retryable ? "DESTINATION_TRANSIENT" : "DESTINATION_TERMINAL",
    retryable,
    destination,
    cause,
    ...extra,
  });
}

/** Decodes `_dlt_version.schema`: JSON, or base64(zlib(JSON)) as dlt writes long schemas. */
function decodeStoredSchema(stored: string, path: string): Schema {
  try {
    const trimmed = stored.trimStart();
    const json = trimmed.startsWith("{")
      ? trimmed
      : inflateSync(Buffer.from(stored, "base64")).toString("utf8");
    return Schema.fromDict(JSON.parse(json));
  } catch (cause) {
    throw new SchemaError(
      `[tsdlt] [filesystem] The schema stored in \`${path}\` cannot be read: it is neither JSON nor base64-zlib JSON. Delete the file to start over.`,
      { code: "SCHEMA_CORRUPTED", table: VERSION_TABLE_NAME, path, cause },
    );
  }
}

/** Parses the first line of a one-row `jsonl` system file. */
function parseSystemRow(text: string, path: string): Record<string, unknown> {
  try {
    const first = text.split("\n").find((line) => line.trim() !== "") ?? "";
    const row = JSON.parse(first) as unknown;
    if (typeof row !== "object" || row === null || Array.isArray(row)) throw new Error("not a JSON object");
    return row as Record<string, unknown>;
  } catch (cause) {
    throw new TsdltError(
      `[tsdlt] [filesystem] System file \`${path}\` is not a JSON object; delete it or restore it.`,
      {
        code: "STATE_CORRUPTED",
        path,
        cause,
      },
    );
  }
}

/**
 * A client of the filesystem destination for one schema and dataset. Obtain it from
 * `filesystem(...).createClient(schema, context)`; dispose it when done.
 */
export class FilesystemClient implements DestinationClient, WithStateSync, WithStagedFiles, WithDropTables {
  readonly capabilities: DestinationCapabilities;
  readonly schema: Schema;
  /** Bucket-relative folder of the dataset (the dataset name). */
  readonly datasetPath: string;
  readonly config: FilesystemClientConfig;
  readonly store: FileStore;
  readonly #logger: Logger;
  readonly #destination: string;
  /** Tables whose emptying the load stage asked for (replace chains); done when the load completes. */
  readonly #replaceRequested = new Set<string>();
  /** Tables that got a job from this client, and the paths written. */
  readonly #tablesWithJobs = new Set<string>();
  readonly #written: WrittenFile[] = [];
  readonly #packageCreatedAt = new Map<string, Date | undefined>();

  constructor(options: FilesystemClientOptions) {
    this.schema = options.schema;
    this.config = options.config;
    this.capabilities = options.config.capabilities;
    this.store = options.store;
    this.datasetPath = options.context.datasetName;
    this.#logger = options.context.logger ?? silentLogger;
    this.#destination = options.config.destinationName;
    if (this.datasetPath === "" || this.datasetPath.includes("/") || this.datasetPath.startsWith(".")) {
      throw new TsdltError(
        `[tsdlt] [${this.#destination}] Dataset name \`${this.datasetPath}\` cannot be a folder name; give a dataset name without \`/\` that does not start with \`.\`.`,
        { code: "INVALID_ARGUMENT", destination: this.#destination },
      );
    }
  }

  /** Files written by this client's jobs so far, in the order they completed (for staging). */
  get writtenFiles(): readonly WrittenFile[] {
    return this.#written;
  }

  /** The bucket-relative path prefix of a table's files, e.g. `<dataset>/users/`. */
  tablePrefix(tableName: string): string {
    if (isDltName(tableName)) return `${this.datasetPath}/${tableName}/`;
    return `${this.datasetPath}/${this.config.layout.tablePrefix(tableName, this.schema.name)}`;
  }

  /** The full URL of a bucket-relative path. */
  url(path: string): string {
    return this.store.url(path);
  }

  /** Every file of a table (bucket-relative paths). */
  async listTableFiles(tableName: string): Promise<string[]> {
    return this.store.list(this.tablePrefix(tableName));
  }

  // ---------------------------------------------------------------------------------------------
  // DestinationClient

  /**
   * Creates the dataset folder and its `init` file if missing. `truncateTables` (replace tables):
   * with `{load_id}` in the layout their old files are deleted when the load completes; without it
   * they are deleted now.
   */
  async initializeStorage(options: { truncateTables?: readonly string[] } = {}): Promise<void> {
    const truncate = options.truncateTables ?? [];
    try {
      if (truncate.length > 0) {
        if (this.config.layout.hasLoadId) {
          for (const table of truncate) this.#replaceRequested.add(table);
        } else {
          for (const table of truncate) await this.store.deleteFiles(await this.listTableFiles(table));
          this.#logger.info(
            `[${this.#destination}] layout \`${this.config.layout.template}\` has no {load_id}: emptied ${truncate.map((t) => `\`${t}\``).join(", ")} before loading`,
          );
        }
      }
      const init = `${this.datasetPath}/${INIT_FILE_NAME}`;
      if (!(await this.store.exists(init))) {
        await this.store.ensureFolder(this.datasetPath);
        await this.store.writeText(init, initFileContent());
      }
    } catch (cause) {
      throw ioError(cause, `Initializing dataset \`${this.url(this.datasetPath)}\``, this.#destination);
    }
  }

  /**
   * Deletes every file of `tables` and, with `deleteSchema` (default), every stored version of the
   * client's schema in `_dlt_version`. Files are deleted one by one: there is no transaction; a
   * failure part way is finished by the resumed load, which drops again.
   */
  async dropTables(
    tables: readonly string[],
    options: { readonly deleteSchema?: boolean } = {},
  ): Promise<void> {
    try {
      for (const table of tables) await this.store.deleteFiles(await this.listTableFiles(table));
      if (options.deleteSchema === false) return;
      const versions = (await this.#versionFiles()).filter((f) => f.name === this.schema.name);
      await this.store.deleteFiles(versions.map((f) => f.path));
    } catch (cause) {
      throw ioError(
        cause,
        `Dropping ${tables.map((t) => `\`${t}\``).join(", ")} in \`${this.url(this.datasetPath)}\``,
        this.#destination,
      );
    }
  }

  /** True when the dataset folder has its `init` file. */
  async isStorageInitialized(): Promise<boolean> {
    return this.store.exists(`${this.datasetPath}/${INIT_FILE_NAME}`);
  }

  /**
   * Records the schema in `_dlt_version` unless a file with its version hash exists, and creates the
   * tables' folders (local folders only; object stores have none). Returns the tables and columns that
   * are new compared with the newest stored schema of this name. Nothing is stored as staging.
   */
  async updateStoredSchema(options: { onlyTables?: readonly string[] } = {}): Promise<SchemaUpdateResult> {
    try {
      const names = options.onlyTables ?? Object.keys(this.schema.tables);
      const tables = names
        .map((name) => this.schema.getTable(name))
        .filter((t): t is TableSchema => t !== undefined && Object.values(t.columns).some(isCompleteColumn));
      if (this.config.asStagingDestination) {
        await this.#ensureTableFolders(tables);
        return { tables: {}, statements: [] };
      }
      const stored = await this.#versionFiles();
      const hashHex = Buffer.from(this.schema.versionHash, "base64").toString("hex");
      if (stored.some((f) => f.hash === hashHex)) return { tables: {}, statements: [] };
      const previous = await this.getStoredSchema(this.schema.name);
      const changes: Record<string, string[]> = {};
      for (const table of tables) {
        if (isDltName(table.name)) continue;
        const before = previous?.getTable(table.name)?.columns ?? {};
        const added = Object.entries(table.columns)
          .filter(([key, c]) => isCompleteColumn(c) && !isCompleteColumn(before[key] ?? { name: key }))
          .map(([key]) => key);
        if (added.length > 0) changes[table.name] = added;
      }
      await this.#ensureTableFolders(tables);
      const id = String(Date.now() / 1000);
      const path = versionFilePath(this.datasetPath, this.schema.name, id, this.schema.versionHash);
      const row = {
        version_hash: this.schema.versionHash,
        schema_name: this.schema.name,
        version: this.schema.version,
        engine_version: this.schema.engineVersion,
        inserted_at: new Date().toISOString(),
        schema: JSON.stringify(this.schema.toDict()),
      };
      await this.store.writeText(path, `${JSON.stringify(row)}\n`);
      return { tables: changes, statements: [] };
    } catch (cause) {
      throw ioError(
        cause,
        `Storing schema \`${this.schema.name}\` in \`${this.url(this.datasetPath)}\``,
        this.#destination,
      );
    }
  }

  /**
   * The job that writes `job`'s rows to the table's next file. Fails (terminally) for `merge` tables,
   * which plain files cannot merge.
   */
  async createLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<FilesystemLoadJob> {
    const disposition = table.write_disposition ?? this.schema.writeDisposition(table.name);
    const staging = this.config.asStagingDestination;
    if (disposition === "merge" && !staging) {
      throw new DestinationError(
        `[tsdlt] [${this.#destination}] Table \`${table.name}\` has write disposition \`merge\`, which the filesystem destination cannot do on plain ${this.config.fileFormat} files (dlt merges only into delta or iceberg tables, which tsdlt does not write). Load it with write disposition \`append\` or \`replace\`, or use a database destination such as duckdb or postgres.`,
        {
          code: "DESTINATION_TERMINAL",
          retryable: false,
          destination: this.#destination,
          table: table.name,
          loadId,
        },
      );
    }
    this.#tablesWithJobs.add(table.name);
    const jobId = `${job.parsed.tableName}.${job.parsed.fileId}.${job.parsed.fileFormat}`;
    if (table.name === PIPELINE_STATE_TABLE_NAME && !staging) {
      return this.#stateJob(table, job, loadId, jobId);
    }
    const remotePath = await this.makeRemotePath(table, job, loadId);
    const remoteUrl = this.url(remotePath);
    const run = async (signal?: AbortSignal): Promise<void> => {
      if (disposition === "skip") return;
      signal?.throwIfAborted();
      await this.#writeDataFile(table, job, remotePath, loadId);
      this.#written.push({
        table: table.name,
        loadId,
        jobId,
        fileFormat: this.config.fileFormat,
        path: remotePath,
        url: remoteUrl,
      });
    };
    return { jobId, table: table.name, remotePath, remoteUrl, run };
  }

  /**
   * Bucket-relative path of the file a job writes: `<dataset>/<layout>`, with `.gz` appended when a
   * compressed `jsonl` job file is copied as it is.
   */
  async makeRemotePath(table: TableSchema, job: LoadJobFile, loadId: string): Promise<string> {
    const ext = this.config.fileFormat;
    const relative = this.config.layout.format({
      schemaName: this.schema.name,
      tableName: table.name,
      loadId,
      fileId: job.parsed.fileId,
      ext,
      now: this.#now(job, loadId),
      packageCreatedAt: this.#packageCreated(job, loadId),
    });
    const gz = job.parsed.compressed && job.parsed.fileFormat === ext ? ".gz" : "";
    return `${this.datasetPath}/${relative}${gz}`;
  }

  /**
   * Marks load `loadId` complete: deletes the earlier files of replace tables that got new files in
   * this load, then writes `_dlt_loads/<schema>__<load_id>.jsonl`.
   */
  async completeLoad(loadId: string): Promise<void> {
    try {
      if (!this.config.asStagingDestination && this.config.layout.hasLoadId)
        await this.#replaceOldFiles(loadId);
      const row = {
        load_id: loadId,
        schema_name: this.schema.name,
        status: 0,
        inserted_at: new Date().toISOString(),
        schema_version_hash: this.schema.versionHash,
      };
      await this.store.writeText(
        loadsFilePath(this.datasetPath, this.schema.name, loadId),
        `${JSON.stringify(row)}\n`,
      );
    } catch (cause) {
      throw ioError(cause, `Completing load \`${loadId}\``, this.#destination);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.store.close();
  }

  // ---------------------------------------------------------------------------------------------
  // WithStateSync

  /** The newest stored schema named `schemaName` (default: this client's schema), if any. */
  async getStoredSchema(schemaName: string = this.schema.name): Promise<Schema | undefined> {
    const newest = (await this.#versionFiles())
      .filter((f) => f.name === schemaName)
      .sort((a, b) => compareLoadIds(b.loadId, a.loadId))[0];
    return newest === undefined ? undefined : this.#readStoredSchema(newest.path);
  }

  /** The stored schema with `versionHash` (base64, as in the schema), if any. */
  async getStoredSchemaByHash(versionHash: string): Promise<Schema | undefined> {
    const hex = Buffer.from(versionHash, "base64").toString("hex");
    const file = (await this.#versionFiles()).find((f) => f.hash === hex);
    return file === undefined ? undefined : this.#readStoredSchema(file.path);
  }

  /** The newest state of `pipelineName` written by a load whose `_dlt_loads` file exists. */
  async getStoredState(pipelineName: string): Promise<StoredStateRow | undefined> {
    const states = (await this.store.list(systemTableFolder(this.datasetPath, PIPELINE_STATE_TABLE_NAME)))
      .map((p) => parseSystemFileName(p, 3))
      .filter((f): f is SystemFileName => f !== undefined && f.name === pipelineName)
      .sort((a, b) => compareLoadIds(b.loadId, a.loadId));
    if (states.length === 0) return undefined;
    const completed = await this.completedLoadIds();
    const newest = states.find((f) => completed.has(f.loadId));
    if (newest === undefined) return undefined;
    const text = await this.store.readText(newest.path);
    if (text === undefined) return undefined;
    const row = parseSystemRow(text, newest.path);
    return storedStateRowOf({
      ...row,
      pipeline_name: row.pipeline_name ?? pipelineName,
      _dlt_load_id: row._dlt_load_id ?? row.dlt_load_id ?? newest.loadId,
    });
  }

  /** Load ids that have a `_dlt_loads` file (any schema). */
  async completedLoadIds(): Promise<Set<string>> {
    const files = await this.store.list(systemTableFolder(this.datasetPath, LOADS_TABLE_NAME));
    return new Set(
      files.flatMap((p) => {
        const loadId = parseSystemFileName(p, 2)?.loadId;
        return loadId === undefined ? [] : [loadId];
      }),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // WithStagedFiles

  /**
   * Deletes the files of `tables` that loads other than `loadId` wrote (dlt's truncation of staged
   * tables before a load). With a layout without `{load_id}` every file of the tables is deleted: call
   * it before the load stages anything.
   */
  async truncateStagedTables(tables: readonly string[], loadId: string): Promise<void> {
    try {
      for (const table of tables) {
        const files = await this.listTableFiles(table);
        const old = files.filter((path) => {
          if (!this.config.layout.hasLoadId) return true;
          const relative = path.slice(this.datasetPath.length + 1);
          return this.config.layout.parseLoadId(relative, table, this.schema.name) !== loadId;
        });
        if (old.length === 0) continue;
        await this.store.deleteFiles(old);
        this.#logger.info(
          `[${this.#destination}] staging: deleted ${old.length} file(s) of \`${table}\` staged by earlier loads`,
        );
      }
    } catch (cause) {
      throw ioError(
        cause,
        `Truncating staged tables ${tables.map((t) => `\`${t}\``).join(", ")}`,
        this.#destination,
      );
    }
  }

  /** Streams a staged file (a URL inside this dataset). */
  async openStagedFile(url: string): Promise<Readable> {
    const path = this.#stagedPath(url);
    try {
      return await this.store.openRead(path);
    } catch (cause) {
      throw ioError(cause, `Reading staged file \`${url}\``, this.#destination);
    }
  }

  /**
   * Deletes the staged files of a completed load unless `keepStagedFiles` is on (the default). URLs
   * outside this dataset are never deleted.
   */
  async releaseStagedFiles(_loadId: string, urls: readonly string[]): Promise<readonly string[]> {
    if (this.config.keepStagedFiles !== false) return [];
    const paths = urls.map((url) => this.#stagedPath(url));
    try {
      await this.store.deleteFiles(paths);
    } catch (cause) {
      throw ioError(cause, `Deleting ${paths.length} staged file(s)`, this.#destination);
    }
    return [...urls];
  }

  /** The bucket-relative path of a staged file's URL; rejects URLs outside this dataset. */
  #stagedPath(url: string): string {
    const path = this.store.pathOf(url);
    if (path === undefined || !path.startsWith(`${this.datasetPath}/`)) {
      throw new DestinationError(
        `[tsdlt] [${this.#destination}] \`${url}\` is not a file of staging dataset \`${this.url(this.datasetPath)}\`.`,
        { code: "DESTINATION_TERMINAL", retryable: false, destination: this.#destination },
      );
    }
    return path;
  }

  // ---------------------------------------------------------------------------------------------

  async #versionFiles(): Promise<SystemFileName[]> {
    return (await this.store.list(systemTableFolder(this.datasetPath, VERSION_TABLE_NAME)))
      .map((p) => parseSystemFileName(p, 3))
      .filter((f): f is SystemFileName => f !== undefined);
  }

  async #readStoredSchema(path: string): Promise<Schema | undefined> {
    const text = await this.store.readText(path);
    if (text === undefined) return undefined;
    const row = parseSystemRow(text, path);
    if (typeof row.schema !== "string") {
      throw new SchemaError(
        `[tsdlt] [filesystem] \`${path}\` holds no \`schema\` text; delete the file to start over.`,
        {
          code: "SCHEMA_CORRUPTED",
          path,
        },
      );
    }
    return decodeStoredSchema(row.schema, path);
  }

  async #ensureTableFolders(tables: readonly TableSchema[]): Promise<void> {
    if (this.store.protocol !== "file") return;
    const folders = new Set<string>();
    for (const table of tables) {
      if (this.config.asStagingDestination && isDltName(table.name)) continue;
      folders.add(posix.dirname(`${this.tablePrefix(table.name)}x`));
    }
    if (!this.config.asStagingDestination) {
      for (const t of [LOADS_TABLE_NAME, VERSION_TABLE_NAME, PIPELINE_STATE_TABLE_NAME]) {
        folders.add(`${this.datasetPath}/${t}`);
      }
    }
    for (const folder of folders) await this.store.ensureFolder(folder);
  }

  #packageCreated(job: LoadJobFile, loadId: string): Date | undefined {
    if (!this.#packageCreatedAt.has(loadId)) {
      let created: Date | undefined;
      try {
        // the job file lives in <package>/<job state>/<file>
        const state = new LoadPackage(loadId, dirname(dirname(job.path))).readState();
        created =
          state.created_at instanceof Date && state.created_at.getTime() > 0 ? state.created_at : undefined;
      } catch {
        created = undefined;
      }
      this.#packageCreatedAt.set(loadId, created);
    }
    return this.#packageCreatedAt.get(loadId);
  }

  #now(job: LoadJobFile, loadId: string): Date {
    const configured = this.config.currentDatetime;
    if (configured !== undefined) return typeof configured === "function" ? configured() : configured;
    return this.#packageCreated(job, loadId) ?? new Date();
  }

  async #writeDataFile(
    table: TableSchema,
    job: LoadJobFile,
    remotePath: string,
    loadId: string,
  ): Promise<void> {
    const format = this.config.fileFormat;
    const what = `Writing \`${this.url(remotePath)}\` (job \`${job.fileName}\`, load \`${loadId}\`)`;
    if (job.parsed.fileFormat === format) {
      try {
        await this.store.copyIn(job.path, remotePath);
      } catch (cause) {
        throw ioError(cause, what, this.#destination, { table: table.name });
      }
      return;
    }
    if (job.parsed.fileFormat !== "jsonl") {
      throw new DestinationError(
        `[tsdlt] [${this.#destination}] Job \`${job.fileName}\` is a \`${job.parsed.fileFormat}\` file; the filesystem destination converts only \`jsonl\` job files into \`${format}\`. Set \`fileFormat: "${job.parsed.fileFormat}"\` on the destination or let normalize write jsonl.`,
        {
          code: "DESTINATION_TERMINAL",
          retryable: false,
          destination: this.#destination,
          table: table.name,
          loadId,
        },
      );
    }
    const columns = Object.values(table.columns).filter(isCompleteColumn) as CompleteColumnSchema[];
    const temp = await this.store.tempFileFor(remotePath);
    try {
      if (format === "parquet") {
        await writeParquetFile({
          table: table.name,
          columns,
          input: job.path,
          output: temp,
          capabilities: this.capabilities,
          parquet: this.config.parquet,
        });
      } else {
        await writeCsvFile({
          table: table.name,
          columns,
          input: job.path,
          output: temp,
          csv: this.config.csv,
        });
      }
      await this.store.commitFile(temp, remotePath);
    } catch (cause) {
      await rm(temp, { force: true });
      throw ioError(cause, what, this.#destination, { table: table.name });
    }
  }

  #stateJob(table: TableSchema, job: LoadJobFile, loadId: string, jobId: string): FilesystemLoadJob {
    const folder = systemTableFolder(this.datasetPath, PIPELINE_STATE_TABLE_NAME);
    const run = async (): Promise<void> => {
      try {
        const pipelines = new Set<string>();
        for await (const { row } of readJsonlRows(job.path)) {
          const doc: Record<string, unknown> = {};
          for (const column of STATE_COLUMNS) if (row[column] !== undefined) doc[column] = row[column];
          doc._dlt_load_id = loadId;
          const pipelineName = String(doc.pipeline_name);
          const hash = typeof doc.version_hash === "string" ? doc.version_hash : undefined;
          await this.store.writeText(
            stateFilePath(this.datasetPath, pipelineName, loadId, hash),
            `${JSON.stringify(doc)}\n`,
          );
          pipelines.add(pipelineName);
        }
        for (const pipelineName of pipelines) await this.#cleanupStateFiles(pipelineName);
      } catch (cause) {
        throw ioError(cause, `Writing the pipeline state of load \`${loadId}\``, this.#destination, {
          table: table.name,
        });
      }
    };
    return { jobId, table: table.name, remotePath: folder, remoteUrl: this.url(folder), run };
  }

  /** Keeps the newest `maxStateFiles` state files of a pipeline (dlt's `max_state_files`). */
  async #cleanupStateFiles(pipelineName: string): Promise<void> {
    const keep = this.config.maxStateFiles;
    if (keep < 1) return;
    const files = (await this.store.list(systemTableFolder(this.datasetPath, PIPELINE_STATE_TABLE_NAME)))
      .map((p) => parseSystemFileName(p, 3))
      .filter((f): f is SystemFileName => f !== undefined && f.name === pipelineName)
      .sort((a, b) => compareLoadIds(b.loadId, a.loadId));
    if (files.length > keep) await this.store.deleteFiles(files.slice(keep).map((f) => f.path));
  }

  /**
   * Replace, second half: for every replace chain that got files in load `loadId` (or whose emptying
   * was requested), deletes the chain's files of other loads. Files written by this client, or whose
   * path carries `loadId`, are kept.
   */
  async #replaceOldFiles(loadId: string): Promise<void> {
    const written = new Set(this.#written.filter((f) => f.loadId === loadId).map((f) => f.path));
    // replace chains, and chains whose emptying was requested (a `refresh: "drop_data"` run)
    const roots = this.schema
      .dataTables()
      .filter(
        (t) =>
          t.parent === undefined &&
          (this.schema.writeDisposition(t.name) === "replace" ||
            this.schema.tableChain(t.name).some((c) => this.#replaceRequested.has(c.name))),
      );
    for (const root of roots) {
      const chain = this.schema.tableChain(root.name);
      const requested = chain.some(
        (t) => this.#replaceRequested.has(t.name) || this.#tablesWithJobs.has(t.name),
      );
      const files: { path: string; current: boolean }[] = [];
      for (const table of chain) {
        for (const path of await this.listTableFiles(table.name)) {
          const relative = path.slice(this.datasetPath.length + 1);
          const current =
            written.has(path) ||
            this.config.layout.parseLoadId(relative, table.name, this.schema.name) === loadId;
          files.push({ path, current });
        }
      }
      if (!requested && !files.some((f) => f.current)) continue;
      const old = files.filter((f) => !f.current).map((f) => f.path);
      if (old.length === 0) continue;
      await this.store.deleteFiles(old);
      this.#logger.info(
        `[${this.#destination}] replace: deleted ${old.length} earlier file(s) of \`${root.name}\``,
      );
    }
  }
}
