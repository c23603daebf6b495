/**
 * The DuckDB destination factory (REFERENCE §11.3): an embedded database file per pipeline, datasets
 * as DuckDB schemas, `jsonl` job files bulk-loaded with `read_json`. No I/O happens until
 * `createClient`; see `duckdb-client.ts` for what the client maps to, what it does not support, and
 * its locking and transaction behaviour.
 */
import { availableParallelism } from "node:os";
import { isAbsolute, resolve } from "node:path";
import {
  type Destination,
  type DestinationCapabilities,
  type DestinationContext,
  REPLACE_STRATEGIES,
  type ReplaceStrategy,
  type Schema,
  TsdltError,
} from "@tsdlt/core";
import { DuckDBClient } from "./duckdb-client.js";
import { DESTINATION_NAME, DESTINATION_TYPE, DUCKDB_CAPABILITIES } from "./duckdb-dialect.js";

/** Options of {@link duckdb}. */
export interface DuckDBDestinationOptions {
  /**
   * Where the database lives: a file path (relative paths resolve against the context's `localDir`;
   * a `duckdb:///` prefix is accepted), `":pipeline:"` for `<workingDir>/<pipelineName>.duckdb`, or
   * `":memory:"` for an in-memory database that lives as long as one client (tests only).
   * @default `<localDir>/<destinationName ?? pipelineName>.duckdb`
   */
  readonly credentials?: string;
  /** Name of a named destination; shown to users and used as the default file name. @default "duckdb" */
  readonly destinationName?: string;
  /**
   * How `replace` tables are replaced (dlt's `replace_strategy`). Every strategy loads through the
   * staging dataset and swaps the rows in one transaction, so a failed load keeps the previous rows;
   * `staging-optimized` runs as `insert-from-staging`.
   * @default "truncate-and-insert"
   */
  readonly replaceStrategy?: ReplaceStrategy;
  /**
   * DuckDB's `memory_limit` while a `jsonl` job is bulk-inserted: how much its buffer pool may hold
   * before it spills to `<database>.tmp`. Bulk inserts are as fast with a small pool, and a long load
   * keeps a flat memory profile instead of caching every block it wrote. The database's own limit is
   * restored after each job, so follow-up SQL (merge, replace, which may need more memory) and queries
   * of the loaded data (`pipeline.dataset()`, `sqlClient()`) are not limited. `false` inserts with
   * DuckDB's own limit (80% of the RAM). Not applied to `:memory:` databases, whose data must stay in
   * memory.
   * A bulk insert that runs out of memory under the default limit is retried without it.
   * @default {@link defaultDuckDBMemoryLimit}: 96 MB for tables of up to 32 columns and one load
   * thread, more for wider tables and more threads
   */
  readonly memoryLimit?: string | false;
  /** DuckDB's `threads` for the database. @default DuckDB's (the number of cores) */
  readonly threads?: number;
  /**
   * DuckDB's `threads` while it bulk-loads a job file (`INSERT ... SELECT ... FROM read_json(...)`);
   * restored afterwards. An insert that keeps the row order runs about as fast on one thread as on
   * several (DuckDB writes its row groups one at a time), so one is the default; with
   * `preserveInsertionOrder: false` the threads insert side by side.
   * @default 1, or 2 with `preserveInsertionOrder: false` (1 on a single core)
   */
  readonly loadThreads?: number;
  /**
   * Keep the rows of a table in the order of its job files when they are bulk-loaded (DuckDB's
   * `preserve_insertion_order`, held off only while the insert runs). `false` lets the inserts run on
   * `loadThreads` threads in any order: measured on 2 cores, 1M bench rows (3M table rows) load in
   * ~4.5 s instead of ~8 s, and 10M in 53 s instead of 94 s, but the load peaks some 100–170 MB
   * higher (its default buffer pool is 128 MB instead of 96 MB). dlt loads a table's job files as
   * parallel jobs and keeps no order between them. `SELECT ... ORDER BY` returns the same rows either
   * way.
   * @default true
   */
  readonly preserveInsertionOrder?: boolean;
}

