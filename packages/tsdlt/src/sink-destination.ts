/**
 * `dlt.destination(fn, options)`: a custom sink (dlt's `@dlt.destination`) for anything tsdlt has no
 * destination for — an API, a queue, a log. The pipeline extracts and normalizes as usual; the load
 * step then calls `fn(items, table)` with the rows of each job file in batches of `batchSize`, and
 * with the table's schema.
 *
 * Delivery is **at least once**. After each batch `fn` accepted, the job's progress (rows
 * delivered) is stored in its load package (`load_package_state.json`, `destination_state`, keyed
 * by `<table>.<file_id>`, as dlt does). A job that is retried, or resumed after a crash or a failed
 * run, starts after the last recorded batch: batches `fn` accepted are not sent again — except the
 * one that was in flight when the process stopped, which is sent again. Make `fn` idempotent where
 * that matters (e.g. upsert by key).
 *
 * Errors: whatever `fn` throws makes the job fail transiently (the load stage retries it, starting
 * from the batch that failed; when its attempts are used up the package stays pending for the next
 * run), unless it is a tsdlt error with `retryable: false` — throw
 * `new DestinationError(message, { retryable: false })` for data the receiver will never accept;
 * that fails the job terminally and the package is aborted.
 *
 * Maps to: one job per normalized `jsonl` file, jobs of a package run in parallel (at most
 * `maxParallelLoadJobs`). Items are the rows as normalize wrote them: timestamps, dates, times,
 * decimals and wei as text, binary as base64 text, json as parsed values, integers beyond 2^53 as
 * `bigint`. By default the dlt system tables (`_dlt_pipeline_state`, ...) are not sent and the
 * `_dlt_*` columns are removed from items and from the table schema.
 *
 * Does not support: file formats other than `jsonl` (dlt also offers parquet and `batch_size=0` to
 * receive file paths), schema migrations (the sink has no storage to migrate), merge (merge tables
 * are sent as appended rows, with the load stage's warning), replace (nothing is truncated), state
 * sync (a fresh machine does not restore state from a sink), and dlt's `naming_convention="direct"`
 * default (names follow the schema's naming convention, `snake_case` unless configured).
 * Transactions: none; a batch is delivered when `fn` resolves.
 */
import { createReadStream } from "node:fs";
import { basename, dirname } from "node:path";
import { createInterface } from "node:readline";
import {
  type ConfigDeclaration,
  type ConfigSpec,
  type Destination,
  type DestinationCapabilities,
  type DestinationClient,
  type DestinationContext,
  DestinationError,
  declareConfig,
  defineCapabilities,
  destinationConfigSections,
  type ExplicitConfig,
  isDltName,
  isTsdltError,
  jobIdOf,
  type LoadJob,
  type LoadJobFile,
  LoadPackage,
  type Schema,
  type SchemaUpdateResult,
  type TableSchema,
  TsdltError,
  type z,
} from "@tsdlt/core";

/** One item handed to a sink function: a row of a table. */
export type SinkItem = Record<string, unknown>;

/**
 * A sink function: receives a batch of rows of one table and that table's schema. Resolve when the
 * batch is delivered; throw to fail the job (retried unless the error says `retryable: false`).
 */
export type SinkFunction = (items: SinkItem[], table: TableSchema) => unknown;

/** A sink function that declares its config: receives the resolved values as its third argument. */
export type ConfiguredSinkFunction<C> = (items: SinkItem[], table: TableSchema, config: C) => unknown;

/** Options of {@link destination} (dlt's `@dlt.destination` arguments, camelCase). */
export interface SinkDestinationOptions {
  /** Rows per call of the sink function. @default 10 */
  readonly batchSize?: number;
  /** The format job files are stored in before they are sent; only `jsonl`. @default "jsonl" */
  readonly loaderFileFormat?: "jsonl";
  /** Name of the destination (shown in load info). @default the function's name, else "destination" */
  readonly name?: string;
  /**
   * How deep nested lists become nested tables (`0`: none, nested data stays in json columns of
   * the root row). @default 0
   */
  readonly maxTableNesting?: number;
  /** Leave out dlt's system tables and the `_dlt_*` columns. @default true */
  readonly skipDltColumnsAndTables?: boolean;
  /** Jobs (files) sent at the same time. @default the load stage's workers */
  readonly maxParallelLoadJobs?: number;
}

