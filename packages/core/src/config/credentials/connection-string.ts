/**
 * Connection strings in SQLAlchemy's URL form (REFERENCE §8.4):
 * `drivername://username:password@host:port/database?query`. Parse errors never echo the string.
 */
import { isSensitiveKey, REDACTED } from "../redact.js";

/** The parts of a connection string. Percent-encoded user info and database are decoded. */
export interface ConnectionStringParts {
  readonly drivername: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly database?: string | undefined;
  readonly query: Readonly<Record<string, string>>;
}

// scheme :// [user [: password] @] [host | [ipv6]] [: port] [/ database] [? query]
// The password is greedy up to the last `@`, so an unencoded `@` or `/` in it still parses.
const CONNECTION_STRING =
  /^(?<driver>[A-Za-z][\w+.-]*):\/\/(?:(?<user>[^:/@?#]*)(?::(?<pass>.*))?@)?(?<host>\[[^\]]*\]|[^/?:#]*)(?::(?<port>[^/?#]*))?(?:\/(?<db>[^?#]*))?(?:\?(?<query>[^#]*))?$/s;

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error(`its ${what} has an invalid percent-encoding`);
  }
}

/**
 * Parses `drivername://username:password@host:port/database?key=value`.
 *
 * @throws Error whose message says which part is wrong, without the value
 */
export function parseConnectionString(value: string): ConnectionStringParts {
  const match = CONNECTION_STRING.exec(value.trim());
  if (!match?.groups) {
    throw new Error("expected the form `drivername://username:password@host:port/database?key=value`");
  }
  const g = match.groups;
  let port: number | undefined;
  if (g.port !== undefined && g.port !== "") {
    if (!/^\d+$/.test(g.port) || Number(g.port) > 65535) throw new Error("its port is not a number 0-65535");
    port = Number(g.port);
  }
  const query: Record<string, string> = {};
  if (g.query) {
    for (const [key, item] of new URLSearchParams(g.query)) query[key] = item;
  }
  const host = g.host ? (g.host.startsWith("[") ? g.host.slice(1, -1) : decode(g.host, "host")) : undefined;
  return {
    drivername: g.driver as string,
    username: g.user !== undefined && g.user !== "" ? decode(g.user, "user name") : undefined,
    password: g.pass !== undefined ? decode(g.pass, "password") : undefined,
    host: host === "" ? undefined : host,
    port,
    database: g.db !== undefined && g.db !== "" ? decode(g.db, "database") : undefined,
    query,
  };
}

/** Options of {@link formatConnectionString}. */
export interface FormatConnectionStringOptions {
  /** Replace the password and sensitive query values with `***`. @default true */
  readonly redact?: boolean;
}

const enc = (s: string): string => encodeURIComponent(s);

/** Renders connection-string parts; the password is masked unless `redact: false`. */
export function formatConnectionString(
  parts: ConnectionStringParts,
  options: FormatConnectionStringOptions = {},
): string {
  const redact = options.redact ?? true;
  let userInfo = "";
  if (parts.username !== undefined || parts.password !== undefined) {
    const password = parts.password === undefined ? "" : `:${redact ? REDACTED : enc(parts.password)}`;
    userInfo = `${enc(parts.username ?? "")}${password}@`;
  }
  const host = parts.host === undefined ? "" : parts.host.includes(":") ? `[${parts.host}]` : parts.host;
  const port = parts.port === undefined ? "" : `:${parts.port}`;
  const database = parts.database === undefined ? "" : `/${enc(parts.database)}`;
  const entries = Object.entries(parts.query);
  const query =
    entries.length === 0
      ? ""
      : `?${entries
          .map(([k, v]) => `${enc(k)}=${redact && isSensitiveKey(k) ? REDACTED : enc(v)}`)
          .join("&")}`;
  return `${parts.drivername}://${userInfo}${host}${port}${database}${query}`;
}
