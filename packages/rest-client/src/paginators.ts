/**
 * Paginators (dlt `rest_client/paginators.py`, REFERENCE §9.3). A paginator prepares the first request,
 * reads the next-page state from each response and rewrites the request for the next page. Each
 * `paginate()` call works on its own {@link Paginator.clone}.
 *
 * Range paginators (offset, page number) whose end is known — a total in the response or a maximum —
 * also plan the requests of the following pages, so the client can fetch several pages at once.
 */
import { TsdltError } from "@tsdlt/core";
import { findValue, findValues, setValueAtPath } from "./json-path.js";
import type { PreparedRequest } from "./request.js";
import type { HttpResponse } from "./response.js";

/** The paginator contract. */
export interface Paginator {
  /** False once the last response said there is no further page. */
  readonly hasNextPage: boolean;
  /** Prepares the first request (e.g. sets `page=1`) and resets state. */
  initRequest(request: PreparedRequest): void;
  /** Reads the next-page state from a response and the page data extracted from it. */
  updateState(response: HttpResponse, data?: readonly unknown[]): void;
  /** Turns the request into the next page's request. */
  updateRequest(request: PreparedRequest): void;
  /** A fresh copy with the same settings and initial state. */
  clone(): Paginator;
  /**
   * Up to `count` requests of the pages after `request` (which is already the next page's), when they are
   * known before the next response arrives. Return `[]` when they are not.
   */
  plannedRequests?(request: PreparedRequest, count: number): PreparedRequest[];
  toString(): string;
}

/** A paginator base with the `hasNextPage` flag. */
export abstract class BasePaginator implements Paginator {
  protected nextPage = true;

  get hasNextPage(): boolean {
    return this.nextPage;
  }

  initRequest(_request: PreparedRequest): void {
    this.nextPage = true;
  }

  abstract updateState(response: HttpResponse, data?: readonly unknown[]): void;
  abstract updateRequest(request: PreparedRequest): void;
  abstract clone(): Paginator;

  toString(): string {
    return this.constructor.name;
  }
}

function responseJson(response: HttpResponse): unknown {
  return response.json();
}

function isTruthyFlag(value: unknown): boolean {
  if (typeof value === "string")
    return ["true", "1", "yes", "y", "t", "on"].includes(value.trim().toLowerCase());
  return Boolean(value);
}

/** Fetches a single page (rest_api `single_page`). */
export class SinglePagePaginator extends BasePaginator {
  updateState(): void {
    this.nextPage = false;
  }
  updateRequest(): void {}
  clone(): SinglePagePaginator {
    return new SinglePagePaginator();
  }
  override toString(): string {
    return "SinglePagePaginator()";
  }
}

/** Common part of the paginators that follow a next URL. */
abstract class BaseNextUrlPaginator extends BasePaginator {
  protected nextUrl: string | undefined;

  protected setNext(url: unknown, response: HttpResponse): void {
    if (typeof url !== "string" || url === "") {
      this.nextUrl = undefined;
      this.nextPage = false;
      return;
    }
    // A relative next URL is resolved against the URL of the response that carried it.
    this.nextUrl = new URL(url, response.url).href;
    this.nextPage = true;
  }

  updateRequest(request: PreparedRequest): void {
    if (this.nextUrl === undefined) return;
    request.url = this.nextUrl;
    // The next URL carries every query parameter: the original ones would be sent twice.
    request.params = {};
  }
}

/** Follows the `Link` header's `rel="next"` URL (rest_api `header_link`). */
export class HeaderLinkPaginator extends BaseNextUrlPaginator {
  readonly linksNextKey: string;
  constructor(options: { readonly linksNextKey?: string } = {}) {
    super();
    this.linksNextKey = options.linksNextKey ?? "next";
  }
  updateState(response: HttpResponse): void {
    this.setNext(response.links[this.linksNextKey.toLowerCase()], response);
  }
  clone(): HeaderLinkPaginator {
    return new HeaderLinkPaginator({ linksNextKey: this.linksNextKey });
  }
  override toString(): string {
    return `HeaderLinkPaginator(linksNextKey=${this.linksNextKey})`;
  }
}

/** Follows a next URL found at a JSON path of the body (rest_api `json_link`). */
export class JSONLinkPaginator extends BaseNextUrlPaginator {
  readonly nextUrlPath: string;
  constructor(options: { readonly nextUrlPath?: string } = {}) {
    super();
    this.nextUrlPath = options.nextUrlPath ?? "next";
  }
  updateState(response: HttpResponse): void {
    this.setNext(findValue(responseJson(response), this.nextUrlPath), response);
  }
  clone(): JSONLinkPaginator {
    return new JSONLinkPaginator({ nextUrlPath: this.nextUrlPath });
  }
  override toString(): string {
    return `JSONLinkPaginator(nextUrlPath=${this.nextUrlPath})`;
  }
}

