/**
 * The DuckDB destination client: one database file (or in-memory database), one dataset (a DuckDB
 * schema), one dlt schema.
 *
 * Maps to: dataset → `CREATE SCHEMA`, tables → `"<dataset>"."<table>"`, schema evolution → new tables
 * and new columns only (one `ALTER TABLE` per column, without NOT NULL, which DuckDB cannot add),
 * `jsonl` job files → one bulk `INSERT ... SELECT ... FROM read_json(...)` each.
 *
 * Staging and follow-ups: merge tables (and replace tables loaded through staging) load into the
 * staging dataset `<dataset>_staging` ({@link WithStagingDataset}); once a table chain is loaded, its
 * follow-up job (merge / replace SQL from `@tsdlt/sql`, stored as a `.sql` job file) runs all its
 * statements in one transaction on a job connection, so readers never see a half-replaced or
 * half-merged table and a failure leaves the previous rows in place.
 *
 * Staged files (`pipeline({ staging: "filesystem" })`): a `.reference` job loads a file from the
 * staging filesystem with `read_parquet` / `read_json` / `read_csv` (`staged-load.ts`); local staging
 * folders only (no `httpfs`).
 *
 * Does not support: loader formats other than `jsonl` (parquet / insert_values / csv / model),
 * dropping or retyping columns, `staging-optimized` table swaps (DuckDB cannot move a table between
 * schemas; the strategy runs as `insert-from-staging`).
 *
 * Locking and transactions: the client opens the file through DuckDB's in-process instance cache, so
 * clients of the same file in one process share one database (never two writers on one file); another
 * process is locked out until every client of the file is disposed ("Could not set lock" is classified
 * retryable). Schema migration (DDL + the `_dlt_version` row) runs in one transaction on the client's
 * own connection; metadata statements and `query()` are serialised on it. While a load transaction
 * runs, migration, `dropTables` and truncation join it instead, so a `refresh` drop commits with the
 * new data or not at all. Each load job runs on a fresh
 * connection of its own (a single autocommitted `INSERT`, or one transaction for a `.sql` follow-up
 * job), so jobs run in parallel and an `AbortSignal` interrupts only its job. Every connection has its session time zone set to UTC.
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBType,
  DuckDBValue,
  DuckDBValueConverter,
  JS,
} from "@duckdb/node-api";
import {
  type CompleteColumnSchema,
  type DestinationCapabilities,
  type DestinationClient,
  type DestinationContext,
  DestinationError,
  type FollowupJob,
  isCompleteColumn,
  isTsdltError,
  LOADS_TABLE_NAME,
  type LoadJob,
  type LoadJobFile,
  type Logger,
  REFERENCE_FILE_FORMAT,
  type Schema,
  type SchemaUpdateResult,
  type StoredStateRow,
  silentLogger,
  stagingDatasetName,
  type TableChain,
  type TableSchema,
  VERSION_TABLE_NAME,
  type WithBatchLoadJobs,
  type WithDropTables,
  type WithSqlClient,
  type WithStagingDataset,
  type WithStateSync,
  type WithTableChainFollowupJobs,
} from "@tsdlt/core";
import {
  createDatasetSql,
  createTableSql,
  datasetExistsQuery,
  dropTablesAndSchema,
  insertLoadQuery,
  insertVersionQuery,
  loadJobContext,
  parseSqlJobText,
  qualifiedTableName,
  readCsvJobHeader,
  readStoredSchema,
  readStoredState,
  type SqlDialect,
  type SqlParam,
  type SqlQuery,
  type SqlRunner,
  type StorageColumns,
  schemaUpdateSql,
  schemaVersionExistsQuery,
  stagingDialect,
  storageColumnsQuery,
  storedTableNames,
  systemTableOf,
  tableChainFollowupSql,
  toSqlJobText,
  toStorageColumns,
  truncateTableSql,
  withCatalog,
} from "@tsdlt/sql";
import { type DuckDBModule, loadDuckDB } from "./duckdb-api.js";
import { duckdbDialect } from "./duckdb-dialect.js";
import { type DuckDBErrorContext, toDestinationError } from "./duckdb-errors.js";
import { holdSetting, withHeldSetting } from "./held-settings.js";
import { csvInsertSql, detectCompression, type JsonlCompression, jsonlInsertSql } from "./jsonl-load.js";
import { stagedInsertSql, stagedLocalPath } from "./staged-load.js";

/** Where and for whom a {@link DuckDBClient} opens its database. */
export interface DuckDBClientOptions {
  readonly schema: Schema;
  readonly context: DestinationContext;
  /** Absolute path of the database file, or `:memory:`. */
  readonly databasePath: string;
  /** Name used in messages (the destination name). @default "duckdb" */
  readonly destinationName?: string;
  /**
   * DuckDB's `memory_limit` while a `jsonl` job runs; the previous limit is restored afterwards.
   * Ignored for `:memory:` databases, whose data must stay in memory. @default DuckDB's own limit
   */
  readonly memoryLimit?: string;
  /**
   * {@link DuckDBClientOptions.memoryLimit} is a default: a bulk insert that runs out of memory under
   * it lifts it (the retry of the job or package runs without it). @default false
   */
  readonly memoryLimitIsDefault?: boolean;
  /** DuckDB's `threads`, set when the client opens. @default DuckDB's (the number of cores) */
  readonly threads?: number;
  /** DuckDB's `threads` while a bulk insert runs; restored afterwards. @default the database's threads */
  readonly loadThreads?: number;
  /**
   * Keep the rows of a bulk insert in job file order (DuckDB's `preserve_insertion_order`, held off
   * while the insert runs when false). @default true
   */
  readonly preserveInsertionOrder?: boolean;
}

