/**
 * Retry policy of the HTTP session (dlt `sources/helpers/requests/retry.py`, REFERENCE §9.1): which
 * responses and errors are retried, and how long to wait. The waiting and re-sending is ky's.
 */
import { type ConfigContext, resolveConfig, z } from "@tsdlt/core";
import type { HttpResponse } from "./response.js";

/** A custom retry trigger: return true to retry this response or error. */
export type RetryCondition = (response: HttpResponse | undefined, error: unknown) => boolean;

/** Retry and timeout settings of a session. Durations are in milliseconds. */
export interface RetryOptions {
  /** Total tries including the first (`runtime.request_max_attempts`). @default 5 */
  readonly maxAttempts?: number;
  /**
   * The exponential backoff base (`runtime.request_backoff_factor` × 1000): the n-th retry waits
   * `backoffBaseMs × 2^(n−1)` → 1, 2, 4, 8 s. @default 1000
   */
  readonly backoffBaseMs?: number;
  /** Upper bound of any wait, `Retry-After` included (`runtime.request_max_retry_delay` × 1000). @default 300000 */
  readonly maxRetryDelayMs?: number;
  /** Time allowed for one attempt, headers and body (`runtime.request_timeout` × 1000). @default 60000 */
  readonly timeoutMs?: number;
  /** Statuses that are retried. @default 429 and 500–599 */
  readonly statusCodes?: readonly number[] | ((status: number) => boolean);
  /** Retry connection failures, resets and timeouts. @default true */
  readonly retryNetworkErrors?: boolean;
  /** Wait as long as a `Retry-After` header says (seconds or HTTP date). @default true */
  readonly respectRetryAfterHeader?: boolean;
  /**
   * The shortest wait after a `Retry-After` of 0 or a date in the past, so a server that keeps answering
   * `Retry-After: 0` cannot turn retries into a hot loop. @default backoffBaseMs
   */
  readonly minRetryAfterMs?: number;
  /** More retry triggers, on responses (error undefined) or errors (response undefined). */
  readonly retryConditions?: readonly RetryCondition[];
}

/** {@link RetryOptions} with every default filled in. */
export interface RetryConfig {
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly maxRetryDelayMs: number;
  readonly timeoutMs: number;
  readonly statusCodes: (status: number) => boolean;
  readonly retryNetworkErrors: boolean;
  readonly respectRetryAfterHeader: boolean;
  readonly minRetryAfterMs: number;
  readonly retryConditions: readonly RetryCondition[];
}

/** dlt's defaults (REFERENCE §9.1). */
export const DEFAULT_RETRY_OPTIONS: Readonly<{
  maxAttempts: 5;
  backoffBaseMs: 1000;
  maxRetryDelayMs: 300000;
  timeoutMs: 60000;
}> = Object.freeze({ maxAttempts: 5, backoffBaseMs: 1000, maxRetryDelayMs: 300_000, timeoutMs: 60_000 });

/** The default retried statuses: 429 and every 5xx. */
export function isDefaultRetryStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Fills in defaults and checks ranges. */
export function resolveRetryOptions(options: RetryOptions = {}): RetryConfig {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_RETRY_OPTIONS.maxAttempts));
  const backoffBaseMs = Math.max(0, options.backoffBaseMs ?? DEFAULT_RETRY_OPTIONS.backoffBaseMs);
  const maxRetryDelayMs = Math.max(0, options.maxRetryDelayMs ?? DEFAULT_RETRY_OPTIONS.maxRetryDelayMs);
  const codes = options.statusCodes;
  const statusCodes =
    codes === undefined
      ? isDefaultRetryStatus
      : typeof codes === "function"
        ? codes
        : (status: number) => codes.includes(status);
  return {
    maxAttempts,
    backoffBaseMs,
    maxRetryDelayMs,
    timeoutMs: Math.max(1, options.timeoutMs ?? DEFAULT_RETRY_OPTIONS.timeoutMs),
    statusCodes,
    retryNetworkErrors: options.retryNetworkErrors ?? true,
    respectRetryAfterHeader: options.respectRetryAfterHeader ?? true,
    minRetryAfterMs: Math.max(0, options.minRetryAfterMs ?? backoffBaseMs),
    retryConditions: options.retryConditions ?? [],
  };
}

