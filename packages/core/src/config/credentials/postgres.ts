/**
 * Postgres credentials (REFERENCE §8.4, §11.4): a connection string
 * (`postgresql://loader:pw@localhost:5432/dlt_data?connect_timeout=15`) or fields; port defaults to
 * 5432 and `connect_timeout` to 15. Printing them (`String`, `JSON.stringify`, `console.log`) shows
 * the password as `***`; only `toUrl({ redact: false })` and the `password` field hold it.
 */
import { z } from "zod";
import { ConfigValueInvalidError } from "../config-errors.js";
import { REDACTED, registerSecret } from "../redact.js";
import { defineCredentials, secret } from "../schema-meta.js";
import {
  type ConnectionStringParts,
  formatConnectionString,
  parseConnectionString,
} from "./connection-string.js";

/** Default Postgres port. */
export const POSTGRES_DEFAULT_PORT = 5432;
/** Default connect timeout in seconds. */
export const POSTGRES_DEFAULT_CONNECT_TIMEOUT = 15;

/** Postgres credentials as fields (camelCase; config keys are snake_case: `connect_timeout`). */
export interface PostgresCredentialsInput {
  readonly drivername?: string | undefined;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port?: number | undefined;
  readonly connectTimeout?: number | undefined;
  readonly clientEncoding?: string | undefined;
  /** Other connection-string query parameters (e.g. `sslmode`). */
  readonly query?: Readonly<Record<string, string>> | undefined;
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Resolved, validated Postgres credentials. Every printed form masks the password. */
export class PostgresCredentials {
  readonly drivername: string;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly connectTimeout: number;
  readonly clientEncoding: string | undefined;
  readonly query: Readonly<Record<string, string>>;

  constructor(fields: PostgresCredentialsInput) {
    this.drivername = fields.drivername ?? "postgresql";
    this.database = fields.database;
    this.username = fields.username;
    this.password = fields.password;
    this.host = fields.host;
    this.port = fields.port ?? POSTGRES_DEFAULT_PORT;
    this.connectTimeout = fields.connectTimeout ?? POSTGRES_DEFAULT_CONNECT_TIMEOUT;
    this.clientEncoding = fields.clientEncoding;
    this.query = Object.freeze({ ...fields.query });
    registerSecret(this.password);
    Object.freeze(this);
  }

  #parts(full: boolean): ConnectionStringParts {
    const query: Record<string, string> = { ...this.query };
    if (full || this.connectTimeout !== POSTGRES_DEFAULT_CONNECT_TIMEOUT) {
      query.connect_timeout = String(this.connectTimeout);
    }
    if (this.clientEncoding !== undefined) query.client_encoding = this.clientEncoding;
    return {
      drivername: this.drivername,
      username: this.username,
      password: this.password,
      host: this.host,
      port: this.port,
      database: this.database,
      query,
    };
  }

  /**
   * The connection string, with `connect_timeout`. Masked unless `redact: false` (for the driver only).
   */
  toUrl(options: { readonly redact?: boolean } = {}): string {
    return formatConnectionString(this.#parts(true), { redact: options.redact ?? true });
  }

  /** `postgresql://loader:***@localhost:5432/dlt_data`. */
  toString(): string {
    return formatConnectionString(this.#parts(false), { redact: true });
  }

  /** The fields with the password masked. */
  toJSON(): Record<string, unknown> {
    return {
      drivername: this.drivername,
      database: this.database,
      username: this.username,
      password: REDACTED,
      host: this.host,
      port: this.port,
      connectTimeout: this.connectTimeout,
      ...(this.clientEncoding === undefined ? {} : { clientEncoding: this.clientEncoding }),
      ...(Object.keys(this.query).length === 0 ? {} : { query: this.query }),
    };
  }
}

// `console.log(credentials)` shows the masked connection string (defined here: a computed symbol key
// cannot appear in an isolated declaration).
Object.defineProperty(PostgresCredentials.prototype, INSPECT, {
  value(this: PostgresCredentials): string {
    return `PostgresCredentials(${this.toString()})`;
  },
});

/**
 * Parses a Postgres connection string into config fields (snake_case keys, as in TOML). Missing parts
 * are left out, so other providers can supply them (e.g. the password from an env var).
 */
export function parsePostgresConnectionString(value: string): Record<string, unknown> {
  const parts = parseConnectionString(value);
  if (!/^postgres(ql)?(\+[\w.-]+)?$/i.test(parts.drivername)) {
    throw new Error(`its scheme \`${parts.drivername}\` is not \`postgresql\``);
  }
  const { connect_timeout, client_encoding, ...query } = parts.query;
  const fields: Record<string, unknown> = { drivername: "postgresql" };
  if (parts.database !== undefined) fields.database = parts.database;
  if (parts.username !== undefined) fields.username = parts.username;
  if (parts.password !== undefined) fields.password = parts.password;
  if (parts.host !== undefined) fields.host = parts.host;
  if (parts.port !== undefined) fields.port = parts.port;
  if (connect_timeout !== undefined) {
    if (!/^\d+$/.test(connect_timeout)) throw new Error("its `connect_timeout` is not a whole number");
    fields.connect_timeout = Number(connect_timeout);
  }
  if (client_encoding !== undefined) fields.client_encoding = client_encoding;
  if (Object.keys(query).length > 0) fields.query = query;
  return fields;
}

const postgresFields = z.object({
  drivername: z.string().default("postgresql"),
  database: z.string().min(1),
  username: z.string().min(1),
  password: secret(z.string()),
  host: z.string().min(1),
  port: z.int().min(0).max(65535).default(POSTGRES_DEFAULT_PORT),
  connectTimeout: z.int().min(0).default(POSTGRES_DEFAULT_CONNECT_TIMEOUT),
  clientEncoding: z.string().optional(),
  query: z.record(z.string(), z.string()).optional(),
});

/**
 * The credentials spec of Postgres: use it as a field of a destination config
 * (`z.object({ credentials: postgresCredentials })`). Given whole as a connection string or field by
 * field; the output is a {@link PostgresCredentials}.
 */
export const postgresCredentials: z.ZodType<PostgresCredentials, PostgresCredentialsInput> =
  defineCredentials(
    postgresFields.transform((fields) => new PostgresCredentials(fields)),
    { name: "PostgresCredentials", parseNative: parsePostgresConnectionString },
  );

/**
 * Parses and validates Postgres credentials given in code (a connection string or fields). Fails with
 * a {@link ConfigValueInvalidError} naming the missing or invalid fields, never the password.
 */
export function parsePostgresCredentials(input: string | PostgresCredentialsInput): PostgresCredentials {
  let fields: unknown = input;
  if (typeof input === "string") {
    try {
      const native = parsePostgresConnectionString(input);
      fields = {
        ...native,
        connectTimeout: native.connect_timeout,
        clientEncoding: native.client_encoding,
      };
    } catch (error) {
      throw new ConfigValueInvalidError({
        specName: "PostgresCredentials",
        problems: [`the connection string is not valid: ${(error as Error).message}`],
      });
    }
  }
  const parsed = postgresCredentials.safeParse(fields);
  if (!parsed.success) {
    throw new ConfigValueInvalidError({
      specName: "PostgresCredentials",
      problems: parsed.error.issues.map((i) => `\`${i.path.join(".")}\`: ${i.message}`),
    });
  }
  return parsed.data;
}
