/**
 * The Postgres destination factory (REFERENCE §11.4): datasets as Postgres schemas, `csv` (default)
 * and `jsonl` job files bulk-loaded with `COPY ... FROM STDIN`. Credentials are a connection string or fields, given to
 * {@link postgres} or resolved from config (`DESTINATION__POSTGRES__CREDENTIALS`,
 * `[destination.postgres.credentials]` in secrets.toml, ...) when the pipeline needs them. No I/O
 * happens until `createClient`, and no connection is opened until the client's first operation; see
 * `postgres-client.ts` for what the client maps to, what it does not support, and its transactions.
 */
import {
  type Destination,
  type DestinationCapabilities,
  type DestinationContext,
  PostgresCredentials,
  type PostgresCredentialsInput,
  parsePostgresCredentials,
  postgresCredentials,
  REPLACE_STRATEGIES,
  type ReplaceStrategy,
  resolveConfig,
  type Schema,
  TsdltError,
  z,
} from "@tsdlt/core";
import type { SqlDialect } from "@tsdlt/sql";
import { PostgresClient } from "./postgres-client.js";
import {
  createPostgresDialect,
  DESTINATION_NAME,
  DESTINATION_TYPE,
  POSTGRES_CAPABILITIES,
} from "./postgres-dialect.js";

/** Options of {@link postgres}. */
export interface PostgresDestinationOptions {
  /**
   * Where to connect: a connection string (`postgresql://loader:pw@localhost:5432/dlt_data?connect_timeout=15`),
   * fields (`{ database, username, password, host, port?, connectTimeout? }`, any of which may be left
   * out to be found in config), or resolved {@link PostgresCredentials}. `connect_timeout` (seconds,
   * default 15) bounds how long opening a connection may take.
   * @default resolved from config: section `destination.<destinationName>`, key `credentials`
   */
  readonly credentials?: string | Partial<PostgresCredentialsInput> | PostgresCredentials;
  /** Name of a named destination; shown to users and used as the config section. @default "postgres" */
  readonly destinationName?: string;
  /**
   * How `replace` tables are replaced (dlt's `replace_strategy`). Every strategy loads through the
   * staging dataset and swaps the rows in one transaction, so a failed load keeps the previous rows;
   * `staging-optimized` moves the staging table into the dataset instead of copying its rows.
   * @default "truncate-and-insert"
   */
  readonly replaceStrategy?: ReplaceStrategy;
  /** Create `UNIQUE` constraints for columns with the `unique` hint (dlt's `create_indexes`). @default true */
  readonly createIndexes?: boolean;
  /** Most connections one client opens (jobs run in parallel only outside a load transaction). @default 10 */
  readonly poolSize?: number;
}

/** A Postgres {@link Destination} whose clients are {@link PostgresClient}s. */
export interface PostgresDestination extends Destination {
  /** The options given to {@link postgres}, copied and frozen. */
  readonly options: Readonly<PostgresDestinationOptions>;
  /** The SQL dialect its clients use. */
  readonly dialect: SqlDialect;
  /**
   * The credentials: the explicit ones, completed from config.
   * @throws ConfigFieldMissingError when some are found nowhere (the message lists every key tried)
   */
  resolveCredentials(context?: Pick<DestinationContext, "pipelineName">): PostgresCredentials;
  createClient(schema: Schema, context: DestinationContext): Promise<PostgresClient>;
}

const credentialsSpec = z.object({ credentials: postgresCredentials });

function invalid(option: string, problem: string): TsdltError {
  return new TsdltError(`[tsdlt] [postgres] Option \`${option}\` ${problem}`, {
    code: "INVALID_ARGUMENT",
    destination: DESTINATION_NAME,
  });
}