/** Options of {@link destination} for a sink function that declares its config. */
export interface ConfiguredSinkDestinationOptions<S extends ConfigSpec> extends SinkDestinationOptions {
  /**
   * The sink's config as a zod object spec (secret fields marked with `secret()`), resolved when the
   * pipeline loads — dlt's `dlt.config.value` / `dlt.secrets.value` defaults of a sink. Keys are
   * `destination.<name>.<key>` → `destination.<key>` → `<key>`, each first prefixed with the pipeline
   * name; a missing required value fails the load with every key tried.
   */
  readonly config: S;
  /** Config values given in code; they win over config providers field by field. */
  readonly configValues?: NoInfer<ExplicitConfig<S>> | undefined;
}

/** A sink destination; `config` is the declared config, when the sink function declares one. */
export interface SinkDestination extends Destination {
  readonly config: ConfigDeclaration | undefined;
}

/** The destination type recorded in pipeline state (as dlt records a custom destination). */
export const SINK_DESTINATION_TYPE = "dlt.destinations.destination";

const DEFAULT_BATCH_SIZE = 10;

function invalid(message: string): TsdltError {
  return new TsdltError(`[tsdlt] \`destination()\`: ${message}`, { code: "INVALID_ARGUMENT" });
}

const BIG_MARK = "\u0000tsdlt-bigint:";

/** Parses a job file line; integers a JS number cannot hold exactly (bare digits in the file) become `bigint`. */
function parseLine(line: string): SinkItem {
  if (!/\d{16}/.test(line)) return JSON.parse(line) as SinkItem;
  let text = "";
  for (let i = 0; i < line.length; ) {
    const c = line[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      text += line.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const token = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(line.slice(i))?.[0] ?? c;
      const unsafe = /^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token));
      text += unsafe ? JSON.stringify(BIG_MARK + token) : token;
      i += token.length;
    } else {
      text += c;
      i += 1;
    }
  }
  return JSON.parse(text, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(BIG_MARK) ? BigInt(value.slice(BIG_MARK.length)) : value,
  ) as SinkItem;
}

/** The rows of a `jsonl` job file, streamed. */
async function* readItems(path: string): AsyncGenerator<SinkItem> {
  const input = createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) if (line.trim() !== "") yield parseLine(line);
  } finally {
    lines.close();
    input.destroy();
  }
}

/**
 * Where a job records how many rows it delivered: `destination_state["<table>.<file_id>"]` in the
 * `load_package_state.json` of the package the file belongs to (the load stage runs jobs from
 * `<package>/started_jobs/`). Read and written synchronously, so jobs running in parallel never
 * interleave their updates. Undefined for a file outside a package (nothing is recorded).
 */
function progressOf(
  file: LoadJobFile,
  loadId: string,
): { read(): number; write(delivered: number): void } | undefined {
  const jobsDir = dirname(file.path);
  if (basename(jobsDir) !== "started_jobs") return undefined;
  const pkg = new LoadPackage(loadId, dirname(jobsDir));
  const key = `${file.parsed.tableName}.${file.parsed.fileId}`;
  return {
    read: () => {
      const value = pkg.readState().destination_state?.[key];
      return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : 0;
    },
    write: (delivered) => {
      const state = pkg.readState();
      state.destination_state = { ...state.destination_state, [key]: delivered };
      pkg.writeState(state);
    },
  };
}

/** `table` without its `_dlt_*` columns. */
function withoutDltColumns(table: TableSchema): TableSchema {
  const columns: TableSchema["columns"] = {};
  for (const [name, column] of Object.entries(table.columns)) if (!isDltName(name)) columns[name] = column;
  return { ...structuredClone(table), columns: structuredClone(columns) };
}

