/**
 * A fully read HTTP response. The session reads the body inside the retried attempt (so a connection that
 * breaks mid-body is retried like any network error), which makes `text()` and `json()` synchronous here;
 * `await response.json()` works as well.
 */
import { bodyExcerpt, httpStatusMessage, RestClientError } from "./errors.js";
import { parseLinkHeader } from "./link-header.js";
import type { Redactor } from "./redact.js";
import type { HttpMethod } from "./request.js";

/** What {@link HttpResponse} is built from. */
export interface HttpResponseInit {
  readonly method: HttpMethod;
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
  readonly attempts: number;
  readonly redactor: Redactor;
}

const decoder = new TextDecoder();

/** A received response with its body in memory. */
export class HttpResponse {
  readonly method: HttpMethod;
  /** The final URL (after redirects). May contain secrets: use {@link HttpResponse.redactedUrl} in messages. */
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /** How many times the request was sent to get this response. */
  readonly attempts: number;
  readonly #body: Uint8Array;
  readonly #redactor: Redactor;
  #text: string | undefined;
  #json: { value: unknown } | undefined;
  #links: Record<string, string> | undefined;

  constructor(init: HttpResponseInit) {
    this.method = init.method;
    this.url = init.url;
    this.status = init.status;
    this.statusText = init.statusText;
    this.headers = init.headers;
    this.attempts = init.attempts;
    this.#body = init.body;
    this.#redactor = init.redactor;
  }

  /** True for 2xx statuses. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** The URL with secrets masked. */
  get redactedUrl(): string {
    return this.#redactor.url(this.url);
  }

  /** The `Link` header as `rel → absolute URL` (requests' `response.links`). */
  get links(): Record<string, string> {
    this.#links ??= parseLinkHeader(this.headers.get("link"), this.url);
    return this.#links;
  }

  /** The raw body. */
  bytes(): Uint8Array {
    return this.#body;
  }

  /** The body decoded as UTF-8. */
  text(): string {
    this.#text ??= decoder.decode(this.#body);
    return this.#text;
  }

  /**
   * The body parsed as JSON; `undefined` for an empty body.
   * @throws RestClientError when the body is not JSON.
   */
  json<T = unknown>(): T {
    if (this.#json === undefined) {
      const text = this.text();
      if (text.trim() === "") {
        this.#json = { value: undefined };
      } else {
        try {
          this.#json = { value: JSON.parse(text) };
        } catch (error) {
          throw new RestClientError(
            `[tsdlt] [rest-client] The response of \`${this.method} ${this.redactedUrl}\` is not JSON ` +
              `(content-type \`${this.headers.get("content-type") ?? "none"}\`): ${this.excerpt()}. ` +
              "Check the URL, or read the body with `text()`.",
            {
              method: this.method,
              url: this.redactedUrl,
              status: this.status,
              statusText: this.statusText,
              bodyExcerpt: this.excerpt(),
              attempts: this.attempts,
              retryable: false,
              cause: error,
            },
          );
        }
      }
    }
    return this.#json.value as T;
  }

  /** A short excerpt of the body with secrets masked. */
  excerpt(max?: number): string {
    return this.#redactor.text(bodyExcerpt(this.text(), max));
  }

  /** The error this response stands for (whatever its status). */
  toError(): RestClientError {
    const excerpt = this.excerpt();
    return new RestClientError(
      httpStatusMessage({
        method: this.method,
        url: this.redactedUrl,
        status: this.status,
        statusText: this.statusText,
        bodyExcerpt: excerpt,
        attempts: this.attempts,
      }),
      {
        method: this.method,
        url: this.redactedUrl,
        status: this.status,
        statusText: this.statusText,
        bodyExcerpt: excerpt,
        attempts: this.attempts,
      },
    );
  }

  /** Throws a {@link RestClientError} for a 4xx or 5xx status (requests' `raise_for_status()`). */
  raiseForStatus(): void {
    if (this.status >= 400) throw this.toError();
  }
}
