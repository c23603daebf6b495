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
   * Replaces the session with one built from `options` (e.g. retry settings from `[runtime]` config via
   * `retryOptionsFromRuntimeConfig`). Later calls use it.
   */
  configure(options: SessionOptions): void;
}

let session: HttpSession | undefined;
const current = (): HttpSession => {
  session ??= createSession();
  return session;
};

/** A retrying HTTP helper with dlt's defaults (5 attempts, backoff 1-2-4-8 s, 60 s timeout). */
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
    session = createSession(options);
  },
});