/**
 * A custom sink destination: `fn` is called with batches of `batchSize` rows of each table, and the
 * table's schema, when the pipeline loads. Delivery is at least once (see the module notes): a
 * resumed or retried job re-sends only the batch that did not complete.
 *
 * @example
 * ```ts
 * import * as dlt from "tsdlt";
 * const sink = dlt.destination(
 *   async (items, table) => {
 *     const res = await fetch(`https://api.example.com/${table.name}`, { method: "POST", body: JSON.stringify(items) });
 *     if (res.status === 422) throw new dlt.DestinationError(`rejected: ${await res.text()}`, { retryable: false });
 *     if (!res.ok) throw new Error(`HTTP ${res.status}`); // retried
 *   },
 *   { batchSize: 100, name: "my_api" },
 * );
 * await dlt.pipeline({ pipelineName: "to_api", destination: sink }).run(rows, { tableName: "users" });
 *
 * // With declared config: `[destination.my_api] api_url = ...` in config.toml, the key in secrets.toml.
 * const configured = dlt.destination(
 *   async (items, table, { apiUrl, apiKey }) => {
 *     await fetch(`${apiUrl}/${table.name}`, { method: "POST", headers: { authorization: apiKey }, body: JSON.stringify(items) });
 *   },
 *   { name: "my_api", config: dlt.z.object({ apiUrl: dlt.z.string(), apiKey: dlt.secret(dlt.z.string()) }) },
 * );
 * ```
 */
export function destination<S extends ConfigSpec = never>(
  fn: [S] extends [never] ? SinkFunction : ConfiguredSinkFunction<z.output<S>>,
  options?: [S] extends [never] ? SinkDestinationOptions : ConfiguredSinkDestinationOptions<S>,
): SinkDestination {
  const opts = (options ?? {}) as SinkDestinationOptions & {
    readonly config?: ConfigSpec | undefined;
    readonly configValues?: unknown;
  };
  return sinkDestination(fn as ConfiguredSinkFunction<unknown>, opts);
}

