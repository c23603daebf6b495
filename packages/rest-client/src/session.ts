/**
 * The retrying HTTP session (dlt `sources/helpers/requests`): every request goes through ky with dlt's retry
 * policy (REFERENCE §9.1) — 5 attempts, exponential backoff from 1 s, at most 300 s per wait, 60 s timeout,
 * retries on 429, 5xx, connection errors and timeouts, `Retry-After` honoured with a floor.
 *
 * The body is read inside the attempt, so a connection that breaks mid-body is retried and the timeout
 * covers headers and body. When retries on a status run out the last response is returned (and raised
 * when `raiseForStatus` is on); when they run out on an error, a {@link RestClientError} wraps it.
 * Not supported: a separate connect timeout, a per-host connection limit (Node's global dispatcher decides).
 */
import { createRequire } from "node:module";
import { type Logger, TsdltError } from "@tsdlt/core";
import ky, { type KyRequest, TimeoutError } from "ky";
import type { Auth } from "./auth.js";
import { RestClientError } from "./errors.js";
import { consoleLogger } from "./logger.js";
import { Redactor } from "./redact.js";
import {
  buildUrl,
  cloneRequest,
  HTTP_METHODS,
  type HttpMethod,
  type PreparedRequest,
  type QueryParams,
  type RequestData,
} from "./request.js";
import { HttpResponse } from "./response.js";
import {
  backoffDelay,
  type RetryConfig,
  type RetryOptions,
  resolveRetryOptions,
  retryDelayFor,
} from "./retry.js";

const VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;

/** The default `User-Agent`, as dlt sends `dlt/<version>`. */
export const USER_AGENT: string = `tsdlt/${VERSION}`;

/** Options of {@link createSession}. */
export interface SessionOptions extends RetryOptions {
  /** Headers sent with every request (request headers win). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Throw a {@link RestClientError} for 4xx/5xx responses (after retries). @default true */
  readonly raiseForStatus?: boolean;
  /** Where retry warnings go. @default warnings and errors to the console */
  readonly logger?: Logger;
  /** Extra redaction rules for messages and logs. */
  readonly redactor?: Redactor;
  /** The fetch implementation. @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
}

/** Options of one request. */
export interface RequestOptions {
  readonly params?: QueryParams | Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body. */
  readonly json?: unknown;
  /** A form (`application/x-www-form-urlencoded`) or text body. */
  readonly data?: RequestData;
  readonly auth?: Auth | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Overrides the session's setting for this request. */
  readonly raiseForStatus?: boolean;
  /** More redaction rules for this request's errors and logs. */
  readonly redactor?: Redactor | undefined;
}

/** Options of {@link HttpSession.send}. */
export interface SendOptions {
  readonly auth?: Auth | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly raiseForStatus?: boolean;
  /** More redaction rules for this request's errors and logs. */
  readonly redactor?: Redactor | undefined;
}

/** A retrying HTTP client. */
export interface HttpSession {
  /** The resolved retry settings. */
  readonly config: RetryConfig;
  /** Whether error statuses throw. */
  readonly raiseForStatus: boolean;
  /** Sends a prepared request (it is copied; auth is applied to the copy). */
  send(request: PreparedRequest, options?: SendOptions): Promise<HttpResponse>;
  request(method: HttpMethod, url: string, options?: RequestOptions): Promise<HttpResponse>;
  get(url: string, options?: RequestOptions): Promise<HttpResponse>;
  post(url: string, options?: RequestOptions): Promise<HttpResponse>;
  put(url: string, options?: RequestOptions): Promise<HttpResponse>;
  patch(url: string, options?: RequestOptions): Promise<HttpResponse>;
  delete(url: string, options?: RequestOptions): Promise<HttpResponse>;
  head(url: string, options?: RequestOptions): Promise<HttpResponse>;
  options(url: string, options?: RequestOptions): Promise<HttpResponse>;
}

/** A connection failure (refused, reset, broken mid-body) that may succeed when retried. */
class NetworkError extends Error {
  override name = "NetworkError";
  readonly code: string | undefined;
  constructor(cause: unknown) {
    const inner = (cause as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
    const code =
      typeof inner?.code === "string"
        ? inner.code
        : typeof (cause as { code?: unknown })?.code === "string"
          ? ((cause as { code: string }).code as string)
          : undefined;
    const detail = typeof inner?.message === "string" ? inner.message : undefined;
    const base = cause instanceof Error ? cause.message : String(cause);
    super(detail && detail !== base ? `${base}: ${detail}` : base, { cause });
    this.code = code;
  }
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);
const KY_METHODS = HTTP_METHODS.map((m) => m.toLowerCase()) as Array<Lowercase<HttpMethod>>;

/** Applies an auth object or hook to a request. */
export async function applyAuth(auth: Auth | undefined, request: PreparedRequest): Promise<void> {
  if (auth === undefined) return;
  if (typeof auth === "function") await auth(request);
  else await auth.apply(request);
}

/** The redaction rules an auth object adds (its secrets, its API key parameter or header). */
export function authRedactor(auth: Auth | undefined): Redactor | undefined {
  if (auth === undefined || typeof auth === "function" || auth.registerSecrets === undefined)
    return undefined;
  const redactor = new Redactor();
  auth.registerSecrets(redactor);
  return redactor;
}

function encodeBody(request: PreparedRequest, headers: Headers): string | URLSearchParams | undefined {
  if (request.json !== undefined && request.data !== undefined) {
    throw new TsdltError(
      "[tsdlt] [rest-client] A request cannot have both `json` and `data`: pass one of them.",
      {
        code: "INVALID_ARGUMENT",
      },
    );
  }
  if (request.json !== undefined) {
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return JSON.stringify(request.json);
  }
  if (request.data === undefined) return undefined;
  if (typeof request.data === "string" || request.data instanceof URLSearchParams) return request.data;
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(request.data)) form.append(k, String(v));
  return form;
}

/** An error without secrets: same name, code and (redacted) message, for `cause` chains. */
function sanitizedCause(error: unknown, redactor: Redactor): Error {
  const message = redactor.text(error instanceof Error ? error.message : String(error));
  const clean = new Error(message);
  clean.name = error instanceof Error ? error.name : "Error";
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string") Object.assign(clean, { code });
  return clean;
}

class Session implements HttpSession {
  readonly config: RetryConfig;
  readonly raiseForStatus: boolean;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #logger: Logger;
  readonly #redactor: Redactor;
  readonly #fetch: typeof globalThis.fetch;