/** Default {@link DuckDBDestinationOptions.loadThreads}: for inserts in order, and in any order. */
const DEFAULT_LOAD_THREADS = 1;
const DEFAULT_PARALLEL_LOAD_THREADS = Math.min(2, availableParallelism());

/**
 * Default {@link DuckDBDestinationOptions.memoryLimit} for bulk inserts on `loadThreads` threads into
 * tables of up to `columns` columns: 64 MB per thread (a thread of `read_json` buffers 32 MB of the
 * file) and 64 MB plus 1 MB per column (the column segments of the row group being built), at least
 * 96 MB. (Measured with one thread: 20 columns load from 64 MB on, 100 columns from 128 MB, 300
 * columns from 192 MB; a load of 1M rows of 20 columns peaks at 240 MB RSS under 64 MB, 300 MB
 * under 96 MB, 350 MB under 128 MB, 840 MB without a limit, at the same speed.)
 */
export function defaultDuckDBMemoryLimit(loadThreads: number, columns = 0): string {
  return `${Math.max(96, 64 * loadThreads, 64 + columns)}MB`;
}

/** The most columns a table of `schema` has. */
function widestTable(schema: Schema): number {
  let widest = 0;
  for (const table of Object.values(schema.tables))
    widest = Math.max(widest, Object.keys(table.columns).length);
  return widest;
}

/** The parts of a {@link DestinationContext} that decide the database path. */
export type DuckDBPathContext = Pick<DestinationContext, "pipelineName" | "workingDir" | "localDir">;

/** A DuckDB {@link Destination} whose clients are {@link DuckDBClient}s. */
export interface DuckDBDestination extends Destination {
  /** The options given to {@link duckdb}, copied and frozen. */
  readonly options: Readonly<DuckDBDestinationOptions>;
  /** The absolute database path (or `:memory:`) for a pipeline. */
  databasePath(context: DuckDBPathContext): string;
  createClient(schema: Schema, context: DestinationContext): Promise<DuckDBClient>;
}

const URL_PREFIX = "duckdb:///";

/**
 * Resolves the database path: no credentials → `<localDir>/<destinationName ?? pipelineName>.duckdb`;
 * `:pipeline:` → `<workingDir>/<pipelineName>.duckdb`; `:memory:` stays; other paths resolve against
 * `localDir`.
 */
export function duckdbDatabasePath(options: DuckDBDestinationOptions, context: DuckDBPathContext): string {
  const raw = options.credentials?.startsWith(URL_PREFIX)
    ? options.credentials.slice(URL_PREFIX.length)
    : options.credentials;
  if (raw === undefined || raw === "") {
    return resolve(context.localDir, `${options.destinationName ?? context.pipelineName}.duckdb`);
  }
  if (raw === ":memory:") return raw;
  if (raw === ":pipeline:") return resolve(context.workingDir, `${context.pipelineName}.duckdb`);
  return isAbsolute(raw) ? resolve(raw) : resolve(context.localDir, raw);
}

function assertOptionalName(value: unknown, option: string): void {
  if (value !== undefined && (typeof value !== "string" || value.length === 0)) {
    throw new TsdltError(
      `[tsdlt] [duckdb] Option \`${option}\` must be a non-empty string; got ${typeof value}. Remove it to use the default.`,
      { code: "INVALID_ARGUMENT", destination: DESTINATION_NAME },
    );
  }
}

function assertThreads(value: unknown, option: string): void {
  if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value < 1)) {
    throw new TsdltError(
      `[tsdlt] [duckdb] Option \`${option}\` must be a positive integer; got ${JSON.stringify(value)}. Remove it to use the default.`,
      { code: "INVALID_ARGUMENT", destination: DESTINATION_NAME },
    );
  }
}

function assertBoolean(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TsdltError(
      `[tsdlt] [duckdb] Option \`${option}\` must be true or false; got ${JSON.stringify(value)}. Remove it to use the default.`,
      { code: "INVALID_ARGUMENT", destination: DESTINATION_NAME },
    );
  }
}