/** The wait before retry number `retry` (1-based): `base × 2^(retry−1)`, capped at the max delay. */
export function backoffDelay(
  retry: number,
  config: Pick<RetryConfig, "backoffBaseMs" | "maxRetryDelayMs">,
): number {
  return Math.min(config.maxRetryDelayMs, config.backoffBaseMs * 2 ** Math.max(0, retry - 1));
}

/**
 * A `Retry-After` header value in milliseconds from now: delta seconds (`120`, `1.5`) or an HTTP date.
 * Returns `undefined` when absent or unparsable; a date in the past gives 0.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait before retry number `retry` after `response`: its `Retry-After` clamped to
 * [`minRetryAfterMs`, `maxRetryDelayMs`] when present and respected, else the exponential backoff.
 */
export function retryDelayFor(
  retry: number,
  response: HttpResponse | Response | undefined,
  config: RetryConfig,
): number {
  if (response && config.respectRetryAfterHeader) {
    const after = parseRetryAfter(response.headers.get("retry-after"));
    if (after !== undefined) {
      return Math.min(config.maxRetryDelayMs, Math.max(config.minRetryAfterMs, after));
    }
  }
  return backoffDelay(retry, config);
}

/** The `[runtime]` config keys of dlt's requests helper, in seconds as in `config.toml`. */
export interface RuntimeRequestConfig {
  readonly request_timeout?: number;
  readonly request_max_attempts?: number;
  readonly request_backoff_factor?: number;
  readonly request_max_retry_delay?: number;
}

/** Maps dlt's `[runtime] request_*` keys (seconds) to {@link RetryOptions} (milliseconds). */
export function retryOptionsFromRuntimeConfig(runtime: RuntimeRequestConfig): RetryOptions {
  const out: { -readonly [K in keyof RetryOptions]: RetryOptions[K] } = {};
  if (runtime.request_timeout !== undefined) out.timeoutMs = runtime.request_timeout * 1000;
  if (runtime.request_max_attempts !== undefined) out.maxAttempts = runtime.request_max_attempts;
  if (runtime.request_backoff_factor !== undefined) out.backoffBaseMs = runtime.request_backoff_factor * 1000;
  if (runtime.request_max_retry_delay !== undefined)
    out.maxRetryDelayMs = runtime.request_max_retry_delay * 1000;
  return out;
}

/** The `[runtime]` request settings as a config spec (fields unset in config stay unset). */
const runtimeRequestSpec = z.object({
  request_timeout: z.number().positive().optional(),
  request_max_attempts: z.int().min(1).optional(),
  request_backoff_factor: z.number().min(0).optional(),
  request_max_retry_delay: z.number().min(0).optional(),
});

/** Options of {@link runtimeRetryOptions}. */
export interface RuntimeRetryOptionsOptions {
  /** Providers to read. @default `ConfigContext.create()` (env, `.dlt/secrets.toml`, `.dlt/config.toml`) */
  readonly context?: ConfigContext | undefined;
  /** Pipeline name for prefixed lookups; `null` for none. @default the active pipeline's name */
  readonly pipelineName?: string | null | undefined;
}

/**
 * The retry settings configured under `[runtime]` — `request_max_attempts`, `request_backoff_factor`,
 * `request_max_retry_delay`, `request_timeout` (seconds), from env (`RUNTIME__REQUEST_MAX_ATTEMPTS`,
 * pipeline-name prefixed first) or `.dlt/*.toml` — as {@link RetryOptions}. Only the keys that are set
 * appear; dlt's defaults fill the rest when a session is created. The `requests` helper and every
 * {@link RESTClient} without its own session use them.
 *
 * @throws {ConfigValueInvalidError} naming the key when a value is not a valid number
 */
export function runtimeRetryOptions(options: RuntimeRetryOptionsOptions = {}): RetryOptions {
  const resolved = resolveConfig(runtimeRequestSpec, {
    sections: ["runtime"],
    specName: "runtime",
    ...(options.context ? { context: options.context } : {}),
    ...(options.pipelineName !== undefined ? { pipelineName: options.pipelineName } : {}),
  });
  const present = Object.fromEntries(
    Object.entries(resolved).filter(([, value]) => value !== undefined),
  ) as RuntimeRequestConfig;
  return retryOptionsFromRuntimeConfig(present);
}
