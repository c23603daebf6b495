/**
 * `RESTClient` and `paginate()` (dlt `rest_client/client.py`, REFERENCE §9.2): a base URL, default headers,
 * auth, a paginator and a data selector shared by every call; `paginate()` yields one array per page.
 *
 * Overlap: while the consumer processes a page, the next page is already being fetched (the next request is
 * known as soon as the response is). Range paginators whose end is known plan further pages, and up to
 * `prefetch` requests run at once; pages are still yielded in order. A consumer that stops early aborts
 * the requests in flight.
 */
import { type Logger, TsdltError } from "@tsdlt/core";
import type { Auth } from "./auth.js";
import { detectPaginator, findResponsePageData } from "./detector.js";
import { findValues, isRootPath } from "./json-path.js";
import { consoleLogger } from "./logger.js";
import type { Paginator } from "./paginators.js";
import type { Redactor } from "./redact.js";
import {
  cloneRequest,
  type HttpMethod,
  joinUrl,
  type PreparedRequest,
  type QueryParams,
  type RequestData,
  requestKey,
} from "./request.js";
import type { HttpResponse } from "./response.js";
import { type RetryOptions, runtimeRetryOptions } from "./retry.js";
import { createSession, type HttpSession, type SendOptions } from "./session.js";

/** What a page carries besides its items (dlt's `PageData`); not enumerable, so the page is a plain array. */
export interface PageContext {
  /** The request that fetched the page (after paginator updates, before auth). */
  readonly request: PreparedRequest;
  readonly response: HttpResponse;
  /** The paginator, with the state after this page. */
  readonly paginator: Paginator;
  readonly auth: Auth | undefined;
}

/** One page of items. */
export type Page<T = unknown> = T[] & PageContext;

/** Thrown by a response hook to skip the response: pagination ends without an error. */
export class IgnoreResponseError extends Error {
  override name = "IgnoreResponseError";
  constructor(message = "The response was ignored by a response hook.") {
    super(message);
  }
}

/** A hook that sees every response before it is checked and paginated. Throw {@link IgnoreResponseError} to skip it. */
export type ResponseHook = (response: HttpResponse, request: PreparedRequest) => void | Promise<void>;

/** Hooks of a `paginate()` call. */
export interface PaginateHooks {
  /** Called in order for each response. When given, error statuses raise only after the hooks ran. */
  readonly response?: readonly ResponseHook[];
}

/** Options of {@link RESTClient.request}. */
export interface ClientRequestOptions {
  readonly method?: HttpMethod;
  readonly params?: QueryParams | Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  readonly data?: RequestData;
  /** Overrides the client's auth for this request. */
  readonly auth?: Auth;
  readonly signal?: AbortSignal;
}

/** Options of {@link RESTClient.paginate} and {@link paginate}. */
export interface PaginateOptions extends ClientRequestOptions {
  /** Overrides the client's paginator; auto-detected from the first response when neither is set. */
  readonly paginator?: Paginator;
  /** A JSON path to the page's items; auto-detected from the first response when neither is set. */
  readonly dataSelector?: string;
  readonly hooks?: PaginateHooks;
  /**
   * Requests allowed in flight ahead of the page the consumer holds. 0 fetches lazily; 1 overlaps the next
   * page with the consumer; more lets range paginators with a known end fetch several pages at once.
   * @default the client's `prefetch`
   */
  readonly prefetch?: number;
}

/** Options of {@link RESTClient}. */
export interface RESTClientOptions {
  /** Joined with every relative path; absolute URLs ignore it. */
  readonly baseUrl?: string;
  /** Sent with every request; request headers win. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly auth?: Auth;
  /** Used by every `paginate()` call that sets none (each call works on a copy). */
  readonly paginator?: Paginator;
  readonly dataSelector?: string;
  /**
   * The HTTP session. @default a retrying session that does not raise on error statuses (the client
   * raises after the response hooks), with `retry` over the `[runtime] request_*` config over dlt's
   * defaults
   */
  readonly session?: HttpSession;
  /**
   * Retry and timeout settings of the default session; they win over the `[runtime]` config
   * (`request_max_attempts`, `request_backoff_factor`, `request_max_retry_delay`, `request_timeout`).
   * Ignored when a `session` is given.
   */
  readonly retry?: RetryOptions;
  readonly logger?: Logger;
  /** Extra redaction rules for errors and logs. */
  readonly redactor?: Redactor;
  /** See {@link PaginateOptions.prefetch}. @default 4 */
  readonly prefetch?: number;
}

/** The default number of requests in flight ahead of the consumer. */
export const DEFAULT_PREFETCH = 4;