/** Options shared by the range paginators. */
export interface RangePaginatorOptions {
  /** Where the total is read (a count of items for offsets, of pages for page numbers); `null` to not read it. */
  readonly totalPath?: string | null;
  /** Stop when a page has no data. @default true */
  readonly stopAfterEmptyPage?: boolean;
  /** A boolean (or `"true"`/`"false"`) in the body saying whether more pages follow. */
  readonly hasMorePath?: string | null;
}

interface RangeSettings {
  readonly totalPath: string | null | undefined;
  readonly stopAfterEmptyPage: boolean;
  readonly hasMorePath: string | null | undefined;
  readonly param: string;
  readonly bodyPath: string | undefined;
  readonly initialValue: number;
  readonly step: number;
  readonly baseIndex: number;
  readonly maximum: number | undefined;
  readonly itemsName: string;
}

/** Offset and page-number pagination: a counter sent as a query parameter or a JSON body field. */
abstract class RangePaginator extends BasePaginator {
  protected current: number;
  protected total: number | undefined;
  readonly #s: RangeSettings;

  constructor(settings: RangeSettings) {
    super();
    if (
      (settings.totalPath === undefined || settings.totalPath === null) &&
      settings.maximum === undefined &&
      settings.stopAfterEmptyPage === false &&
      (settings.hasMorePath === undefined || settings.hasMorePath === null)
    ) {
      throw new TsdltError(
        `[tsdlt] [rest-client] \`${new.target.name}\` would never stop: set \`totalPath\`, a maximum, \`hasMorePath\` or \`stopAfterEmptyPage\`.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    this.#s = settings;
    this.current = settings.initialValue;
  }

  protected setValue(
    request: PreparedRequest,
    param: string,
    bodyPath: string | undefined,
    value: number,
  ): void {
    if (bodyPath !== undefined) {
      const body =
        request.json !== null && typeof request.json === "object" && !Array.isArray(request.json)
          ? (request.json as Record<string, unknown>)
          : {};
      setValueAtPath(body, bodyPath, value);
      request.json = body;
    } else {
      request.params[param] = value;
    }
  }

  protected applyCurrent(request: PreparedRequest, value: number = this.current): void {
    this.setValue(request, this.#s.param, this.#s.bodyPath, value);
  }

  override initRequest(request: PreparedRequest): void {
    super.initRequest(request);
    this.current = this.#s.initialValue;
    this.total = undefined;
    this.applyCurrent(request);
  }

  updateState(response: HttpResponse, data?: readonly unknown[]): void {
    const s = this.#s;
    if (s.stopAfterEmptyPage !== false && (data === undefined || data.length === 0)) {
      this.nextPage = false;
      return;
    }
    const json = s.totalPath || s.hasMorePath ? responseJson(response) : undefined;
    if (s.totalPath) {
      const raw = findValue(json, s.totalPath);
      const total =
        typeof raw === "number" ? raw : typeof raw === "string" ? Number.parseInt(raw, 10) : Number.NaN;
      if (raw === undefined || raw === null) {
        throw new TsdltError(
          `[tsdlt] [rest-client] Total ${s.itemsName} not found at \`${s.totalPath}\` in the response of ` +
            `\`${response.method} ${response.redactedUrl}\`. Set \`totalPath\` to where the API reports it, or \`totalPath: null\` to stop on an empty page.`,
          { code: "INVALID_ARGUMENT" },
        );
      }
      if (!Number.isFinite(total)) {
        throw new TsdltError(
          `[tsdlt] [rest-client] Total ${s.itemsName} at \`${s.totalPath}\` is not an integer (\`${String(raw)}\`).`,
          { code: "INVALID_ARGUMENT" },
        );
      }
      this.total = total;
    }
    this.current += s.step;
    if (this.#pastEnd(this.current)) this.nextPage = false;
    if (s.hasMorePath) {
      const hasMore = findValue(json, s.hasMorePath);
      if (hasMore === undefined || hasMore === null) {
        throw new TsdltError(
          `[tsdlt] [rest-client] \`hasMorePath\` \`${s.hasMorePath}\` not found in the response of \`${response.method} ${response.redactedUrl}\`.`,
          { code: "INVALID_ARGUMENT" },
        );
      }
      if (!isTruthyFlag(hasMore)) this.nextPage = false;
    }
  }

