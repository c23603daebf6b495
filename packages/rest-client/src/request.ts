/**
 * The mutable request description that auth objects and paginators edit before it is sent (dlt hands them a
 * `requests.Request`): method, URL, query parameters, headers and a JSON or form body.
 */
import { TsdltError } from "@tsdlt/core";

/** HTTP methods the client sends. */
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
/** An HTTP method. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** A query parameter value; `null`/`undefined` are left out and arrays repeat the key. */
export type QueryValue = string | number | boolean | bigint | Date | null | undefined;
/** Query parameters. */
export type QueryParams = Readonly<Record<string, QueryValue | readonly QueryValue[]>>;
/** A form body: sent as `application/x-www-form-urlencoded` unless it is a string. */
export type RequestData = string | URLSearchParams | Readonly<Record<string, string | number | boolean>>;

/** A request before it is sent. Paginators and auth objects mutate it. */
export interface PreparedRequest {
  method: HttpMethod;
  /** Absolute URL; may already carry a query. */
  url: string;
  params: Record<string, unknown>;
  headers: Record<string, string>;
  /** A JSON body. */
  json?: unknown;
  /** A form or text body (not together with `json`). */
  data?: RequestData | undefined;
}

/** True for an absolute `http(s)` URL. */
export function isAbsoluteUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/**
 * `path` joined to `baseUrl` as dlt's `join_url` does: an absolute `path` wins, otherwise the base gets a
 * trailing slash and the path loses its leading one (`https://h/api` + `/users` → `https://h/api/users`).
 */
export function joinUrl(baseUrl: string | undefined, path: string): string {
  if (isAbsoluteUrl(path)) return path;
  if (!baseUrl) {
    if (path === "") {
      throw new TsdltError(
        "[tsdlt] [rest-client] No URL to request: set `baseUrl` or pass an absolute URL.",
        {
          code: "INVALID_ARGUMENT",
        },
      );
    }
    throw new TsdltError(
      `[tsdlt] [rest-client] Cannot request relative path \`${path}\` without a base URL: set \`baseUrl\` on the client.`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  if (path === "") return baseUrl;
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  return new URL(path.replace(/^\/+/, ""), base).href;
}

function stringify(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** `url` with `params` appended to its query (existing parameters are kept, as requests does). */
export function buildUrl(url: string, params: Readonly<Record<string, unknown>> | undefined): string {
  if (!params) return url;
  const entries: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(params)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (v !== undefined && v !== null) entries.push([key, stringify(v)]);
  }
  if (entries.length === 0) return url;
  const parsed = new URL(url);
  for (const [key, value] of entries) parsed.searchParams.append(key, value);
  return parsed.href;
}

/** A deep copy, so a prefetched request is not changed by later paginator updates. */
export function cloneRequest(request: PreparedRequest): PreparedRequest {
  const copy: PreparedRequest = {
    method: request.method,
    url: request.url,
    params: { ...request.params },
    headers: { ...request.headers },
  };
  if (request.json !== undefined) copy.json = structuredClone(request.json);
  if (request.data !== undefined) copy.data = request.data;
  return copy;
}

/** Identifies what a request would fetch: method, final URL and body. */
export function requestKey(request: PreparedRequest): string {
  const body =
    request.json !== undefined
      ? JSON.stringify(request.json)
      : request.data === undefined
        ? ""
        : typeof request.data === "string"
          ? request.data
          : new URLSearchParams(request.data as Record<string, string>).toString();
  return `${request.method} ${buildUrl(request.url, request.params)} ${body}`;
}
