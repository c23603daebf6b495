/**
 * The Postgres destination client: one database, one dataset (a Postgres schema), one dlt schema, one
 * `pg.Pool` of its own.
 *
 * Maps to: dataset → `CREATE SCHEMA`, tables → `"<dataset>"."<table>"` (identifiers lower-cased, at
 * most 63 bytes: the pipeline's naming convention shortens longer names), schema evolution → new
 * tables and new columns only (one multi-column `ALTER TABLE` per table), job files → one
 * `COPY ... FROM STDIN (FORMAT csv)` each, streamed from the file: `csv` job files (the default) byte
 * for byte, with the header line as the column list (`csv-load.ts`); `jsonl` job files converted to CSV
 * records on the fly (`copy-load.ts`).
 *
 * Staging and follow-ups: merge tables and replace tables load into the staging dataset
 * `<dataset>_staging` ({@link WithStagingDataset}); once a table chain is loaded, its follow-up job
 * (merge / replace SQL from `@tsdlt/sql`, stored as a `.sql` job file) runs in one transaction. The
 * `staging-optimized` replace moves each staging table into the dataset (`ALTER TABLE ... SET SCHEMA`)
 * instead of copying its rows.
 *
 * Staged files (`pipeline({ staging: "filesystem" })`): a `.reference` job streams the staged `jsonl`
 * (default) or `csv` file from the staging filesystem — a local folder or `s3://` — into the same
 * `COPY ... FROM STDIN` (`staged-load.ts`); Postgres itself never reads the bucket.
 *
 * Does not support: loader formats other than `csv` and `jsonl` (`insert_values`, `parquet` job files),
 * dropping or retyping columns, geometry columns (`x-postgres-geometry`), client encodings other than
 * UTF-8 (`client_encoding` in the credentials is ignored: `pg` speaks UTF-8 only), query parameters of
 * the connection string other than `sslmode` (`require` → TLS without certificate check, `verify-ca`
 * / `verify-full` → verified TLS, `disable` / `allow` / `prefer` → no TLS), `application_name` and
 * `options`.
 *
 * Transactions and locking: every connection runs with `TimeZone=UTC`. Schema migration (DDL and the
 * `_dlt_version` row) is one transaction. With {@link WithLoadTransaction} (used by the load stage
 * unless `raiseOnFailedJobs` is off) every `COPY`, every follow-up job and the `_dlt_loads` row of a
 * package run on one connection in one transaction, so a package is visible completely or not at all;
 * when the outcome of its `COMMIT` is unknown (the connection broke), the client asks `_dlt_loads` on a
 * new connection before reporting. Outside a load transaction each job runs on a pooled connection of
 * its own (a `COPY` autocommits; a follow-up job is one transaction), so jobs run in parallel. An
 * aborted job has its statement cancelled (`pg_cancel_backend`). Inside a load transaction, migration,
 * `dropTables` and truncation run on it too (in savepoints), so a `refresh` drop commits with the new
 * data or not at all. `TRUNCATE`, `ALTER TABLE` and the
 * staging-optimized swap take `ACCESS EXCLUSIVE` locks: readers of those tables wait until the
 * transaction ends.
 */
import { readFile, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import {
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
  type PostgresCredentials,
  REFERENCE_FILE_FORMAT,
  type Schema,
  type SchemaUpdateResult,
  type StoredStateRow,
  silentLogger,
  stagingDatasetName,
  type TableChain,
  type TableSchema,
  VERSION_TABLE_NAME,
  type WithDropTables,
  type WithLoadTransaction,
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
} from "@tsdlt/sql";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { copyPlan, csvRecords, JsonlSyntaxError, openJobFile } from "./copy-load.js";
import { csvCopySql } from "./csv-load.js";
import { postgresDialect } from "./postgres-dialect.js";
import {
  classifyPostgresError,
  connectionError,
  type PostgresEndpoint,
  type PostgresErrorContext,
  toDestinationError,
} from "./postgres-errors.js";
import { openStagedFile, stagedCsvCopySql, stagedLoadProblem } from "./staged-load.js";

/** Where and for whom a {@link PostgresClient} connects. */
export interface PostgresClientOptions {
  readonly schema: Schema;
  readonly context: DestinationContext;
  readonly credentials: PostgresCredentials;
  /** Name used in messages (the destination name). @default "postgres" */
  readonly destinationName?: string;
  /** The SQL dialect (e.g. without `UNIQUE` constraints). @default {@link postgresDialect} */
  readonly dialect?: SqlDialect;
  /** Most connections the client's pool opens. @default 10 */
  readonly poolSize?: number;
}

/** A row of {@link PostgresClient.query}. */
export type PostgresRow = Record<string, unknown>;

const noop = (): void => {};

/** A pooled connection lent to one operation, with the error its socket raised while lent, if any. */
interface Lease {
  readonly client: pg.PoolClient;
  broken: Error | undefined;
  readonly onError: (error: Error) => void;
}

/** The connection of a running load transaction, with the queue that serialises its statements. */
interface LoadTransaction {
  readonly lease: Lease;
  readonly loadId: string;
  tail: Promise<void>;
  /** `UNIQUE` constraints of tables this transaction created, added once their rows are in. */
  readonly deferred: { readonly table: string; readonly sql: string }[];
}

/** What `pg` hands out for the types whose default parsing loses information or differs from DuckDB's client. */
const INT8_OID = 20;
const BYTEA_OID = 17;
const DATE_OID = 1082;
const TIMESTAMP_OID = 1114;
const TIMESTAMPTZ_OID = 1184;
const INTERVAL_OID = 1186;
const JSON_OID = 114;
const JSONB_OID = 3802;

const identity = (value: string): string => value;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, "text") as (value: string) => unknown;
const parseBytea = pg.types.getTypeParser(BYTEA_OID, "text") as (value: string) => Buffer;