  #pastEnd(value: number): boolean {
    const s = this.#s;
    return (
      (this.total !== undefined && value >= this.total + s.baseIndex) ||
      (s.maximum !== undefined && value >= s.maximum)
    );
  }

  updateRequest(request: PreparedRequest): void {
    this.applyCurrent(request);
  }

  plannedRequests(request: PreparedRequest, count: number): PreparedRequest[] {
    const s = this.#s;
    // Only when the end is known up front and no per-page flag decides.
    if (s.hasMorePath || (this.total === undefined && s.maximum === undefined) || !this.nextPage) return [];
    const out: PreparedRequest[] = [];
    for (let k = 1; k <= count; k++) {
      const value = this.current + k * s.step;
      if (this.#pastEnd(value)) break;
      const next: PreparedRequest = {
        ...request,
        params: { ...request.params },
        headers: { ...request.headers },
        ...(request.json !== undefined ? { json: structuredClone(request.json) } : {}),
      };
      this.applyCurrent(next, value);
      out.push(next);
    }
    return out;
  }
}

/** Options of {@link PageNumberPaginator}. */
export interface PageNumberPaginatorOptions extends RangePaginatorOptions {
  /** The number of the first page. @default 0 */
  readonly basePage?: number;
  /** The page to start at. @default basePage */
  readonly page?: number;
  /** @default "page" */
  readonly pageParam?: string;
  /** Send the page number in the JSON body at this dotted path instead of the query. */
  readonly pageBodyPath?: string;
  /** Stop before this page number. */
  readonly maximumPage?: number;
}

/**
 * Sends a page number and increments it (rest_api `page_number`). Stops on an empty page, when the page
 * reaches `total + basePage` (total pages read from `totalPath`, default `total`), at `maximumPage`, or when
 * `hasMorePath` is false.
 */
export class PageNumberPaginator extends RangePaginator {
  readonly #options: PageNumberPaginatorOptions;
  constructor(options: PageNumberPaginatorOptions = {}) {
    const basePage = options.basePage ?? 0;
    super({
      param: options.pageParam ?? "page",
      bodyPath: options.pageBodyPath,
      initialValue: options.page ?? basePage,
      step: 1,
      baseIndex: basePage,
      maximum: options.maximumPage,
      totalPath: options.totalPath === undefined ? "total" : options.totalPath,
      stopAfterEmptyPage: options.stopAfterEmptyPage ?? true,
      hasMorePath: options.hasMorePath,
      itemsName: "pages",
    });
    this.#options = { ...options };
  }
  /** The page number the next request asks for. */
  get page(): number {
    return this.current;
  }
  clone(): PageNumberPaginator {
    return new PageNumberPaginator(this.#options);
  }
  override toString(): string {
    const o = this.#options;
    return `PageNumberPaginator(basePage=${o.basePage ?? 0}, pageParam=${o.pageBodyPath ?? o.pageParam ?? "page"}, totalPath=${o.totalPath === undefined ? "total" : o.totalPath})`;
  }
}

/** Options of {@link OffsetPaginator}. */
export interface OffsetPaginatorOptions extends RangePaginatorOptions {
  /** Items per page. */
  readonly limit: number;
  /** @default 0 */
  readonly offset?: number;
  /** @default "offset" */
  readonly offsetParam?: string;
  /** @default "limit" */
  readonly limitParam?: string;
  /** Send the offset in the JSON body at this dotted path instead of the query. */
  readonly offsetBodyPath?: string;
  /** Send the limit in the JSON body at this dotted path instead of the query. */
  readonly limitBodyPath?: string;
  /** Stop before this offset. */
  readonly maximumOffset?: number;
}

/**
 * Sends an offset and a limit and advances the offset by the limit (rest_api `offset`). Stops on an empty
 * page, when the offset reaches the total (read from `totalPath`, default `total`), at `maximumOffset`, or
 * when `hasMorePath` is false.
 */
export class OffsetPaginator extends RangePaginator {
  readonly #options: OffsetPaginatorOptions;
  constructor(options: OffsetPaginatorOptions) {
    if (!Number.isInteger(options?.limit) || options.limit <= 0) {
      throw new TsdltError("[tsdlt] [rest-client] `OffsetPaginator` needs a positive integer `limit`.", {
        code: "INVALID_ARGUMENT",
      });
    }
    super({
      param: options.offsetParam ?? "offset",
      bodyPath: options.offsetBodyPath,
      initialValue: options.offset ?? 0,
      step: options.limit,
      baseIndex: 0,
      maximum: options.maximumOffset,
      totalPath: options.totalPath === undefined ? "total" : options.totalPath,
      stopAfterEmptyPage: options.stopAfterEmptyPage ?? true,
      hasMorePath: options.hasMorePath,
      itemsName: "items",
    });
    this.#options = { ...options };
  }
  /** The offset the next request asks for. */
  get offset(): number {
    return this.current;
  }
  protected override applyCurrent(request: PreparedRequest, value: number = this.current): void {
    super.applyCurrent(request, value);
    const o = this.#options;
    this.setValue(request, o.limitParam ?? "limit", o.limitBodyPath, o.limit);
  }
  clone(): OffsetPaginator {
    return new OffsetPaginator(this.#options);
  }
  override toString(): string {
    const o = this.#options;
    return `OffsetPaginator(limit=${o.limit}, offsetParam=${o.offsetBodyPath ?? o.offsetParam ?? "offset"}, totalPath=${o.totalPath === undefined ? "total" : o.totalPath})`;
  }
}

/** Options of {@link JSONResponseCursorPaginator}. */
export interface JSONResponseCursorPaginatorOptions {
  /** Where the next cursor is in the body. @default "cursors.next" */
  readonly cursorPath?: string;
  /** The query parameter that carries it. @default "cursor" */
  readonly cursorParam?: string;
  /** Send the cursor in the JSON body at this dotted path instead of the query. */
  readonly cursorBodyPath?: string;
  /** Stop when a page has no data. @default false */
  readonly stopAfterEmptyPage?: boolean;
  /** A boolean in the body saying whether more pages follow. */
  readonly hasMorePath?: string | null;
}

/** Reads a cursor from the body and sends it with the next request (rest_api `cursor`). */
export class JSONResponseCursorPaginator extends BasePaginator {
  readonly cursorPath: string;
  readonly cursorParam: string;
  readonly #options: JSONResponseCursorPaginatorOptions;
  #cursor: unknown;

