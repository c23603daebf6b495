/**
 * The REST client's error: one class for error statuses, network errors, timeouts and unusable responses.
 * Every field that holds a URL or body text has already been through a {@link Redactor}.
 */
import { TsdltError } from "@tsdlt/core";

/** Longest response excerpt carried by an error. */
export const MAX_BODY_EXCERPT = 512;

/** Options of {@link RestClientError}. */
export interface RestClientErrorOptions {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The request URL, already redacted. */
  readonly url: string;
  /** The response status, when a response arrived. */
  readonly status?: number | undefined;
  readonly statusText?: string | undefined;
  /** A short, redacted excerpt of the response body. */
  readonly bodyExcerpt?: string | undefined;
  /** How many times the request was sent. */
  readonly attempts?: number | undefined;
  /** @default true for 429, 5xx and failures without a response; false otherwise */
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/** Statuses a later run may get past (rate limits, server errors, timeouts). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * An HTTP request failed: the server answered with an error status (after retries), the connection failed,
 * it timed out, or the response could not be used. The message names the method, the redacted URL, the
 * status and a short excerpt of the body, and suggests what to check.
 */
export class RestClientError extends TsdltError {
  override name = "RestClientError";
  readonly method: string;
  /** The request URL with secrets masked. */
  readonly url: string;
  readonly status: number | undefined;
  readonly statusText: string | undefined;
  readonly bodyExcerpt: string | undefined;
  readonly attempts: number | undefined;

  constructor(message: string, options: RestClientErrorOptions) {
    const retryable =
      options.retryable ?? (options.status === undefined ? true : isRetryableStatus(options.status));
    super(message, { code: "HTTP_REQUEST_FAILED", retryable, cause: options.cause });
    this.method = options.method;
    this.url = options.url;
    this.status = options.status;
    this.statusText = options.statusText;
    this.bodyExcerpt = options.bodyExcerpt;
    this.attempts = options.attempts;
  }

  override attrs(): Record<string, string | boolean> {
    const out = super.attrs();
    out.method = this.method;
    out.url = this.url;
    if (this.status !== undefined) out.status = String(this.status);
    return out;
  }
}

/** A short excerpt of a response body for messages: whitespace collapsed, cut at `max` characters. */
export function bodyExcerpt(text: string, max: number = MAX_BODY_EXCERPT): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}… (truncated)` : flat;
}

function hintFor(status: number): string {
  if (status === 401 || status === 403)
    return "Check the credentials (the `auth` option) and that they grant access to this resource.";
  if (status === 404) return "Check the base URL and the path.";
  if (status === 429) return "The API is rate limiting; lower the request rate or raise the retry settings.";
  if (status >= 500) return "The server failed; retrying later may help.";
  return "Check the request parameters against the API documentation.";
}

/** The message for an error status: `[tsdlt] [rest-client] GET <url> failed: 404 Client Error: Not Found. …` */
export function httpStatusMessage(options: {
  method: string;
  url: string;
  status: number;
  statusText?: string | undefined;
  bodyExcerpt?: string | undefined;
  attempts?: number | undefined;
}): string {
  const kind = options.status >= 500 ? "Server Error" : "Client Error";
  const reason = options.statusText ? `: ${options.statusText}` : "";
  const tries =
    options.attempts !== undefined && options.attempts > 1 ? ` after ${options.attempts} attempts` : "";
  const body = options.bodyExcerpt ? ` Response: ${options.bodyExcerpt}` : "";
  return (
    `[tsdlt] [rest-client] \`${options.method} ${options.url}\` failed${tries}: ` +
    `${options.status} ${kind}${reason}.${body} ${hintFor(options.status)}`
  );
}