/** How a bulk insert runs: keeping the job files' row order, or in any order (in parallel). */
type BulkMode = "ordered" | "parallel";

/** A row of {@link DuckDBClient.query}. */
export type DuckDBRow = Record<string, unknown>;

const noop = (): void => {};

/** Data job file formats DuckDB loads (normalize's output). */
const DATA_FILE_FORMATS: ReadonlySet<string> = new Set(["jsonl", "csv"]);

/**
 * A {@link DestinationClient} for DuckDB with state sync ({@link WithStateSync}), SQL access
 * ({@link WithSqlClient}), a staging dataset ({@link WithStagingDataset}) and table-chain follow-up
 * jobs ({@link WithTableChainFollowupJobs}). Create it with `duckdb().createClient(schema, context)`
 * or {@link DuckDBClient.open}; dispose it (`await using`) to release the database file.
 */
export class DuckDBClient
  implements
    DestinationClient,
    WithStateSync,
    WithSqlClient,
    WithStagingDataset,
    WithTableChainFollowupJobs,
    WithDropTables,
    WithBatchLoadJobs
{
  readonly capabilities: DestinationCapabilities = duckdbDialect.capabilities;
  /** The dlt schema this client migrates to and loads. */
  readonly schema: Schema;
  /** The DuckDB schema holding the tables. */
  readonly datasetName: string;
  /** The DuckDB schema holding the staging copies of merge and replace tables (`<dataset>_staging`). */
  readonly stagingDatasetName: string;
  /** Absolute path of the database file, or `:memory:`. */
  readonly databasePath: string;
  readonly #destination: string;
  readonly #logger: Logger;
  readonly #api: DuckDBModule;
  readonly #instance: DuckDBInstance;
  readonly #connection: DuckDBConnection;
  readonly #converter: DuckDBValueConverter<unknown>;
  /** The SQL dialect, qualified with the catalog when a dataset is named like a catalog. */
  readonly #dialect: SqlDialect;
  /** Tail of the queue that serialises work on {@link DuckDBClient.#connection}. */
  #tail: Promise<void> = Promise.resolve();
  /** Connections of running jobs (interrupted on dispose) and the jobs themselves (awaited on dispose). */
  readonly #jobConnections = new Set<DuckDBConnection>();
  /** The connection of the running load transaction; jobs and `completeLoad` run on it while set. */
  #loadTransaction: DuckDBConnection | undefined;
  readonly #runningJobs = new Set<Promise<void>>();
  #disposed = false;
  /** `memory_limit` held while a `jsonl` job runs (undefined: not changed). */
  #loadMemoryLimit: string | undefined;
  readonly #memoryLimitIsDefault: boolean;
  /** `threads` held while a bulk insert runs (undefined: not changed). */
  readonly #loadThreads: number | undefined;
  readonly #preserveInsertionOrder: boolean | undefined;
  /** Bulk inserts under the memory limit outside a load transaction run one after another (see `#withLoadSettings`). */
  #bulkTurn: Promise<void> = Promise.resolve();
  /** The memory limit held by the bulk jobs of the running load transaction (see `#withLoadSettings`). */
  #transactionMemory: Promise<() => Promise<void>> | undefined;

  private constructor(
    options: DuckDBClientOptions,
    api: DuckDBModule,
    instance: DuckDBInstance,
    connection: DuckDBConnection,
    catalogName: string | undefined,
  ) {
    this.schema = options.schema;
    this.datasetName = options.context.datasetName;
    this.stagingDatasetName = stagingDatasetName(this.datasetName);
    this.databasePath = options.databasePath;
    this.#destination = options.destinationName ?? duckdbDialect.name;
    this.#logger = options.context.logger ?? silentLogger;
    this.#api = api;
    this.#instance = instance;
    this.#connection = connection;
    this.#converter = createRowConverter(api);
    this.#dialect = catalogName === undefined ? duckdbDialect : withCatalog(duckdbDialect, catalogName);
    this.#loadMemoryLimit = options.databasePath === ":memory:" ? undefined : options.memoryLimit;
    this.#memoryLimitIsDefault = options.memoryLimitIsDefault === true;
    this.#loadThreads = options.loadThreads;
    this.#preserveInsertionOrder = options.preserveInsertionOrder;
  }

  /**
   * Opens the database (creating its folder and file if missing) and a connection to it. Files are
   * opened through DuckDB's instance cache; `:memory:` opens a fresh database that lives as long as
   * the client.
   */
  static async open(options: DuckDBClientOptions): Promise<DuckDBClient> {
    const api = await loadDuckDB();
    const path = options.databasePath;
    const destination = options.destinationName ?? duckdbDialect.name;
    const failure = (cause: unknown): DestinationError =>
      toDestinationError(cause, {
        destination,
        subject: `Opening database \`${path}\``,
        path,
        consequence: {
          terminal:
            "Check that the path is a DuckDB file the process may write, or set the `credentials` option.",
          retryable: "Another process holds the database; close it (a CLI, a notebook) and run again.",
        },
      });
    let instance: DuckDBInstance;
    try {
      if (path === ":memory:") {
        instance = await api.DuckDBInstance.create(":memory:");
      } else {
        await mkdir(dirname(path), { recursive: true });
        instance = await api.DuckDBInstance.fromCache(path);
      }
    } catch (cause) {
      throw failure(cause);
    }
    let connection: DuckDBConnection | undefined;
    try {
      connection = await openConnection(instance);
      if (options.threads !== undefined) await connection.run(`SET GLOBAL threads = ${options.threads}`);
      const dataset = options.context.datasetName;
      const catalog = await ambiguousCatalog(connection, [dataset, stagingDatasetName(dataset)]);
      return new DuckDBClient(options, api, instance, connection, catalog);
    } catch (cause) {
      connection?.closeSync();
      instance.closeSync();
      throw failure(cause);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // DestinationClient

  /** Creates the dataset and `_dlt_version` / `_dlt_loads` if missing; empties `truncateTables` that exist. */
  async initializeStorage(options: { truncateTables?: readonly string[] } = {}): Promise<void> {
    await this.#exclusive(`Initializing dataset \`${this.datasetName}\``, async (c) => {
      await this.#transaction(c, async () => {
        await c.run(createDatasetSql(this.#dialect, this.datasetName, { ifNotExists: true }));
        for (const table of [
          systemTableOf(this.schema, VERSION_TABLE_NAME),
          systemTableOf(this.schema, LOADS_TABLE_NAME),
        ]) {
          const columns = Object.values(table.columns).filter(isCompleteColumn);
          await c.run(createTableSql(this.#dialect, this.datasetName, table, columns, { ifNotExists: true }));
        }
        const truncate = options.truncateTables ?? [];
        if (truncate.length === 0) return;
        const existing = storedTableNames(await this.#storageColumns(c, truncate));
        for (const name of truncate) {
          if (existing.has(name.toLowerCase()))
            await c.run(truncateTableSql(this.#dialect, this.datasetName, name));
        }
      });
    });
  }

  /** True when the dataset exists in the database. */
  async isStorageInitialized(): Promise<boolean> {
    return this.#exclusive(`Checking dataset \`${this.datasetName}\``, async (c) => {
      return (await this.#rows(c, datasetExistsQuery(this.#dialect, this.datasetName))).length > 0;
    });
  }

  /**
   * Migrates the dataset to the client's schema unless `_dlt_version` already holds its version hash:
   * creates missing tables, adds missing columns, and inserts the `_dlt_version` row, all in one
   * transaction. `statements` lists the DDL (not the `_dlt_version` insert). `_dlt_version` and
   * `_dlt_loads` are always considered, whatever `onlyTables` says.
   */
  async updateStoredSchema(options: { onlyTables?: readonly string[] } = {}): Promise<SchemaUpdateResult> {
    return this.#exclusive(
      `Migrating dataset \`${this.datasetName}\` to schema \`${this.schema.name}\``,
      async (c) => {
        const storage = await this.#storageColumns(c);
        const tables = storedTableNames(storage);
        if (tables.has(VERSION_TABLE_NAME) && (await this.#hasSchemaVersion(c, this.schema.versionHash))) {
          return { tables: {}, statements: [] };
        }
        const onlyTables = options.onlyTables && [
          VERSION_TABLE_NAME,
          LOADS_TABLE_NAME,
          ...options.onlyTables,
        ];
        const plan = schemaUpdateSql(
          this.#dialect,
          this.datasetName,
          this.schema,
          storage,
          onlyTables ? { onlyTables } : {},
        );
        for (const warning of plan.warnings) this.#logger.warn(warning);
        const statements =
          tables.size === 0 && !(await this.#datasetExists(c))
            ? [createDatasetSql(this.#dialect, this.datasetName, { ifNotExists: true }), ...plan.statements]
            : plan.statements;
        const version = insertVersionQuery(this.#dialect, this.datasetName, this.schema);
        await this.#transaction(c, async () => {
          for (const sql of statements) await c.run(sql);
          await c.run(version.sql, this.#params(version.params));
        });
        return { tables: plan.tables, statements };
      },
    );
  }

  /**
   * Drops `tables` that exist, in the dataset and in the staging dataset, and with `deleteSchema`
   * (default) deletes every stored version of the client's schema from `_dlt_version`, all in one
   * transaction — the load transaction when one is running, so the drop commits with the new data.
   */
  async dropTables(
    tables: readonly string[],
    options: { readonly deleteSchema?: boolean } = {},
  ): Promise<void> {
    await this.#exclusive(
      `Dropping ${tables.map((t) => `\`${t}\``).join(", ") || "no tables"} in dataset \`${this.datasetName}\``,
      async (c) => {
        await this.#transaction(c, () =>
          dropTablesAndSchema(this.#runner(c), this.#dialect, {
            datasets: [this.datasetName, this.stagingDatasetName],
            tables,
            schemaName: this.schema.name,
            deleteSchema: options.deleteSchema,
          }),
        );
      },
    );
  }

  /**
   * A job that loads one `jsonl` file into `table`, or runs a `.sql` follow-up job file (one statement
   * per line, all in one transaction). Other formats fail here with a terminal {@link DestinationError}.
   * The job runs on its own connection; `run(signal)` interrupts it on abort. An empty `jsonl` file
   * loads nothing.
   */
  async createLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob> {
    return this.#createJob(table, job, loadId, this.datasetName);
  }

  /** Like {@link DuckDBClient.createLoadJob}, into the staging copy of `table` (`jsonl` files only). */
  async createStagingLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob> {
    return this.#createJob(table, job, loadId, this.stagingDatasetName);
  }

  async #createJob(table: TableSchema, job: LoadJobFile, loadId: string, dataset: string): Promise<LoadJob> {
    this.#assertOpen();
    const staging = dataset === this.stagingDatasetName;
    const { jobId, context, terminal } = loadJobContext(this.#destination, table, job, loadId, staging);
    if (job.parsed.fileFormat === "sql" && !staging) {
      return {
        jobId,
        run: (signal?: AbortSignal) =>
          this.#runJob(
            {
              ...context,
              consequence: {
                terminal: `The transaction was rolled back: table \`${table.name}\` and its nested tables keep their previous rows.`,
                retryable: "The transaction was rolled back; running the job again may succeed.",
              },
            },
            signal,
            async () => parseSqlJobText(await readFile(job.path, "utf8")),
            { transaction: true },
          ),
      };
    }
    if (job.parsed.fileFormat === REFERENCE_FILE_FORMAT) {
      const staged = job.staged;
      if (staged === undefined) {
        throw terminal(
          "the reference job came without its staged file; reference jobs load through the load stage with a staging destination",
        );
      }
      const local = stagedLocalPath(staged);
      if ("problem" in local) throw terminal(local.problem);
      if (!Object.values(table.columns).some(isCompleteColumn)) {
        throw terminal(`table \`${table.name}\` has no complete columns to load`);
      }
      return {
        jobId,
        run: (signal?: AbortSignal) =>
          this.#runJob({ ...context, path: local.path }, signal, async () => {
            if (staged.fileFormat === "jsonl" && (await stat(local.path)).size === 0) return [];
            return [await stagedInsertSql(dataset, table, staged, local.path)];
          }),
      };
    }
    if (!DATA_FILE_FORMATS.has(job.parsed.fileFormat)) {
      throw terminal(
        `DuckDB loads \`jsonl\` and \`csv\` files, not \`${job.parsed.fileFormat}\`; normalize with \`loaderFileFormat: "jsonl"\``,
      );
    }
    if (!Object.values(table.columns).some(isCompleteColumn)) {
      throw terminal(`table \`${table.name}\` has no complete columns to load`);
    }
    return {
      jobId,
      run: (signal?: AbortSignal) =>
        this.#runJob(context, signal, () => this.#insertStatements(table, dataset, [job], terminal), {
          bulk: this.#bulkMode(),
        }),
    };
  }

  /**
   * The statements loading `jsonl` or `csv` job files (all of one format) into `table` of `dataset`:
   * one `INSERT … SELECT` per compression (`jsonl`) or per header (`csv`), each reading its files side
   * by side. Empty files are skipped.
   */
  async #insertStatements(
    table: TableSchema,
    dataset: string,
    files: readonly LoadJobFile[],
    terminal: (reason: string) => DestinationError,
  ): Promise<string[]> {
    const groups = new Map<string, { columns: CompleteColumnSchema[] | undefined; paths: string[] }>();
    const add = (key: string, columns: CompleteColumnSchema[] | undefined, path: string): void => {
      const group = groups.get(key) ?? { columns, paths: [] };
      group.paths.push(path);
      groups.set(key, group);
    };
    for (const file of files) {
      if ((await stat(file.path)).size === 0) continue;
      if (file.parsed.fileFormat === "jsonl") {
        add(await detectCompression(file.path), undefined, file.path);
        continue;
      }
      let header: string[];
      try {
        header = await readCsvJobHeader(file.path, table);
      } catch (cause) {
        throw terminal(`\`${file.fileName}\` cannot load: ${(cause as Error).message}`);
      }
      if (header.length === 0) continue;
      const columns = header.map((name) => table.columns[name] as CompleteColumnSchema);
      add(JSON.stringify(header), columns, file.path);
    }
    return [...groups].map(([key, { columns, paths }]) =>
      columns === undefined
        ? jsonlInsertSql(dataset, table, paths, {
            compression: key as JsonlCompression,
            dialect: this.#dialect,
          })
        : csvInsertSql(dataset, table, columns, paths, { dialect: this.#dialect }),
    );
  }

  /**
   * One job loading several `jsonl` or `csv` files of `table`: in a load transaction the load stage
   * hands a table's files together, and DuckDB reads them side by side in one statement (see
   * {@link DuckDBClient.#insertStatements}). Declines (undefined) other formats.
   */
  async createBatchLoadJob(
    table: TableSchema,
    files: readonly LoadJobFile[],
    loadId: string,
    options: { readonly staging: boolean },
  ): Promise<LoadJob | undefined> {
    this.#assertOpen();
    if (files.length === 0 || files.some((f) => !DATA_FILE_FORMATS.has(f.parsed.fileFormat))) {
      return undefined;
    }
    const dataset = options.staging ? this.stagingDatasetName : this.datasetName;
    const { jobId, context, terminal } = loadJobContext(
      this.#destination,
      table,
      files,
      loadId,
      options.staging,
    );
    if (!Object.values(table.columns).some(isCompleteColumn)) {
      throw terminal(`table \`${table.name}\` has no complete columns to load`);
    }
    return {
      jobId,
      run: (signal?: AbortSignal) =>
        this.#runJob(context, signal, () => this.#insertStatements(table, dataset, files, terminal), {
          bulk: this.#bulkMode(),
        }),
    };
  }

  /** How bulk inserts run: in file order, or (`preserveInsertionOrder: false`) in any order. */
  #bulkMode(): BulkMode {
    return this.#preserveInsertionOrder === false ? "parallel" : "ordered";
  }

  // ---------------------------------------------------------------------------------------------
  // WithStagingDataset, WithTableChainFollowupJobs

  /**
   * Creates the staging dataset if missing, creates or alters `tables` there to the client's schema
   * (no `_dlt_version` row), and empties `truncateTables`, all in one transaction.
   */
  async initializeStagingDataset(options: {
    readonly tables: readonly string[];
    readonly truncateTables: readonly string[];
  }): Promise<SchemaUpdateResult> {
    const dataset = this.stagingDatasetName;
    return this.#exclusive(`Preparing staging dataset \`${dataset}\``, async (c) => {
      const storage = await this.#storageColumns(c, undefined, dataset);
      const plan = schemaUpdateSql(stagingDialect(this.#dialect), dataset, this.schema, storage, {
        onlyTables: options.tables,
      });
      // like dlt, the staging dataset also carries `_dlt_version` (never written to)
      const version = systemTableOf(this.schema, VERSION_TABLE_NAME);
      const statements = [
        createDatasetSql(this.#dialect, dataset, { ifNotExists: true }),
        createTableSql(
          this.#dialect,
          dataset,
          version,
          Object.values(version.columns).filter(isCompleteColumn),
          {
            ifNotExists: true,
          },
        ),
        ...plan.statements,
      ];
      const existing = storedTableNames(storage);
      await this.#transaction(c, async () => {
        for (const sql of statements) await c.run(sql);
        for (const name of options.truncateTables) {
          if (existing.has(name.toLowerCase())) await c.run(truncateTableSql(this.#dialect, dataset, name));
        }
      });
      return { tables: plan.tables, statements };
    });
  }

  /** The merge or replace SQL of a completed table chain, as one `.sql` follow-up job of its root table. */
  async createTableChainFollowupJobs(chain: TableChain, _loadId: string): Promise<FollowupJob[]> {
    this.#assertOpen();
    const root = chain.tables[0];
    if (root === undefined) return [];
    const sql = tableChainFollowupSql(this.#dialect, chain, {
      datasetName: this.datasetName,
      stagingDatasetName: this.stagingDatasetName,
    });
    return [{ tableName: root.name, fileFormat: "sql", content: toSqlJobText(sql) }];
  }

  /** Inserts the `_dlt_loads` row (status 0) that marks load `loadId` complete. */
  async completeLoad(loadId: string): Promise<void> {
    const query = insertLoadQuery(this.#dialect, this.datasetName, {
      loadId,
      schemaName: this.schema.name,
      schemaVersionHash: this.schema.versionHash,
    });
    const tx = this.#loadTransaction;
    if (tx) {
      try {
        await tx.run(query.sql, this.#params(query.params));
      } catch (cause) {
        throw toDestinationError(cause, {
          destination: this.#destination,
          subject: `Completing load \`${loadId}\``,
          params: query.params,
        });
      }
      return;
    }
    await this.#exclusive(`Completing load \`${loadId}\``, async (c) => {
      await c.run(query.sql, this.#params(query.params));
    });
  }

  // ---------------------------------------------------------------------------------------------
  // WithLoadTransaction

  /**
   * The load stage migrates inside the load transaction: tables a package creates commit with its
   * rows, so a failed load leaves no empty new tables behind (as on Postgres).
   */
  readonly migrateInLoadTransaction = true;

  /**
   * Runs `fn` — the jobs, follow-up jobs and `completeLoad` of one package — in one DuckDB transaction
   * on a dedicated connection: the package's rows and its `_dlt_loads` row commit together or not at all.
   * Jobs called while `fn` runs execute one at a time on that connection.
   */
  async runInLoadTransaction<T>(loadId: string, fn: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    if (this.#loadTransaction) {
      throw new DestinationError(
        `[tsdlt] [${this.#destination}] A load transaction is already running on this client.`,
        {
          code: "DESTINATION_TERMINAL",
          destination: this.#destination,
          loadId,
        },
      );
    }
    const subject = `The load transaction of \`${loadId}\``;
    let c: DuckDBConnection;
    try {
      c = await openConnection(this.#instance);
      await c.run("BEGIN TRANSACTION");
    } catch (cause) {
      throw toDestinationError(cause, { destination: this.#destination, subject });
    }
    this.#jobConnections.add(c);
    this.#loadTransaction = c;
    try {
      const result = await fn();
      try {
        await c.run("COMMIT");
      } catch (cause) {
        throw toDestinationError(cause, { destination: this.#destination, subject });
      }
      return result;
    } catch (error) {
      await c.run("ROLLBACK").catch(noop);
      throw error;
    } finally {
      await this.#releaseTransactionMemory();
      this.#loadTransaction = undefined;
      this.#jobConnections.delete(c);
      c.closeSync();
    }
  }

  /** True when `_dlt_loads` holds `loadId` (its package committed). */
  async isLoadCompleted(loadId: string): Promise<boolean> {
    return this.#exclusive(`Checking load \`${loadId}\``, async (c) => {
      const tables = storedTableNames(await this.#storageColumns(c, [LOADS_TABLE_NAME]));
      if (!tables.has(LOADS_TABLE_NAME)) return false;
      const reader = await c.runAndReadAll(
        `SELECT 1 FROM ${qualifiedTableName(this.#dialect, this.datasetName, LOADS_TABLE_NAME)} WHERE load_id = $1 LIMIT 1`,
        [loadId],
      );
      return reader.currentRowCount > 0;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // WithStateSync

  /** The newest `_dlt_version` schema named `schemaName` (default: this client's schema), if any. */
  async getStoredSchema(schemaName: string = this.schema.name): Promise<Schema | undefined> {
    return this.#storedSchema({ schemaName });
  }

  /** The `_dlt_version` schema with `versionHash`, if stored. */
  async getStoredSchemaByHash(versionHash: string): Promise<Schema | undefined> {
    return this.#storedSchema({ versionHash });
  }

  /**
   * The newest `_dlt_pipeline_state` row of `pipelineName` whose load completed (`_dlt_loads.status = 0`);
   * undefined when there is none or the tables do not exist.
   */
  async getStoredState(pipelineName: string): Promise<StoredStateRow | undefined> {
    return this.#exclusive(`Reading the state of pipeline \`${pipelineName}\``, (c) =>
      readStoredState(this.#runner(c), this.#dialect, this.datasetName, pipelineName),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // WithSqlClient

  /**
   * Runs SQL (`$1`-style placeholders) and returns the rows as plain objects. Values: BOOLEAN → boolean;
   * TINYINT/SMALLINT/INTEGER/FLOAT/DOUBLE → number; BIGINT/HUGEINT/UBIGINT → **bigint**; DECIMAL, DATE
   * (`YYYY-MM-DD`), TIME and INTERVAL → string (exact); TIMESTAMP* → `Date` (millisecond precision;
   * infinities as strings); VARCHAR and JSON → string (JSON text, not parsed); BLOB → `Uint8Array`;
   * LIST/STRUCT/MAP → arrays/objects of the above. Parameters may be `string`, `number`, `bigint`,
   * `boolean`, `null`, `Date` (bound as TIMESTAMPTZ) or `Uint8Array` (BLOB). Without parameters the text
   * may hold several statements; the rows are those of the last.
   */
  async query(sql: string, params?: readonly unknown[]): Promise<DuckDBRow[]> {
    return this.#exclusive(
      "Query",
      async (c) => this.#rows(c, { sql, params: (params ?? []) as SqlParam[] }),
      params,
    );
  }

  /**
   * `"<dataset>"."<table>"`, or `"<catalog>"."<dataset>"."<table>"` when the dataset (or its staging
   * dataset) is named like a catalog of the database (the file's own catalog, `system`, `temp`):
   * DuckDB rejects the two-part name as ambiguous there.
   */
  qualifiedTableName(table: string): string {
    return qualifiedTableName(this.#dialect, this.datasetName, table);
  }

  // ---------------------------------------------------------------------------------------------
  // lifecycle

  /**
   * Interrupts running jobs and waits for them, lets queued statements finish, then closes the
   * connection and the database handle, so the file can be opened by another process right away.
   * Idempotent.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const connection of this.#jobConnections) connection.interrupt();
    await Promise.allSettled(this.#runningJobs);
    await this.#tail;
    try {
      this.#connection.closeSync();
    } finally {
      this.#instance.closeSync();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // internals

  #assertOpen(): void {
    if (this.#disposed) {
      throw new DestinationError(
        `[tsdlt] [${this.#destination}] The client of \`${this.databasePath}\` was used after it was disposed. Create a new client.`,
        { code: "CLIENT_DISPOSED", destination: this.#destination },
      );
    }
  }

  /** Runs `work` on the client's connection after all earlier work; native failures become {@link DestinationError}s. */
  #exclusive<T>(
    subject: string,
    work: (c: DuckDBConnection) => Promise<T>,
    params?: readonly unknown[],
  ): Promise<T> {
    this.#assertOpen();
    const run = this.#tail.then(async () => {
      try {
        // inside a load transaction, metadata work (migration, drops, truncation) joins it
        return await work(this.#loadTransaction ?? this.#connection);
      } catch (cause) {
        if (isTsdltError(cause)) throw cause;
        throw toDestinationError(cause, { destination: this.#destination, subject, params });
      }
    });
    this.#tail = run.then(noop, noop);
    return run;
  }

  /** {@link transaction} on `c`, joining the load transaction when `c` is its connection. */
  #transaction(c: DuckDBConnection, work: () => Promise<void>): Promise<void> {
    return transaction(c, work, c === this.#loadTransaction);
  }

  async #runJob(
    context: DuckDBErrorContext,
    signal: AbortSignal | undefined,
    sql: () => Promise<readonly string[]>,
    options: { readonly transaction?: boolean; readonly bulk?: BulkMode } = {},
  ): Promise<void> {
    this.#assertOpen();
    const cancelled = (): DestinationError =>
      new DestinationError(
        `[tsdlt] [${this.#destination}] ${context.subject} was cancelled before it started. Running the job again may succeed.`,
        {
          code: "DESTINATION_TRANSIENT",
          retryable: true,
          cause: signal?.reason,
          destination: this.#destination,
          loadId: context.loadId,
          jobId: context.jobId,
          table: context.table,
          path: context.path,
        },
      );
    const running = (async () => {
      if (signal?.aborted) throw cancelled();
      let connection: DuckDBConnection | undefined;
      const interrupt = (): void => connection?.interrupt();
      try {
        const statements = await sql();
        if (statements.length === 0) return;
        const tx = this.#loadTransaction;
        if (tx) {
          // inside a load transaction: run on its connection, never open a nested transaction
          if (signal?.aborted) throw cancelled();
          const interruptTx = (): void => tx.interrupt();
          signal?.addEventListener("abort", interruptTx, { once: true });
          try {
            await this.#withLoadSettings(options.bulk, async () => {
              for (const statement of statements) await tx.run(statement);
            });
          } finally {
            signal?.removeEventListener("abort", interruptTx);
          }
          return;
        }
        const c = await openConnection(this.#instance);
        connection = c;
        this.#jobConnections.add(c);
        if (signal?.aborted) throw cancelled();
        signal?.addEventListener("abort", interrupt, { once: true });
        const runAll = async (): Promise<void> => {
          for (const statement of statements) await c.run(statement);
        };
        await this.#withLoadSettings(options.bulk, () =>
          options.transaction ? transaction(c, runAll) : runAll(),
        );
      } catch (cause) {
        if (options.bulk !== undefined) this.#liftDefaultMemoryLimitAfter(cause, context);
        throw toDestinationError(cause, context);
      } finally {
        signal?.removeEventListener("abort", interrupt);
        if (connection) {
          this.#jobConnections.delete(connection);
          connection.closeSync();
        }
      }
    })();
    this.#runningJobs.add(running);
    try {
      await running;
    } finally {
      this.#runningJobs.delete(running);
    }
  }

  /**
   * Runs `work` — a bulk job's statements when `bulk` — with `memory_limit` and `threads` held at
   * {@link DuckDBClientOptions.memoryLimit} and {@link DuckDBClientOptions.loadThreads}.
   *
   * `threads` is held per bulk job. Outside a load transaction the memory limit is too; inside one,
   * the first bulk job holds it until a follow-up job runs or the transaction ends (its jobs run one
   * at a time), so the transaction's inserts stay within the limit throughout. Follow-up SQL (merge,
   * replace) runs with the database's settings: a merge of a large package needs more memory, part of
   * it pinned by the transaction. (Measured on 1M rows: holding `threads` through the commit as well
   * raised the peak RSS by some 100 MB.)
   */
  async #withLoadSettings<T>(bulk: BulkMode | undefined, work: () => Promise<T>): Promise<T> {
    const instance = this.#instance;
    const path = this.databasePath;
    const threads = bulk === undefined ? undefined : this.#loadThreads;
    const withThreads = (): Promise<T> =>
      withHeldSetting(instance, path, "threads", threads, () =>
        withHeldSetting(
          instance,
          path,
          "preserve_insertion_order",
          bulk === "parallel" ? "false" : undefined,
          work,
        ),
      );
    if (this.#loadTransaction !== undefined) {
      if (bulk === undefined) {
        await this.#releaseTransactionMemory();
      } else if (this.#loadMemoryLimit !== undefined) {
        this.#transactionMemory ??= holdSetting(instance, path, "memory_limit", this.#loadMemoryLimit);
        await this.#transactionMemory;
      }
      return withThreads();
    }
    const memoryLimit = bulk !== undefined ? this.#loadMemoryLimit : undefined;
    const held = (): Promise<T> => withHeldSetting(instance, path, "memory_limit", memoryLimit, withThreads);
    if (memoryLimit === undefined) return held();
    // The limit is sized for one insert (and DuckDB parallelizes each insert itself): parallel jobs
    // outside a load transaction take turns under it rather than run out of memory together.
    const turn = this.#bulkTurn.then(held);
    this.#bulkTurn = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  /**
   * Lifts the default memory limit of bulk inserts when `cause` is DuckDB running out of memory under
   * it (a table wider or rows larger than the default allows for): the retry runs without it.
   */
  #liftDefaultMemoryLimitAfter(cause: unknown, context: DuckDBErrorContext): void {
    const limit = this.#loadMemoryLimit;
    if (limit === undefined || !this.#memoryLimitIsDefault) return;
    if (!/Out of Memory/i.test(cause instanceof Error ? cause.message : String(cause))) return;
    this.#loadMemoryLimit = undefined;
    this.#logger.warn(
      `[${this.#destination}] ${context.subject} ran out of memory under the default memory limit of bulk inserts (${limit}); it is lifted for the rest of this load. Set the destination's \`memoryLimit\` to choose one.`,
    );
  }

  /** Releases the memory limit held by the bulk jobs of the running load transaction, if any. */
  async #releaseTransactionMemory(): Promise<void> {
    const held = this.#transactionMemory;
    this.#transactionMemory = undefined;
    if (held !== undefined) await (await held)();
  }

  async #storedSchema(
    by: { readonly schemaName: string } | { readonly versionHash: string },
  ): Promise<Schema | undefined> {
    return this.#exclusive(`Reading schema from \`${this.datasetName}._dlt_version\``, (c) =>
      readStoredSchema(this.#runner(c), this.#dialect, this.datasetName, by),
    );
  }

  /** The queries of `@tsdlt/sql`'s shared system-table logic, run on `c`. */
  #runner(c: DuckDBConnection): SqlRunner {
    return {
      rows: (query) => this.#rows(c, query),
      exec: async (query) => {
        await c.run(query.sql, query.params.length > 0 ? this.#params(query.params) : undefined);
      },
    };
  }

  async #storageColumns(
    c: DuckDBConnection,
    tables?: readonly string[],
    dataset: string = this.datasetName,
  ): Promise<StorageColumns> {
    return toStorageColumns(await this.#rows(c, storageColumnsQuery(this.#dialect, dataset, tables)));
  }

  async #datasetExists(c: DuckDBConnection, dataset: string = this.datasetName): Promise<boolean> {
    return (await this.#rows(c, datasetExistsQuery(this.#dialect, dataset))).length > 0;
  }

  async #hasSchemaVersion(c: DuckDBConnection, versionHash: string): Promise<boolean> {
    return (
      (await this.#rows(c, schemaVersionExistsQuery(this.#dialect, this.datasetName, versionHash))).length > 0
    );
  }

  async #rows(c: DuckDBConnection, query: SqlQuery): Promise<DuckDBRow[]> {
    const params = query.params.length > 0 ? this.#params(query.params) : undefined;
    const reader = await c.runAndReadAll(query.sql, params);
    return reader.convertRowObjects(this.#converter);
  }

  /** JS values → DuckDB values: `Date` → TIMESTAMPTZ, `Uint8Array` → BLOB, the rest as is. */
  #params(params: readonly unknown[]): DuckDBValue[] {
    return params.map((value) => {
      if (value === undefined) return null;
      if (value instanceof Date) return this.#api.timestampTZValue(BigInt(value.getTime()) * 1000n);
      if (value instanceof Uint8Array) return this.#api.blobValue(value);
      return value as DuckDBValue;
    });
  }
}

/**
 * The current catalog when one of `datasets` is named like a catalog of the connection (case-insensitive,
 * as DuckDB resolves names): `"ref"."users"` is then ambiguous between catalog `ref` and schema `ref`, and
 * table names must carry the catalog. `undefined` when two-part names are unambiguous.
 */
async function ambiguousCatalog(
  connection: DuckDBConnection,
  datasets: readonly string[],
): Promise<string | undefined> {
  const reader = await connection.runAndReadAll(
    "SELECT current_database() AS current_catalog, database_name FROM duckdb_databases()",
  );
  const rows = reader.getRowObjects();
  const catalogs = new Set(rows.map((r) => String(r.database_name).toLowerCase()));
  if (!datasets.some((d) => catalogs.has(d.toLowerCase()))) return undefined;
  const current = rows[0]?.current_catalog;
  return current === undefined || current === null ? undefined : String(current);
}

/** Opens a connection with the session time zone set to UTC (naive timestamps mean UTC). */
async function openConnection(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    return connection;
  } catch (cause) {
    connection.closeSync();
    throw cause;
  }
}

