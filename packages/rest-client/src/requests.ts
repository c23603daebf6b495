/**
 * The preconfigured HTTP helper of the tutorial (dlt `dlt.sources.helpers.requests`): `requests.get(url)`
 * with dlt's retry defaults that raises a {@link RestClientError} for error statuses after retries.
 *
 * @example
 * ```ts
 * const response = await requests.get("https://api.github.com/repos/dlt-hub/dlt/issues");
 * response.raiseForStatus();
 * yield response.json();
 * ```
 */
import type { HttpMethod } from "./request.js";
import type { HttpResponse } from "./response.js";
import { runtimeRetryOptions } from "./retry.js";
import { createSession, type HttpSession, type RequestOptions, type SessionOptions } from "./session.js";

/** The shape of {@link requests}. */
export interface Requests {
  request(method: HttpMethod, url: string, options?: RequestOptions): Promise<HttpResponse>;
  get(url: string, options?: RequestOptions): Promise<HttpResponse>;
  post(url: string, options?: RequestOptions): Promise<HttpResponse>;
  put(url: string, options?: RequestOptions): Promise<HttpResponse>;
  patch(url: string, options?: RequestOptions): Promise<HttpResponse>;
  delete(url: string, options?: RequestOptions): Promise<HttpResponse>;
  head(url: string, options?: RequestOptions): Promise<HttpResponse>;
  options(url: string, options?: RequestOptions): Promise<HttpResponse>;
  /** The session behind the helper. */
  readonly session: HttpSession;
  /**
   * Replaces the session with one built from `options` over the `[runtime] request_*` config; later
   * calls use it. `configure({})` goes back to the configured defaults.
   */
  configure(options: SessionOptions): void;
}

let configured: SessionOptions = {};
let session: HttpSession | undefined;
let sessionKey: string | undefined;

/**
 * The session for the next call: rebuilt when `configure()` was called or when the `[runtime]`
 * request settings (env, `.dlt/*.toml`) changed since the last call, as dlt recreates its sessions
 * when the config changes. Options given to `configure()` win over config.
 */
const current = (): HttpSession => {
  const runtime = runtimeRetryOptions();
  const key = JSON.stringify(runtime);
  if (session === undefined || key !== sessionKey) {
    session = createSession({ ...runtime, ...configured });
    sessionKey = key;
  }
  return session;
};

/**
 * A retrying HTTP helper with dlt's defaults (5 attempts, backoff 1-2-4-8 s, 60 s timeout), or the
 * `[runtime]` settings when configured (`RUNTIME__REQUEST_MAX_ATTEMPTS=2`, `request_timeout = 10` in
 * `.dlt/config.toml`, ...).
 */
export const requests: Requests = Object.freeze({
  request: (method: HttpMethod, url: string, options?: RequestOptions) =>
    current().request(method, url, options),
  get: (url: string, options?: RequestOptions) => current().get(url, options),
  post: (url: string, options?: RequestOptions) => current().post(url, options),
  put: (url: string, options?: RequestOptions) => current().put(url, options),
  patch: (url: string, options?: RequestOptions) => current().patch(url, options),
  delete: (url: string, options?: RequestOptions) => current().delete(url, options),
  head: (url: string, options?: RequestOptions) => current().head(url, options),
  options: (url: string, options?: RequestOptions) => current().options(url, options),
  get session(): HttpSession {
    return current();
  },
  configure(options: SessionOptions): void {
    configured = { ...options };
    session = undefined;
  },
});