/** Value parsing as documented on {@link PostgresClient.query}. */
const TYPE_PARSERS = {
  getTypeParser(oid: number, format?: "text" | "binary"): (value: string) => unknown {
    if (format === "binary") return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
    switch (oid) {
      case INT8_OID:
        return (value: string) => BigInt(value);
      case DATE_OID:
      case INTERVAL_OID:
      case JSON_OID:
      case JSONB_OID:
        return identity;
      case BYTEA_OID:
        return (value: string) => new Uint8Array(parseBytea(value));
      case TIMESTAMPTZ_OID:
        return (value: string) => (/infinity$/.test(value) ? value : parseTimestamptz(value));
      case TIMESTAMP_OID:
        // naive timestamps are UTC wall times (every tsdlt session runs with TimeZone=UTC)
        return (value: string) => (/infinity$/.test(value) ? value : parseTimestamptz(`${value}+00`));
      default:
        return pg.types.getTypeParser(oid, "text") as (value: string) => unknown;
    }
  },
};

/** `pg` settings derived from the credentials' `sslmode`. */
function sslOf(mode: string | undefined): pg.ClientConfig["ssl"] {
  switch (mode) {
    case undefined:
    case "disable":
    case "allow":
    case "prefer":
      return undefined;
    case "require":
      return { rejectUnauthorized: false };
    default:
      return true;
  }
}

/** The `pg` pool configuration of `credentials` (the password travels only here). */
function poolConfig(credentials: PostgresCredentials, poolSize: number): pg.PoolConfig {
  const query = credentials.query;
  const timeoutMs = credentials.connectTimeout * 1000;
  // The timeout applies to opening a connection only: a pool-level `connectionTimeoutMillis` would
  // also fail operations queued behind busy connections.
  class TimedClient extends pg.Client {
    constructor(config: pg.ClientConfig) {
      // pg-pool keeps `password` non-enumerable, so a spread alone would drop it
      super({ ...config, password: config.password, connectionTimeoutMillis: timeoutMs });
    }
  }
  const ssl = sslOf(query.sslmode);
  return {
    host: credentials.host,
    port: credentials.port,
    database: credentials.database,
    user: credentials.username,
    password: credentials.password,
    application_name: query.application_name ?? "tsdlt",
    options: `-c TimeZone=UTC -c client_encoding=UTF8${query.options ? ` ${query.options}` : ""}`,
    types: TYPE_PARSERS as unknown as pg.CustomTypesConfig,
    max: poolSize,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    Client: TimedClient as unknown as new () => pg.ClientBase,
    ...(ssl === undefined ? {} : { ssl }),
  };
}

/**
 * A {@link DestinationClient} for Postgres with state sync ({@link WithStateSync}), SQL access
 * ({@link WithSqlClient}), a staging dataset ({@link WithStagingDataset}), table-chain follow-up jobs
 * ({@link WithTableChainFollowupJobs}) and exactly-once packages ({@link WithLoadTransaction}).
 * Create it with `postgres().createClient(schema, context)` or {@link PostgresClient.open}; no
 * connection is opened until the first operation. Dispose it (`await using`) to close its pool.
 */