function assertReplaceStrategy(value: unknown, capabilities: DestinationCapabilities): void {
  if (value === undefined) return;
  const supported = capabilities.supportedReplaceStrategies;
  if (
    !(REPLACE_STRATEGIES as readonly unknown[]).includes(value) ||
    !supported.includes(value as ReplaceStrategy)
  ) {
    throw invalid(
      "replaceStrategy",
      `is ${JSON.stringify(value)}; use one of ${supported.map((s) => `\`${s}\``).join(", ")}.`,
    );
  }
}

/**
 * Resolves Postgres credentials: explicit ones win field by field; what they leave out is looked up in
 * config under `destination.<name>.credentials` (environment variables, `.dlt/secrets.toml`,
 * `.dlt/config.toml`, ...), as a connection string or as fields.
 *
 * @throws ConfigFieldMissingError naming every key tried when a required field is found nowhere
 * @throws ConfigValueInvalidError when a value does not parse (never echoing the password)
 */
export function resolvePostgresCredentials(
  credentials: PostgresDestinationOptions["credentials"],
  options: { readonly destinationName?: string; readonly pipelineName?: string } = {},
): PostgresCredentials {
  if (credentials instanceof PostgresCredentials) return credentials;
  if (typeof credentials === "string") return parsePostgresCredentials(credentials);
  const name = options.destinationName ?? DESTINATION_NAME;
  const resolved = resolveConfig(credentialsSpec, {
    sections: ["destination", name],
    specName: `destination.${name}`,
    ...(credentials === undefined ? {} : { explicit: { credentials } }),
    ...(options.pipelineName === undefined ? {} : { pipelineName: options.pipelineName }),
  });
  return resolved.credentials;
}

/**
 * The Postgres destination.
 *
 * @example
 * ```ts
 * import { postgres } from "@tsdlt/destination-postgres";
 * // with `dlt` the `tsdlt` package:
 * const pipeline = dlt.pipeline({
 *   pipelineName: "quick_start",
 *   destination: postgres({ credentials: "postgresql://loader:pw@localhost:5432/dlt_data" }),
 *   datasetName: "mydata",
 * });
 * // or `destination: "postgres"` with DESTINATION__POSTGRES__CREDENTIALS set
 * ```
 */
export function postgres(options: PostgresDestinationOptions = {}): PostgresDestination {
  const { credentials, destinationName, poolSize } = options;
  if (credentials !== undefined && typeof credentials !== "string" && typeof credentials !== "object") {
    throw invalid(
      "credentials",
      `must be a connection string or an object of fields; got ${typeof credentials}.`,
    );
  }
  if (destinationName !== undefined && (typeof destinationName !== "string" || destinationName === "")) {
    throw invalid("destinationName", "must be a non-empty string. Remove it to use the default.");
  }
  if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 1)) {
    throw invalid("poolSize", `must be a whole number of at least 1; got ${String(poolSize)}.`);
  }
  const capabilities = POSTGRES_CAPABILITIES;
  assertReplaceStrategy(options.replaceStrategy, capabilities);
  const frozen: Readonly<PostgresDestinationOptions> = Object.freeze({ ...options });
  const name = frozen.destinationName ?? DESTINATION_NAME;
  const dialect = createPostgresDialect({ createIndexes: frozen.createIndexes ?? true });
  const resolveCredentials = (context?: Pick<DestinationContext, "pipelineName">): PostgresCredentials =>
    resolvePostgresCredentials(frozen.credentials, {
      destinationName: name,
      ...(context ? { pipelineName: context.pipelineName } : {}),
    });
  return Object.freeze({
    name,
    destinationType: DESTINATION_TYPE,
    capabilities,
    replaceStrategy: frozen.replaceStrategy,
    options: frozen,
    dialect,
    resolveCredentials,
    displayLocation: (context: DestinationContext): string => String(resolveCredentials(context)),
    createClient: async (schema: Schema, context: DestinationContext): Promise<PostgresClient> =>
      PostgresClient.open({
        schema,
        context,
        credentials: resolveCredentials(context),
        destinationName: name,
        dialect,
        ...(frozen.poolSize === undefined ? {} : { poolSize: frozen.poolSize }),
      }),
  });
}