/**
 * Runs `work` in a transaction on `c`; on a connection already in a transaction (`nested`, the load
 * transaction) it just runs, as DuckDB has no savepoints: a failure there rolls the whole load back.
 */
async function transaction(c: DuckDBConnection, work: () => Promise<void>, nested = false): Promise<void> {
  if (nested) return work();
  await c.run("BEGIN TRANSACTION");
  try {
    await work();
    await c.run("COMMIT");
  } catch (cause) {
    await c.run("ROLLBACK").catch(noop);
    throw cause;
  }
}

/** DuckDB values → plain JS, as documented on {@link DuckDBClient.query}. */
function createRowConverter(api: DuckDBModule): DuckDBValueConverter<unknown> {
  const T = api.DuckDBTypeId;
  const exact = new Set<number>([T.DECIMAL, T.DATE, T.TIME, T.TIME_NS, T.TIME_TZ, T.INTERVAL]);
  const timestamps = new Set<number>([
    T.TIMESTAMP,
    T.TIMESTAMP_TZ,
    T.TIMESTAMP_S,
    T.TIMESTAMP_MS,
    T.TIMESTAMP_NS,
  ]);
  const convert: DuckDBValueConverter<unknown> = (value: DuckDBValue, type: DuckDBType, converter) => {
    if (value === null) return null;
    if (exact.has(type.typeId)) return String(value);
    if (type.typeId === T.BLOB && value instanceof api.DuckDBBlobValue) return new Uint8Array(value.bytes);
    if (timestamps.has(type.typeId) && (value as { isFinite?: boolean }).isFinite === false)
      return String(value);
    return api.JSDuckDBValueConverter(value, type, converter as DuckDBValueConverter<JS>);
  };
  return convert;
}