  constructor(options: JSONResponseCursorPaginatorOptions = {}) {
    super();
    this.#options = { ...options };
    this.cursorPath = options.cursorPath ?? "cursors.next";
    this.cursorParam = options.cursorParam ?? "cursor";
  }

  override initRequest(request: PreparedRequest): void {
    super.initRequest(request);
    this.#cursor = undefined;
  }

  updateState(response: HttpResponse, data?: readonly unknown[]): void {
    const o = this.#options;
    if (o.stopAfterEmptyPage && (data === undefined || data.length === 0)) {
      this.#stop();
      return;
    }
    const json = responseJson(response);
    const values = findValues(json, this.cursorPath);
    const cursor = values[0];
    if (cursor === undefined || cursor === null || cursor === "" || cursor === false) {
      this.#stop();
      return;
    }
    this.#cursor = cursor;
    this.nextPage = true;
    if (o.hasMorePath) {
      const hasMore = findValue(json, o.hasMorePath);
      if (hasMore === undefined || hasMore === null || !isTruthyFlag(hasMore)) this.#stop();
    }
  }

  #stop(): void {
    this.#cursor = undefined;
    this.nextPage = false;
  }

  updateRequest(request: PreparedRequest): void {
    if (this.#cursor === undefined) return;
    if (this.#options.cursorBodyPath !== undefined) {
      const body =
        request.json !== null && typeof request.json === "object" && !Array.isArray(request.json)
          ? (request.json as Record<string, unknown>)
          : {};
      setValueAtPath(body, this.#options.cursorBodyPath, this.#cursor);
      request.json = body;
    } else {
      request.params[this.cursorParam] = this.#cursor;
    }
  }

  clone(): JSONResponseCursorPaginator {
    return new JSONResponseCursorPaginator(this.#options);
  }

  override toString(): string {
    return `JSONResponseCursorPaginator(cursorPath=${this.cursorPath}, cursorParam=${this.#options.cursorBodyPath ?? this.cursorParam})`;
  }
}

/** Reads a cursor from a response header and sends it as a query parameter (rest_api `header_cursor`). */
export class HeaderCursorPaginator extends BasePaginator {
  readonly cursorKey: string;
  readonly cursorParam: string;
  #cursor: string | undefined;

  constructor(options: { readonly cursorKey?: string; readonly cursorParam?: string } = {}) {
    super();
    this.cursorKey = options.cursorKey ?? "next";
    this.cursorParam = options.cursorParam ?? "cursor";
  }

  override initRequest(request: PreparedRequest): void {
    super.initRequest(request);
    this.#cursor = undefined;
  }

  updateState(response: HttpResponse): void {
    const cursor = response.headers.get(this.cursorKey);
    this.#cursor = cursor === null || cursor === "" ? undefined : cursor;
    this.nextPage = this.#cursor !== undefined;
  }

  updateRequest(request: PreparedRequest): void {
    if (this.#cursor !== undefined) request.params[this.cursorParam] = this.#cursor;
  }

  clone(): HeaderCursorPaginator {
    return new HeaderCursorPaginator({ cursorKey: this.cursorKey, cursorParam: this.cursorParam });
  }

  override toString(): string {
    return `HeaderCursorPaginator(cursorKey=${this.cursorKey}, cursorParam=${this.cursorParam})`;
  }
}