export class PostgresClient
  implements
    DestinationClient,
    WithStateSync,
    WithSqlClient,
    WithStagingDataset,
    WithTableChainFollowupJobs,
    WithLoadTransaction,
    WithDropTables
{
  readonly capabilities: DestinationCapabilities;
  /** The dlt schema this client migrates to and loads. */
  readonly schema: Schema;
  /** The Postgres schema holding the tables. */
  readonly datasetName: string;
  /** The Postgres schema holding the staging copies of merge and replace tables (`<dataset>_staging`). */
  readonly stagingDatasetName: string;
  /** Where the client connects (no password). */
  readonly endpoint: PostgresEndpoint;
  readonly #destination: string;
  readonly #dialect: SqlDialect;
  readonly #logger: Logger;
  readonly #pool: pg.Pool;
  readonly #runningJobs = new Set<Promise<void>>();
  /** Backend process ids of statements running for jobs outside a load transaction (cancelled on dispose). */
  readonly #busyBackends = new Set<number>();
  #loadTransaction: LoadTransaction | undefined;
  #disposed = false;

  private constructor(options: PostgresClientOptions) {
    this.schema = options.schema;
    this.#dialect = options.dialect ?? postgresDialect;
    this.capabilities = this.#dialect.capabilities;
    this.datasetName = options.context.datasetName;
    this.stagingDatasetName = stagingDatasetName(this.datasetName);
    this.#destination = options.destinationName ?? this.#dialect.name;
    this.#logger = options.context.logger ?? silentLogger;
    const credentials = options.credentials;
    this.endpoint = Object.freeze({
      host: credentials.host,
      port: credentials.port,
      database: credentials.database,
      username: credentials.username,
      connectTimeout: credentials.connectTimeout,
    });
    this.#pool = new pg.Pool(poolConfig(credentials, options.poolSize ?? 10));
    // an idle connection that breaks (server restart) must not crash the process
    this.#pool.on("error", (error) => {
      this.#logger.warn(
        `[tsdlt] [${this.#destination}] An idle connection to Postgres failed and was closed: ${classifyPostgresError(error).message}.`,
      );
    });
  }

  /** Creates a client; its pool opens connections on first use. */
  static async open(options: PostgresClientOptions): Promise<PostgresClient> {
    return new PostgresClient(options);
  }

  // ---------------------------------------------------------------------------------------------
  // DestinationClient

  /** Creates the dataset and `_dlt_version` / `_dlt_loads` if missing; empties `truncateTables` that exist. */
  async initializeStorage(options: { truncateTables?: readonly string[] } = {}): Promise<void> {
    await this.#withConnection(`Initializing dataset \`${this.datasetName}\``, async (c) => {
      // checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists
      const exists = await this.#datasetExists(c);
      await this.#transaction(c, async () => {
        if (!exists)
          await this.#run(c, createDatasetSql(this.#dialect, this.datasetName, { ifNotExists: true }));
        for (const table of [
          systemTableOf(this.schema, VERSION_TABLE_NAME),
          systemTableOf(this.schema, LOADS_TABLE_NAME),
        ]) {
          const columns = Object.values(table.columns).filter(isCompleteColumn);
          await this.#run(
            c,
            createTableSql(this.#dialect, this.datasetName, table, columns, { ifNotExists: true }),
          );
        }
        const truncate = options.truncateTables ?? [];
        if (truncate.length === 0) return;
        const existing = storedTableNames(await this.#storageColumns(c, truncate));
        for (const name of truncate) {
          if (existing.has(name.toLowerCase()))
            await this.#run(c, truncateTableSql(this.#dialect, this.datasetName, name));
        }
      });
    });
  }

  /** True when the dataset (Postgres schema) exists in the database. */
  async isStorageInitialized(): Promise<boolean> {
    return this.#withConnection(`Checking dataset \`${this.datasetName}\``, (c) => this.#datasetExists(c));
  }

  /**
   * Migrates the dataset to the client's schema unless `_dlt_version` already holds its version hash:
   * creates missing tables, adds missing columns (one `ALTER TABLE` per table), and inserts the
   * `_dlt_version` row, all in one transaction. `statements` lists the DDL (not the `_dlt_version`
   * insert). `_dlt_version` and `_dlt_loads` are always considered, whatever `onlyTables` says.
   */
  async updateStoredSchema(options: { onlyTables?: readonly string[] } = {}): Promise<SchemaUpdateResult> {
    return this.#withConnection(
      `Migrating dataset \`${this.datasetName}\` to schema \`${this.schema.name}\``,
      async (c, inLoadTransaction) => {
        const storage = await this.#storageColumns(c);
        const tables = storedTableNames(storage);
        if (tables.has(VERSION_TABLE_NAME) && (await this.#hasSchemaVersion(c, this.schema.versionHash))) {
          return { tables: {}, statements: [] };
        }
        // a table created inside the load transaction is invisible to others until the commit: it
        // gets its UNIQUE constraints after the bulk load (one index build instead of 3M index inserts)
        const tx = inLoadTransaction ? this.#loadTransaction : undefined;
        const onlyTables = options.onlyTables && [
          VERSION_TABLE_NAME,
          LOADS_TABLE_NAME,
          ...options.onlyTables,
        ];
        const plan = schemaUpdateSql(this.#dialect, this.datasetName, this.schema, storage, {
          ...(onlyTables ? { onlyTables } : {}),
          deferUnique: tx !== undefined,
        });
        for (const warning of plan.warnings) this.#logger.warn(warning);
        const statements =
          tables.size === 0 && !(await this.#datasetExists(c))
            ? [createDatasetSql(this.#dialect, this.datasetName, { ifNotExists: true }), ...plan.statements]
            : plan.statements;
        const version = insertVersionQuery(this.#dialect, this.datasetName, this.schema);
        await this.#transaction(c, async () => {
          for (const sql of statements) await this.#run(c, sql);
          await this.#run(c, version.sql, version.params);
        });
        tx?.deferred.push(...plan.deferred);
        return { tables: plan.tables, statements: [...statements, ...plan.deferred.map((d) => d.sql)] };
      },
    );
  }

  /**
   * Drops `tables` that exist, in the dataset and in the staging dataset, and with `deleteSchema`
   * (default) deletes every stored version of the client's schema from `_dlt_version`, in one
   * transaction — inside the load transaction when one is running, so the drop commits with the new
   * data or not at all.
   */
  async dropTables(
    tables: readonly string[],
    options: { readonly deleteSchema?: boolean } = {},
  ): Promise<void> {
    await this.#withConnection(
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
   * A job that loads one `csv` or `jsonl` file into `table` with `COPY ... FROM STDIN`, or runs a
   * `.sql` follow-up job file (one statement per line, in one transaction). A `csv` file's header names
   * the columns it loads, each of which must be a complete column of `table` (else the job fails
   * terminally naming it), and its bytes are sent as they are. Other formats fail here with a terminal
   * {@link DestinationError}. An empty file (or a `csv` file holding only its header) loads nothing;
   * `run(signal)` cancels the running statement on abort.
   */
  async createLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob> {
    return this.#createJob(table, job, loadId, this.datasetName);
  }

  /** Like {@link PostgresClient.createLoadJob}, into the staging copy of `table` (`csv` and `jsonl` files). */
  async createStagingLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob> {
    return this.#createJob(table, job, loadId, this.stagingDatasetName);
  }

  async #createJob(table: TableSchema, job: LoadJobFile, loadId: string, dataset: string): Promise<LoadJob> {
    this.#assertOpen();
    const staging = dataset === this.stagingDatasetName;
    const { jobId, context, terminal } = loadJobContext(this.#destination, table, job, loadId, staging);
    if (job.parsed.fileFormat === "sql" && !staging) {
      const sqlContext: PostgresErrorContext = {
        ...context,
        consequence: {
          terminal: `The transaction was rolled back: table \`${table.name}\` and its nested tables keep their previous rows.`,
          retryable: "The transaction was rolled back; running the job again may succeed.",
        },
      };
      return {
        jobId,
        run: (signal?: AbortSignal) =>
          this.#runJob(sqlContext, signal, async (c, inLoadTransaction) => {
            const statements = parseSqlJobText(await readFile(job.path, "utf8"));
            if (statements.length === 0) return;
            const runAll = async (): Promise<void> => {
              for (const statement of statements) await this.#run(c, statement);
            };
            // inside a load transaction a failing statement rolls back the whole package anyway
            await (inLoadTransaction ? runAll() : this.#transaction(c, runAll));
          }),
      };
    }
    if (job.parsed.fileFormat === REFERENCE_FILE_FORMAT) {
      const staged = job.staged;
      if (staged === undefined) {
        throw terminal(
          "the reference job came without its staged file; reference jobs load through the load stage with a staging destination",
        );
      }
      const problem = stagedLoadProblem(table, staged);
      if (problem !== undefined) throw terminal(problem);
      if (!Object.values(table.columns).some(isCompleteColumn)) {
        throw terminal(`table \`${table.name}\` has no complete columns to load`);
      }
      const stagedContext = { ...context, path: staged.url };
      if (staged.fileFormat === "csv") {
        const sql = stagedCsvCopySql(this.#dialect, dataset, table);
        return {
          jobId,
          run: (signal?: AbortSignal) =>
            this.#runJob(stagedContext, signal, async (c) => {
              const copy = c.client.query(copyFrom(sql));
              await pipeline(await openStagedFile(staged), copy, { ...(signal ? { signal } : {}) });
            }),
        };
      }
      const stagedPlan = copyPlan(this.#dialect, dataset, table);
      return {
        jobId,
        run: (signal?: AbortSignal) =>
          this.#runJob(stagedContext, signal, async (c) => {
            const copy = c.client.query(copyFrom(stagedPlan.sql));
            await pipeline(await openStagedFile(staged), (source) => csvRecords(source, stagedPlan), copy, {
              ...(signal ? { signal } : {}),
            });
          }),
      };
    }
    if (job.parsed.fileFormat === "csv") {
      return {
        jobId,
        run: (signal?: AbortSignal) =>
          this.#runJob(context, signal, async (c) => {
            let header: string[];
            try {
              header = await readCsvJobHeader(job.path, table);
            } catch (cause) {
              throw terminal(`the csv job file cannot load: ${(cause as Error).message}`);
            }
            if (header.length === 0) return;
            const copy = c.client.query(copyFrom(csvCopySql(this.#dialect, dataset, table, header)));
            await pipeline(await openJobFile(job.path), copy, { ...(signal ? { signal } : {}) });
          }),
      };
    }
    if (job.parsed.fileFormat !== "jsonl") {
      throw terminal(
        `Postgres loads \`csv\` and \`jsonl\` job files, not \`${job.parsed.fileFormat}\`; normalize with \`loaderFileFormat: "csv"\` (the default) or \`"jsonl"\``,
      );
    }
    if (!Object.values(table.columns).some(isCompleteColumn)) {
      throw terminal(`table \`${table.name}\` has no complete columns to load`);
    }
    const plan = copyPlan(this.#dialect, dataset, table);
    return {
      jobId,
      run: (signal?: AbortSignal) =>
        this.#runJob(context, signal, async (c) => {
          if ((await stat(job.path)).size === 0) return;
          const copy = c.client.query(copyFrom(plan.sql));
          await pipeline(await openJobFile(job.path), (source) => csvRecords(source, plan), copy, {
            ...(signal ? { signal } : {}),
          });
        }),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // WithStagingDataset, WithTableChainFollowupJobs

  /**
   * Creates the staging dataset if missing, creates or alters `tables` there to the client's schema
   * (without `UNIQUE` constraints and without a `_dlt_version` row), and empties `truncateTables`, all
   * in one transaction.
   */
  async initializeStagingDataset(options: {
    readonly tables: readonly string[];
    readonly truncateTables: readonly string[];
  }): Promise<SchemaUpdateResult> {
    const dataset = this.stagingDatasetName;
    return this.#withConnection(`Preparing staging dataset \`${dataset}\``, async (c) => {
      const storage = await this.#storageColumns(c, undefined, dataset);
      const plan = schemaUpdateSql(stagingDialect(this.#dialect), dataset, this.schema, storage, {
        onlyTables: options.tables,
      });
      // like dlt, the staging dataset also carries `_dlt_version` (never written to)
      const version = systemTableOf(this.schema, VERSION_TABLE_NAME);
      const statements = [
        ...((await this.#datasetExists(c, dataset))
          ? []
          : [createDatasetSql(this.#dialect, dataset, { ifNotExists: true })]),
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
        for (const sql of statements) await this.#run(c, sql);
        for (const name of options.truncateTables) {
          if (existing.has(name.toLowerCase()))
            await this.#run(c, truncateTableSql(this.#dialect, dataset, name));
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
    await this.#withConnection(
      `Completing load \`${loadId}\``,
      async (c) => {
        await this.#run(c, query.sql, query.params);
      },
      query.params,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // WithLoadTransaction

  /**
   * The load stage migrates inside the load transaction: tables a package creates commit with its
   * rows, and get their `UNIQUE` constraints after the `COPY` (`postgres-1m` bench, 3M table rows:
   * the load took ~9 s instead of ~20 s with the indexes maintained row by row).
   */
  readonly migrateInLoadTransaction = true;

  /**
   * Runs `fn` — the jobs, follow-up jobs and `completeLoad` of one package — in one transaction on one
   * connection: the package's rows and its `_dlt_loads` row commit together or not at all. Everything
   * the client is asked to do while `fn` runs executes on that connection, one statement at a time.
   * When the connection breaks during `COMMIT`, `_dlt_loads` is read on a new connection: a committed
   * package is reported as done; when that cannot be decided the error is terminal, so the package
   * stays pending and the next run (which checks {@link PostgresClient.isLoadCompleted} first) decides.
   */
  async runInLoadTransaction<T>(loadId: string, fn: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    if (this.#loadTransaction) {
      throw new DestinationError(
        `[tsdlt] [${this.#destination}] A load transaction is already running on this client.`,
        { code: "DESTINATION_TERMINAL", destination: this.#destination, loadId },
      );
    }
    const subject = `The load transaction of \`${loadId}\``;
    const lease = await this.#acquire();
    try {
      await lease.client.query("BEGIN");
    } catch (cause) {
      this.#release(lease, cause);
      throw toDestinationError(cause, { destination: this.#destination, subject, loadId });
    }
    const tx: LoadTransaction = { lease, loadId, tail: Promise.resolve(), deferred: [] };
    this.#loadTransaction = tx;
    let result: T;
    try {
      try {
        result = await fn();
        await tx.tail;
        await this.#addDeferredConstraints(tx);
      } catch (error) {
        const native = (error as { cause?: unknown }).cause ?? error;
        if (isConnectionLoss(native)) lease.broken ??= native as Error;
        else await lease.client.query("ROLLBACK").catch(noop);
        throw error;
      }
      try {
        await lease.client.query("COMMIT");
      } catch (cause) {
        lease.broken ??= isConnectionLoss(cause) ? (cause as Error) : undefined;
        const outcome = await this.#commitFailure(cause, loadId, subject);
        if (outcome === "committed") return result;
        throw outcome;
      }
      return result;
    } finally {
      this.#loadTransaction = undefined;
      this.#release(lease);
    }
  }

  /** What a failed `COMMIT` means: done (the `_dlt_loads` row exists), not done, or unknown. */
  async #commitFailure(
    cause: unknown,
    loadId: string,
    subject: string,
  ): Promise<"committed" | DestinationError> {
    const error = toDestinationError(cause, {
      destination: this.#destination,
      subject,
      loadId,
      consequence: { terminal: "Nothing was committed.", retryable: "Nothing was committed." },
    });
    if (!isConnectionLoss(cause)) return error;
    try {
      if (await this.#loadRecorded(loadId)) {
        this.#logger.warn(
          `[tsdlt] [${this.#destination}] The connection broke during the COMMIT of load \`${loadId}\`, which committed nonetheless.`,
        );
        return "committed";
      }
      return error;
    } catch {
      return new DestinationError(
        `[tsdlt] [${this.#destination}] The connection broke during the COMMIT of load \`${loadId}\` and whether it committed cannot be read now: ${classifyPostgresError(cause).message}. The package stays pending; the next run checks \`_dlt_loads\` and loads it only if it did not commit.`,
        { code: "DESTINATION_TERMINAL", retryable: false, cause, destination: this.#destination, loadId },
      );
    }
  }

  /** True when `_dlt_loads` holds `loadId` (its package committed). */
  async isLoadCompleted(loadId: string): Promise<boolean> {
    return this.#withConnection(`Checking load \`${loadId}\``, (c) => this.#loadRecordedOn(c, loadId), [
      loadId,
    ]);
  }

  async #loadRecorded(loadId: string): Promise<boolean> {
    const lease = await this.#acquire();
    try {
      return await this.#loadRecordedOn(lease, loadId);
    } finally {
      this.#release(lease);
    }
  }

  async #loadRecordedOn(c: Lease, loadId: string): Promise<boolean> {
    const tables = storedTableNames(await this.#storageColumns(c, [LOADS_TABLE_NAME]));
    if (!tables.has(LOADS_TABLE_NAME)) return false;
    const rows = await this.#rows(c, {
      sql: `SELECT 1 AS found FROM ${qualifiedTableName(this.#dialect, this.datasetName, LOADS_TABLE_NAME)} WHERE load_id = $1 LIMIT 1`,
      params: [loadId],
    });
    return rows.length > 0;
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
    return this.#withConnection(`Reading the state of pipeline \`${pipelineName}\``, (c) =>
      readStoredState(this.#runner(c), this.#dialect, this.datasetName, pipelineName),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // WithSqlClient

  /**
   * Runs SQL (`$1`-style placeholders) and returns the rows as plain objects. Values, as the DuckDB
   * client returns them: `boolean`; `smallint`/`integer`/`real`/`double precision` → number; `bigint`
   * → **bigint**; `numeric`, `date` (`YYYY-MM-DD`), `time`, `interval` → string (exact); `timestamp`
   * and `timestamptz` → `Date` (millisecond precision, naive values read as UTC; infinities as
   * strings); `varchar`/`text` and `json`/`jsonb` → string (JSON text, not parsed); `bytea` →
   * `Uint8Array`; arrays → arrays. Parameters may be `string`, `number`, `bigint`, `boolean`, `null`,
   * `Date` (sent as ISO 8601 UTC) or `Uint8Array`. Without parameters the text may hold several
   * statements; the rows are those of the last.
   */
  async query(sql: string, params?: readonly unknown[]): Promise<PostgresRow[]> {
    return this.#withConnection(
      "Query",
      (c) => this.#rows(c, { sql, params: (params ?? []) as SqlQuery["params"] }),
      params,
    );
  }

  /** `"<dataset>"."<table>"`. */
  qualifiedTableName(table: string): string {
    return qualifiedTableName(this.#dialect, this.datasetName, table);
  }

  /** The identifier as created in the database: lower-cased. */
  casefoldIdentifier(identifier: string): string {
    return this.#dialect.casefoldIdentifier(identifier);
  }

  // ---------------------------------------------------------------------------------------------
  // lifecycle

  /**
   * Cancels the statements of running jobs and waits for them, then closes every connection of the
   * pool. Idempotent.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all([...this.#busyBackends].map((pid) => this.#cancelBackend(pid)));
    await Promise.allSettled(this.#runningJobs);
    await this.#pool.end();
  }

  // ---------------------------------------------------------------------------------------------
  // internals

  #assertOpen(): void {
    if (this.#disposed) {
      throw new DestinationError(
        `[tsdlt] [${this.#destination}] The client of database \`${this.endpoint.database}\` was used after it was disposed. Create a new client.`,
        { code: "CLIENT_DISPOSED", destination: this.#destination },
      );
    }
  }

  /** A pooled connection; failures to connect name host, port, database and user. */
  async #acquire(): Promise<Lease> {
    let client: pg.PoolClient;
    const started = Date.now();
    try {
      client = await this.#pool.connect();
    } catch (cause) {
      const limit = this.endpoint.connectTimeout * 1000;
      const timedOut = limit > 0 && Date.now() - started >= limit - 50;
      throw connectionError(cause, this.endpoint, this.#destination, { timedOut });
    }
    const lease: Lease = {
      client,
      broken: undefined,
      onError: (error: Error) => {
        lease.broken = error;
      },
    };
    // a lent connection whose socket fails emits `error`; without a listener the process would crash
    client.on("error", lease.onError);
    return lease;
  }

  /** Returns a connection to the pool; a broken one (or one that failed mid-protocol) is closed. */
  #release(lease: Lease, failure?: unknown): void {
    lease.client.removeListener("error", lease.onError);
    const broken = lease.broken ?? (isConnectionLoss(failure) ? (failure as Error) : undefined);
    lease.client.release(broken ?? false);
  }

  /**
   * Runs `work` on the load transaction's connection when one is running (after the work queued
   * before it), else on a pooled connection; native failures become {@link DestinationError}s.
   */
  async #withConnection<T>(
    subject: string,
    work: (c: Lease, inLoadTransaction: boolean) => Promise<T>,
    params?: readonly unknown[],
  ): Promise<T> {
    this.#assertOpen();
    const fail = (cause: unknown): never => {
      if (isTsdltError(cause)) throw cause;
      throw toDestinationError(cause, { destination: this.#destination, subject, params });
    };
    const tx = this.#loadTransaction;
    if (tx) {
      const run = tx.tail.then(() => work(tx.lease, true)).catch(fail);
      tx.tail = run.then(noop, noop);
      return run;
    }
    const lease = await this.#acquire();
    let failure: unknown;
    try {
      return await work(lease, false);
    } catch (cause) {
      failure = cause;
      return fail(cause);
    } finally {
      this.#release(lease, failure);
    }
  }

  /**
   * Runs `work` in a transaction on `c`; on the load transaction's connection, in a savepoint (a
   * `BEGIN` there would be ignored and its `COMMIT` would commit the whole package early).
   */
  async #transaction(c: Lease, work: () => Promise<void>): Promise<void> {
    const nested = this.#loadTransaction?.lease === c;
    await c.client.query(nested ? "SAVEPOINT tsdlt_step" : "BEGIN");
    try {
      await work();
      await c.client.query(nested ? "RELEASE SAVEPOINT tsdlt_step" : "COMMIT");
    } catch (cause) {
      await c.client.query(nested ? "ROLLBACK TO SAVEPOINT tsdlt_step" : "ROLLBACK").catch(noop);
      throw cause;
    }
  }

  async #runJob(
    context: PostgresErrorContext,
    signal: AbortSignal | undefined,
    work: (c: Lease, inLoadTransaction: boolean) => Promise<void>,
  ): Promise<void> {
    this.#assertOpen();
    const cancelled = (): DestinationError =>
      new DestinationError(
        `[tsdlt] [${this.#destination}] ${context.subject} was cancelled. Running the job again may succeed.`,
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
    const fail = (cause: unknown): never => {
      if (signal?.aborted && !isTsdltError(cause)) throw cancelled();
      if (cause instanceof JsonlSyntaxError) {
        throw new DestinationError(
          `[tsdlt] [${this.#destination}] ${context.subject} failed terminally: ${cause.message}. ${context.consequence?.terminal ?? ""}`.trimEnd(),
          {
            code: "DESTINATION_TERMINAL",
            retryable: false,
            cause,
            destination: this.#destination,
            loadId: context.loadId,
            jobId: context.jobId,
            table: context.table,
            path: context.path,
          },
        );
      }
      throw toDestinationError(cause, context);
    };
    const onLease = async (c: Lease, inLoadTransaction: boolean): Promise<void> => {
      if (signal?.aborted) throw cancelled();
      const pid = (c.client as unknown as { processID?: number }).processID;
      const cancel = (): void => {
        if (pid !== undefined) void this.#cancelBackend(pid);
      };
      signal?.addEventListener("abort", cancel, { once: true });
      if (pid !== undefined && !inLoadTransaction) this.#busyBackends.add(pid);
      try {
        await work(c, inLoadTransaction);
      } catch (cause) {
        fail(cause);
      } finally {
        signal?.removeEventListener("abort", cancel);
        if (pid !== undefined) this.#busyBackends.delete(pid);
      }
    };
    const running = (async () => {
      if (signal?.aborted) throw cancelled();
      const tx = this.#loadTransaction;
      if (tx) {
        const run = tx.tail.then(() => onLease(tx.lease, true));
        tx.tail = run.then(noop, noop);
        return run;
      }
      const lease = await this.#acquire().catch(fail);
      let failure: unknown;
      try {
        await onLease(lease, false);
      } catch (cause) {
        failure = (cause as { cause?: unknown }).cause ?? cause;
        throw cause;
      } finally {
        this.#release(lease, failure);
      }
    })();
    this.#runningJobs.add(running);
    try {
      await running;
    } finally {
      this.#runningJobs.delete(running);
    }
  }

  /** Asks the server to cancel the statement running in backend `pid` (best effort). */
  async #cancelBackend(pid: number): Promise<void> {
    try {
      await this.#pool.query("SELECT pg_cancel_backend($1)", [pid]);
    } catch {
      // the statement ends anyway when its connection closes
    }
  }

  async #storedSchema(
    by: { readonly schemaName: string } | { readonly versionHash: string },
  ): Promise<Schema | undefined> {
    return this.#withConnection(`Reading schema from \`${this.datasetName}._dlt_version\``, (c) =>
      readStoredSchema(this.#runner(c), this.#dialect, this.datasetName, by),
    );
  }

  /** The queries of `@tsdlt/sql`'s shared system-table logic, run on `c`. */
  #runner(c: Lease): SqlRunner {
    return {
      rows: (query) => this.#rows(c, query),
      exec: async (query) => {
        await this.#run(c, query.sql, query.params.length > 0 ? query.params : undefined);
      },
    };
  }

  async #storageColumns(
    c: Lease,
    tables?: readonly string[],
    dataset: string = this.datasetName,
  ): Promise<StorageColumns> {
    return toStorageColumns(await this.#rows(c, storageColumnsQuery(this.#dialect, dataset, tables)));
  }

  async #datasetExists(c: Lease, dataset: string = this.datasetName): Promise<boolean> {
    return (await this.#rows(c, datasetExistsQuery(this.#dialect, dataset))).length > 0;
  }

  async #hasSchemaVersion(c: Lease, versionHash: string): Promise<boolean> {
    return (
      (await this.#rows(c, schemaVersionExistsQuery(this.#dialect, this.datasetName, versionHash))).length > 0
    );
  }

  /**
   * Adds the `UNIQUE` constraints deferred by migrations inside `tx`, before its commit. A duplicate
   * fails the transaction with Postgres' message, which names the constraint and the duplicated key.
   */
  async #addDeferredConstraints(tx: LoadTransaction): Promise<void> {
    for (const { table, sql } of tx.deferred) {
      try {
        await this.#run(tx.lease, sql);
      } catch (cause) {
        throw toDestinationError(cause, {
          destination: this.#destination,
          subject: `Adding the UNIQUE constraints of table \`${table}\` after loading load \`${tx.loadId}\``,
          loadId: tx.loadId,
          table,
        });
      }
    }
  }

  async #run(c: Lease, sql: string, params?: readonly unknown[]): Promise<void> {
    await c.client.query(sql, params === undefined ? undefined : toPgParams(params));
  }

  async #rows(c: Lease, query: SqlQuery): Promise<PostgresRow[]> {
    const result = (await c.client.query(
      query.sql,
      query.params.length > 0 ? toPgParams(query.params) : undefined,
    )) as pg.QueryResult<PostgresRow> | pg.QueryResult<PostgresRow>[];
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    return last?.rows ?? [];
  }
}

/** Parameters as `pg` takes them: `Date` → ISO 8601 UTC text, `undefined` → NULL. */
function toPgParams(params: readonly unknown[]): unknown[] {
  return params.map((value) => {
    if (value === undefined) return null;
    if (value instanceof Date) return value.toISOString();
    return value;
  });
}

/** True when `cause` means the connection itself is gone (so it must not return to the pool). */
function isConnectionLoss(cause: unknown): boolean {
  if (cause === undefined || cause === null) return false;
  const verdict = classifyPostgresError(cause);
  return (
    verdict.reason === "connection" || (verdict.reason === "server_unavailable" && verdict.code !== "57014")
  );
}