function sinkDestination(
  fn: ConfiguredSinkFunction<unknown>,
  options: SinkDestinationOptions & {
    readonly config?: ConfigSpec | undefined;
    readonly configValues?: unknown;
  },
): SinkDestination {
  if (typeof fn !== "function")
    throw invalid("the first argument must be the sink function `(items, table) => ...`.");
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw invalid(`\`batchSize\` must be a positive integer; got ${String(batchSize)}.`);
  }
  if (options.loaderFileFormat !== undefined && options.loaderFileFormat !== "jsonl") {
    throw invalid(
      `\`loaderFileFormat\` ${JSON.stringify(options.loaderFileFormat)} is not supported; the sink receives rows of \`jsonl\` job files. Remove the option.`,
    );
  }
  const nesting = options.maxTableNesting ?? 0;
  if (!Number.isInteger(nesting) || nesting < 0) {
    throw invalid(`\`maxTableNesting\` must be an integer >= 0; got ${String(nesting)}.`);
  }
  if (options.name !== undefined && (typeof options.name !== "string" || options.name.trim() === "")) {
    throw invalid("`name` must be a non-empty string.");
  }
  const name = options.name ?? (/^[A-Za-z_$][\w$]*$/.test(fn.name) ? fn.name : "destination");
  const skipDlt = options.skipDltColumnsAndTables ?? true;
  const declared =
    options.config === undefined
      ? undefined
      : declareConfig({
          kind: "destination",
          name,
          spec: options.config,
          sections: destinationConfigSections(name),
        });
  if (options.configValues !== undefined && declared === undefined) {
    throw invalid("`configValues` needs a `config` spec to resolve against.");
  }
  const capabilities: DestinationCapabilities = defineCapabilities({
    preferredLoaderFileFormat: "jsonl",
    supportedLoaderFileFormats: ["jsonl"],
    maxTableNesting: nesting,
    maxParallelLoadJobs: options.maxParallelLoadJobs,
    supportsTransactions: false,
    supportsDdlTransactions: false,
    needsDatasetName: false,
  });

  const createLoadJob = async (
    table: TableSchema,
    file: LoadJobFile,
    loadId: string,
    config: unknown,
  ): Promise<LoadJob> => {
    const jobId = jobIdOf(file.fileName);
    const subject = `[tsdlt] [${name}] Job \`${file.fileName}\` in load \`${loadId}\``;
    const context = { destination: name, loadId, jobId, table: table.name, path: file.path };
    if (skipDlt && isDltName(table.name)) return { jobId, run: async () => {} };
    if (file.parsed.fileFormat !== "jsonl") {
      throw new DestinationError(
        `${subject} failed terminally: the sink receives rows of \`jsonl\` files, not \`${file.parsed.fileFormat}\`.`,
        { code: "DESTINATION_TERMINAL", retryable: false, ...context },
      );
    }
    const view = skipDlt ? withoutDltColumns(table) : structuredClone(table);
    return {
      jobId,
      async run(signal?: AbortSignal): Promise<void> {
        const progress = progressOf(file, loadId);
        const start = progress?.read() ?? 0;
        let delivered = start;
        let batch: SinkItem[] = [];
        const send = async (): Promise<void> => {
          if (signal?.aborted) {
            throw new DestinationError(`${subject} was cancelled; ${delivered} row(s) were delivered.`, {
              code: "DESTINATION_TRANSIENT",
              retryable: true,
              cause: signal.reason,
              ...context,
            });
          }
          try {
            await fn(batch, view, config);
          } catch (cause) {
            const retryable = isTsdltError(cause) ? cause.retryable : true;
            const message = cause instanceof Error ? cause.message : String(cause);
            throw new DestinationError(
              `${subject} failed ${retryable ? "transiently" : "terminally"}: the sink function threw on rows ${delivered + 1}–${delivered + batch.length} of table \`${table.name}\`: ${message}` +
                (retryable ? `. The ${delivered} row(s) delivered before are not sent again.` : ""),
              {
                code: retryable ? "DESTINATION_TRANSIENT" : "DESTINATION_TERMINAL",
                retryable,
                cause,
                ...context,
              },
            );
          }
          delivered += batch.length;
          progress?.write(delivered);
          batch = [];
        };
        let index = 0;
        let sending = false;
        try {
          for await (const item of readItems(file.path)) {
            if (index++ < start) continue;
            if (skipDlt) for (const key of Object.keys(item)) if (isDltName(key)) delete item[key];
            batch.push(item);
            if (batch.length >= batchSize) {
              sending = true;
              await send();
              sending = false;
            }
          }
        } catch (cause) {
          if (sending) throw cause;
          throw new DestinationError(
            `${subject} failed terminally: its file cannot be read as JSON lines (${cause instanceof Error ? cause.message : String(cause)}).`,
            { code: "DESTINATION_TERMINAL", retryable: false, cause, ...context },
          );
        }
        if (batch.length > 0) await send();
      },
    };
  };

  return Object.freeze({
    name,
    destinationType: SINK_DESTINATION_TYPE,
    capabilities,
    config: declared,
    displayLocation: (_context: DestinationContext): string => `sink://${name}`,
    async createClient(_schema: Schema, context: DestinationContext): Promise<DestinationClient> {
      const noUpdate: SchemaUpdateResult = { tables: {}, statements: [] };
      // Resolved once per load, with the loading pipeline's name for the prefixed lookups.
      const config = declared?.resolve(options.configValues as ExplicitConfig<ConfigSpec> | undefined, {
        pipelineName: context.pipelineName,
      });
      return {
        capabilities,
        initializeStorage: async () => {},
        isStorageInitialized: async () => true,
        updateStoredSchema: async () => noUpdate,
        createLoadJob: (table: TableSchema, file: LoadJobFile, loadId: string) =>
          createLoadJob(table, file, loadId, config),
        completeLoad: async () => {},
        [Symbol.asyncDispose]: async () => {},
      };
    },
  });
}
