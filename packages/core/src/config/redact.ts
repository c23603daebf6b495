/**
 * Masking of secrets (STYLE rule 14): URLs lose their passwords and sensitive query parameters,
 * config objects lose their secret fields, and every secret value resolved through the config library
 * is remembered so that free text (messages, logs, traces) can be scrubbed of it.
 */
import type { z } from "zod";
import type { Logger } from "../logger.js";
import { configKeyOf, objectShape, unwrapSchema } from "./schema-meta.js";

/** What a masked value is replaced with. */
export const REDACTED = "***";

/** Secrets shorter than this are masked where they are known to be secrets, but not searched for in text. */
const MIN_TEXT_SECRET_LENGTH = 4;

const knownSecrets = new Set<string>();
let knownSorted: string[] | undefined;

/**
 * Remembers a secret value so that {@link redactText} masks it wherever it appears. The config
 * library registers every secret it resolves; call this for secrets obtained elsewhere.
 */
export function registerSecret(value: unknown): void {
  if (typeof value !== "string" || value.length < MIN_TEXT_SECRET_LENGTH) return;
  const variants = [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)];
  for (const variant of variants) {
    if (!knownSecrets.has(variant)) {
      knownSecrets.add(variant);
      knownSorted = undefined;
    }
  }
}

/** Forgets every registered secret. @internal For tests. */
export function clearRegisteredSecrets(): void {
  knownSecrets.clear();
  knownSorted = undefined;
}

const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^:@/\s?#]*):([^@/\s?#]*)@/i;
const SENSITIVE_QUERY =
  /([?&;](?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|id_token|api_key|apikey|api-key|key|sig|signature|auth|authorization|sas)=)[^&#\s]*/gi;

/**
 * Masks the password of a URL's user info and the values of sensitive query parameters
 * (`password`, `token`, `api_key`, `sig`, ...). Other text is returned unchanged.
 *
 * @example
 * ```ts
 * redactUrl("postgresql://loader:pw@localhost:5432/dlt_data"); // "postgresql://loader:***@localhost:5432/dlt_data"
 * ```
 */
export function redactUrl(url: string): string {
  return url
    .replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(SENSITIVE_QUERY, `$1${REDACTED}`);
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>]+/gi;

/**
 * Masks secrets in free text: passwords in every URL, sensitive query parameters, and every secret
 * value the config library resolved (or {@link registerSecret} was given).
 */
export function redactText(text: string): string {
  let out = text.replace(URL_IN_TEXT, (url) => redactUrl(url));
  if (knownSecrets.size > 0) {
    knownSorted ??= [...knownSecrets].sort((a, b) => b.length - a.length);
    for (const value of knownSorted) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
    }
  }
  return out;
}

const SENSITIVE_KEY =
  /(^|_)(password|passwd|pwd|secret|token|api_key|apikey|private_key|authorization|bearer|signature)$/;

/** True for keys whose values are secrets by name (`password`, `access_token`, `apiKey`, ...). */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(configKeyOf(key));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of a config value that is safe to print: fields marked secret in `schema` and fields with
 * sensitive names become `***`, strings go through {@link redactText}, and objects with a masking
 * `toJSON()` (credentials) are shown through it.
 */
export function redact(value: unknown, schema?: z.ZodType): unknown {
  if (schema && unwrapSchema(schema).secret && value !== undefined && value !== null) return REDACTED;
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map((item) => redact(item));
  if (typeof value !== "object" || value === null || value instanceof Date) return value;
  if (!isPlainObject(value)) {
    const toJSON = (value as { toJSON?: () => unknown }).toJSON;
    return typeof toJSON === "function" ? redact(toJSON.call(value)) : value;
  }
  const shape = schema ? objectShape(schema) : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const fieldSchema = shape?.[key];
    if (item !== undefined && item !== null && typeof item !== "object" && isSensitiveKey(key)) {
      out[key] = REDACTED;
    } else {
      out[key] = redact(item, fieldSchema);
    }
  }
  return out;
}

/** A logger that passes every message through {@link redactText} before `logger` sees it. */
export function redactingLogger(logger: Logger): Logger {
  return {
    debug: (message) => logger.debug(redactText(message)),
    info: (message) => logger.info(redactText(message)),
    warn: (message) => logger.warn(redactText(message)),
    error: (message) => logger.error(redactText(message)),
  };
}