  constructor(options: SessionOptions) {
    this.config = resolveRetryOptions(options);
    this.raiseForStatus = options.raiseForStatus ?? true;
    this.#headers = { "user-agent": USER_AGENT, ...options.headers };
    this.#logger = options.logger ?? consoleLogger;
    this.#redactor = options.redactor ?? new Redactor();
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  request(method: HttpMethod, url: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const request: PreparedRequest = {
      method,
      url,
      params: { ...options.params },
      headers: { ...options.headers },
    };
    if (options.json !== undefined) request.json = options.json;
    if (options.data !== undefined) request.data = options.data;
    const send: { -readonly [K in keyof SendOptions]: SendOptions[K] } = {};
    if (options.auth !== undefined) send.auth = options.auth;
    if (options.signal !== undefined) send.signal = options.signal;
    if (options.raiseForStatus !== undefined) send.raiseForStatus = options.raiseForStatus;
    if (options.redactor !== undefined) send.redactor = options.redactor;
    return this.send(request, send);
  }

  get(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("GET", url, options);
  }
  post(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("POST", url, options);
  }
  put(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("PUT", url, options);
  }
  patch(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("PATCH", url, options);
  }
  delete(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("DELETE", url, options);
  }
  head(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("HEAD", url, options);
  }
  options(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("OPTIONS", url, options);
  }

  async send(original: PreparedRequest, options: SendOptions = {}): Promise<HttpResponse> {
    const config = this.config;
    const request = cloneRequest(original);
    const redactor = this.#redactor.merge(authRedactor(options.auth)).merge(options.redactor);
    await applyAuth(options.auth, request);
    const url = buildUrl(request.url, request.params);
    const headers = new Headers(this.#headers);
    for (const [name, value] of Object.entries(request.headers)) headers.set(name, value);
    const body = encodeBody(request, headers);
    const method = request.method;
    const limit = config.maxAttempts - 1;
    const fetchImpl = this.#fetch;
    const logger = this.#logger;
    let attempts = 0;
    let pendingDelay = 0;
    let retryReason = "";

    const bufferingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const signal = input instanceof Request ? input.signal : init?.signal;
      try {
        const res = await fetchImpl(input, init);
        const bytes =
          NULL_BODY_STATUSES.has(res.status) || method === "HEAD" ? null : await res.arrayBuffer();
        const buffered = new Response(bytes, {
          status: res.status,
          statusText: res.statusText,
          headers: res.headers,
        });
        Object.defineProperty(buffered, "url", { value: res.url || url });
        return buffered;
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new NetworkError(error);
      }
    };

    const retryResponse = async (response: Response): Promise<boolean> => {
      if (config.statusCodes(response.status)) return true;
      if (config.retryConditions.length === 0) return false;
      const http = new HttpResponse({
        method,
        url,
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
        body: new Uint8Array(await response.arrayBuffer()),
        attempts,
        redactor,
      });
      return config.retryConditions.some((condition) => condition(http, undefined));
    };

    const retryError = (error: Error): boolean => {
      if (config.retryConditions.some((condition) => condition(undefined, error))) return true;
      if (!config.retryNetworkErrors) return false;
      return error instanceof NetworkError || error instanceof TimeoutError;
    };

    try {
      const response = await ky(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        timeout: config.timeoutMs,
        throwHttpErrors: false,
        fetch: bufferingFetch,
        ...(options.signal ? { signal: options.signal } : {}),
        retry: {
          limit,
          methods: KY_METHODS,
          statusCodes: [],
          afterStatusCodes: [],
          backoffLimit: config.maxRetryDelayMs,
          delay: (retry) => {
            pendingDelay = backoffDelay(retry, config);
            return pendingDelay;
          },
          retryOnTimeout: config.retryNetworkErrors,
          shouldRetry: ({ error }) => retryError(error),
        },
        hooks: {
          beforeRequest: [
            () => {
              attempts += 1;
            },
          ],
          afterResponse: [
            async (_request: KyRequest, _options, response, state) => {
              if (state.retryCount >= limit || !(await retryResponse(response))) return;
              pendingDelay = retryDelayFor(state.retryCount + 1, response, config);
              retryReason = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
              return ky.retry({ delay: pendingDelay, code: `HTTP_${response.status}` });
            },
          ],
          beforeRetry: [
            ({ error, retryCount }) => {
              const reason =
                error.name === "ForceRetryError" ? retryReason : redactor.text(error.message || error.name);
              logger.warn(
                `[tsdlt] [rest-client] \`${method} ${redactor.url(url)}\` failed (${reason}); retrying in ` +
                  `${(pendingDelay / 1000).toFixed(pendingDelay < 1000 ? 3 : 1)} s (attempt ${retryCount + 1} of ${config.maxAttempts}).`,
              );
            },
          ],
        },
      });
      const result = new HttpResponse({
        method,
        url: response.url || url,
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
        body: new Uint8Array(await response.arrayBuffer()),
        attempts,
        redactor,
      });
      if ((options.raiseForStatus ?? this.raiseForStatus) && result.status >= 400) throw result.toError();
      return result;
    } catch (error) {
      if (error instanceof TsdltError) throw error;
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const redactedUrl = redactor.url(url);
      const what =
        error instanceof TimeoutError
          ? `timed out after ${config.timeoutMs} ms`
          : error instanceof NetworkError
            ? `could not connect or the connection broke (${redactor.text(error.message)})`
            : `failed (${redactor.text(error instanceof Error ? error.message : String(error))})`;
      throw new RestClientError(
        `[tsdlt] [rest-client] \`${method} ${redactedUrl}\` ${what} after ${attempts} attempt${attempts === 1 ? "" : "s"}. ` +
          "Check that the server is reachable; raise `timeoutMs` or `maxAttempts` if it is slow.",
        {
          method,
          url: redactedUrl,
          attempts,
          retryable: true,
          cause: sanitizedCause(error, redactor),
        },
      );
    }
  }
}

/**
 * Creates a retrying HTTP session with dlt's defaults.
 *
 * @example
 * ```ts
 * const session = createSession({ maxAttempts: 3, timeoutMs: 10_000 });
 * const response = await session.get("https://api.github.com/repos/dlt-hub/dlt");
 * ```
 */
export function createSession(options: SessionOptions = {}): HttpSession {
  return new Session(options);
}