function assertMemoryLimit(value: unknown): void {
  if (value === undefined || value === false) return;
  if (typeof value !== "string" || !/^\s*\d+(\.\d+)?\s*[a-zA-Z]*\s*$/.test(value)) {
    throw new TsdltError(
      `[tsdlt] [duckdb] Option \`memoryLimit\` must be a size such as "256MB" or "1GB", or false for DuckDB's default; got ${JSON.stringify(value)}.`,
      { code: "INVALID_ARGUMENT", destination: DESTINATION_NAME },
    );
  }
}

function assertReplaceStrategy(value: unknown, capabilities: DestinationCapabilities): void {
  if (value === undefined) return;
  if (!(REPLACE_STRATEGIES as readonly unknown[]).includes(value)) {
    throw new TsdltError(
      `[tsdlt] [duckdb] Option \`replaceStrategy\` is ${JSON.stringify(value)}; use one of ${capabilities.supportedReplaceStrategies.map((s) => `\`${s}\``).join(", ")}.`,
      { code: "INVALID_ARGUMENT", destination: DESTINATION_NAME },
    );
  }
  if (!capabilities.supportedReplaceStrategies.includes(value as ReplaceStrategy)) {
    throw new TsdltError(
      `[tsdlt] [duckdb] Replace strategy \`${String(value)}\` is not supported by DuckDB; use one of ${capabilities.supportedReplaceStrategies.map((s) => `\`${s}\``).join(", ")}.`,
      { code: "INVALID_ARGUMENT", destination: DESTINATION_NAME },
    );
  }
}

/**
 * The DuckDB destination.
 *
 * @example
 * ```ts
 * import { duckdb } from "@tsdlt/destination-duckdb";
 * const destination = duckdb({ credentials: "data/quick_start.duckdb" });
 * await using client = await destination.createClient(schema, context);
 * await client.initializeStorage();
 * await client.updateStoredSchema();
 * ```
 */
export function duckdb(options: DuckDBDestinationOptions = {}): DuckDBDestination {
  assertOptionalName(options.credentials, "credentials");
  assertOptionalName(options.destinationName, "destinationName");
  const capabilities: DestinationCapabilities = DUCKDB_CAPABILITIES;
  assertReplaceStrategy(options.replaceStrategy, capabilities);
  assertMemoryLimit(options.memoryLimit);
  assertThreads(options.threads, "threads");
  assertThreads(options.loadThreads, "loadThreads");
  assertBoolean(options.preserveInsertionOrder, "preserveInsertionOrder");
  const frozen: Readonly<DuckDBDestinationOptions> = Object.freeze({ ...options });
  const loadThreads =
    frozen.loadThreads ??
    (frozen.preserveInsertionOrder === false ? DEFAULT_PARALLEL_LOAD_THREADS : DEFAULT_LOAD_THREADS);
  const name = frozen.destinationName ?? DESTINATION_NAME;
  const databasePath = (context: DuckDBPathContext): string => duckdbDatabasePath(frozen, context);
  return Object.freeze({
    name,
    destinationType: DESTINATION_TYPE,
    capabilities,
    replaceStrategy: frozen.replaceStrategy,
    options: frozen,
    databasePath,
    displayLocation: (context: DestinationContext): string => `${URL_PREFIX}${databasePath(context)}`,
    createClient: (schema: Schema, context: DestinationContext): Promise<DuckDBClient> =>
      DuckDBClient.open({
        schema,
        context,
        databasePath: databasePath(context),
        destinationName: name,
        ...(frozen.memoryLimit === false
          ? {}
          : {
              memoryLimit: frozen.memoryLimit ?? defaultDuckDBMemoryLimit(loadThreads, widestTable(schema)),
              memoryLimitIsDefault: frozen.memoryLimit === undefined,
            }),
        ...(frozen.threads !== undefined ? { threads: frozen.threads } : {}),
        loadThreads,
        ...(frozen.preserveInsertionOrder !== undefined
          ? { preserveInsertionOrder: frozen.preserveInsertionOrder }
          : {}),
      }),
  });
}