interface InFlight {
  readonly key: string;
  readonly request: PreparedRequest;
  readonly controller: AbortController;
  readonly promise: Promise<HttpResponse>;
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/**
 * The items of a page: the data selector's match (a single matched list is unwrapped), `[]` for nothing or
 * null, and a non-list wrapped in a list.
 */
export function extractPageData(
  body: unknown,
  dataSelector: string,
): { readonly data: unknown[]; readonly missing: boolean; readonly wasList: boolean } {
  let value: unknown;
  if (isRootPath(dataSelector)) {
    value = body;
  } else {
    const matches = findValues(body, dataSelector);
    value = matches.length === 0 ? undefined : matches.length === 1 ? matches[0] : matches;
  }
  if (value === undefined || value === null) return { data: [], missing: true, wasList: false };
  return Array.isArray(value)
    ? { data: value, missing: false, wasList: true }
    : { data: [value], missing: false, wasList: false };
}

/**
 * A REST API client.
 *
 * @example
 * ```ts
 * const github = new RESTClient({
 *   baseUrl: "https://api.github.com",
 *   auth: new BearerTokenAuth({ token: process.env.GITHUB_TOKEN! }),
 *   paginator: new HeaderLinkPaginator(),
 * });
 * for await (const page of github.paginate("/repos/dlt-hub/dlt/issues", { params: { per_page: 100 } })) {
 *   console.log(page.length, page.response.status);
 * }
 * ```
 */
export class RESTClient {
  readonly baseUrl: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: Auth | undefined;
  readonly paginator: Paginator | undefined;
  readonly dataSelector: string | undefined;
  readonly session: HttpSession;
  readonly prefetch: number;
  readonly #logger: Logger;
  readonly #redactor: Redactor | undefined;

  constructor(options: RESTClientOptions = {}) {
    this.baseUrl = options.baseUrl;
    this.headers = { ...options.headers };
    this.auth = options.auth;
    this.paginator = options.paginator;
    this.dataSelector = options.dataSelector;
    this.#logger = options.logger ?? consoleLogger;
    this.#redactor = options.redactor;
    this.session =
      options.session ??
      createSession({
        ...runtimeRetryOptions(),
        ...options.retry,
        raiseForStatus: false,
        logger: this.#logger,
        ...(options.redactor ? { redactor: options.redactor } : {}),
      });
    this.prefetch = Math.max(0, Math.floor(options.prefetch ?? DEFAULT_PREFETCH));
  }

  #prepare(path: string, options: ClientRequestOptions): PreparedRequest {
    if (options.json !== undefined && options.data !== undefined) {
      throw new TsdltError(
        "[tsdlt] [rest-client] A request cannot have both `json` and `data`: pass one of them.",
        {
          code: "INVALID_ARGUMENT",
        },
      );
    }
    const request: PreparedRequest = {
      method: options.method ?? "GET",
      url: joinUrl(this.baseUrl, path),
      params: { ...options.params },
      headers: { ...this.headers, ...options.headers },
    };
    if (options.json !== undefined) request.json = structuredClone(options.json);
    if (options.data !== undefined) request.data = options.data;
    return request;
  }

  #sendOptions(auth: Auth | undefined, signal: AbortSignal | undefined): SendOptions {
    return {
      ...(auth !== undefined ? { auth } : {}),
      ...(signal !== undefined ? { signal } : {}),
      ...(this.#redactor !== undefined ? { redactor: this.#redactor } : {}),
      raiseForStatus: false,
    };
  }

  /** Sends one request; error statuses throw a {@link RestClientError} after retries. */
  async request(path = "", options: ClientRequestOptions = {}): Promise<HttpResponse> {
    const request = this.#prepare(path, options);
    const response = await this.session.send(
      request,
      this.#sendOptions(options.auth ?? this.auth, options.signal),
    );
    response.raiseForStatus();
    return response;
  }

  /** `GET` a path. */
  get(
    path = "",
    options: Omit<ClientRequestOptions, "method" | "json" | "data"> = {},
  ): Promise<HttpResponse> {
    return this.request(path, { ...options, method: "GET" });
  }

  /** `POST` to a path with a JSON (`json`) or form (`data`) body. */
  post(path = "", options: Omit<ClientRequestOptions, "method"> = {}): Promise<HttpResponse> {
    return this.request(path, { ...options, method: "POST" });
  }

  /**
   * Iterates the pages of `path`. Each page is an array of items with the request, response and paginator
   * attached (not enumerable). Stops when the paginator has no next page or a response hook throws
   * {@link IgnoreResponseError}.
   */
  async *paginate<T = unknown>(
    path = "",
    options: PaginateOptions = {},
  ): AsyncGenerator<Page<T>, void, undefined> {
    const request = this.#prepare(path, options);
    const auth = options.auth ?? this.auth;
    const template = options.paginator ?? this.paginator;
    let paginator: Paginator | undefined = template?.clone();
    let dataSelector = options.dataSelector ?? this.dataSelector;
    const hooks = options.hooks?.response ?? [];
    const depth = Math.max(0, Math.floor(options.prefetch ?? this.prefetch));
    const inFlight: InFlight[] = [];
    const logger = this.#logger;

    const start = (next: PreparedRequest): InFlight => {
      const controller = new AbortController();
      const signal = options.signal
        ? AbortSignal.any([options.signal, controller.signal])
        : controller.signal;
      const copy = cloneRequest(next);
      const promise = this.session.send(copy, this.#sendOptions(auth, signal));
      // Awaited later in order; a failure before then must not be an unhandled rejection.
      promise.catch(() => {});
      return { key: requestKey(copy), request: copy, controller, promise };
    };
    const abortFrom = (index: number): void => {
      for (const entry of inFlight.splice(index)) entry.controller.abort();
    };
    /** Makes the in-flight queue exactly `wanted`, keeping requests already running for the same page. */
    const schedule = (wanted: readonly PreparedRequest[]): void => {
      for (let i = 0; i < wanted.length; i++) {
        const want = wanted[i] as PreparedRequest;
        const key = requestKey(want);
        const running = inFlight[i];
        if (running?.key === key) continue;
        abortFrom(i);
        inFlight.push(start(want));
      }
      abortFrom(wanted.length);
    };
    const upcoming = (count: number): PreparedRequest[] => {
      if (count <= 0 || paginator === undefined || !paginator.hasNextPage) return [];
      return [request, ...(paginator.plannedRequests?.(request, count - 1) ?? [])].slice(0, count);
    };

    paginator?.initRequest(request);
    schedule([request]);
    try {
      while (true) {
        if (inFlight.length === 0) schedule(upcoming(Math.max(1, depth)));
        const current = inFlight.shift() as InFlight;
        let response: HttpResponse;
        try {
          response = await current.promise;
        } catch (error) {
          if (options.signal?.aborted && isAbortError(error)) throw options.signal.reason ?? error;
          throw error;
        }
        try {
          for (const hook of hooks) await hook(response, current.request);
        } catch (error) {
          if (error instanceof IgnoreResponseError) {
            logger.debug(
              `[tsdlt] [rest-client] Ignoring response ${response.status} of \`${response.method} ${response.redactedUrl}\`.`,
            );
            return;
          }
          throw error;
        }
        response.raiseForStatus();

        const body = response.json();
        if (dataSelector === undefined) {
          dataSelector = findResponsePageData(body);
          logger.debug(
            `[tsdlt] [rest-client] Detected data selector \`${dataSelector}\` for \`${response.redactedUrl}\`.`,
          );
        }
        const { data, missing, wasList } = extractPageData(body, dataSelector);
        if (missing && !isRootPath(dataSelector)) {
          logger.warn(
            `[tsdlt] [rest-client] Data selector \`${dataSelector}\` found no items in the response of ` +
              `\`${response.method} ${response.redactedUrl}\`; the page is empty. Check \`dataSelector\`.`,
          );
        }
        if (paginator === undefined) {
          const detected = detectPaginator(response);
          paginator = detected.paginator;
          const name = paginator.toString();
          logger.info(`[tsdlt] [rest-client] Detected paginator ${name} for \`${response.redactedUrl}\`.`);
          if (detected.score === 0 && wasList && data.length > 0) {
            logger.warn(
              `[tsdlt] [rest-client] No pagination detected for \`${response.redactedUrl}\`: fetching a single page. ` +
                "Set `paginator` if the API pages its results.",
            );
          } else if (detected.score > 0 && detected.score < 1) {
            logger.warn(
              `[tsdlt] [rest-client] Paginator ${name} for \`${response.redactedUrl}\` is a guess; ` +
                "set `paginator` explicitly to be sure.",
            );
          }
        }
        paginator.updateState(response, data);
        const page = data as Page<T>;
        Object.defineProperties(page, {
          request: { value: current.request, enumerable: false },
          response: { value: response, enumerable: false },
          paginator: { value: paginator, enumerable: false },
          auth: { value: auth, enumerable: false },
        });
        if (!paginator.hasNextPage) {
          abortFrom(0);
          yield page;
          return;
        }
        paginator.updateRequest(request);
        // Overlap: start the next request(s) before handing the page to the consumer.
        if (depth > 0) schedule(upcoming(depth));
        else abortFrom(0);
        yield page;
      }
    } finally {
      abortFrom(0);
    }
  }
}

/**
 * Iterates the pages of `url` with a one-off {@link RESTClient} (dlt's `paginate`). Paginator and data
 * selector are auto-detected unless given.
 *
 * @example
 * ```ts
 * for await (const page of paginate("https://api.github.com/repos/dlt-hub/dlt/issues", { params: { per_page: 100 } })) {
 *   yield page;
 * }
 * ```
 */
export function paginate<T = unknown>(
  url: string,
  options: PaginateOptions & Pick<RESTClientOptions, "session" | "retry" | "logger" | "redactor"> = {},
): AsyncGenerator<Page<T>, void, undefined> {
  const client = new RESTClient({
    baseUrl: url,
    ...(options.session ? { session: options.session } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.redactor ? { redactor: options.redactor } : {}),
  });
  return client.paginate<T>("", options);
}
