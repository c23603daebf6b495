/**
 * A generated paginated endpoint in one of the common styles, for tests and benchmarks that need more
 * pages than a recording holds (e.g. `rest-4x50`: four endpoints of 50 pages, 50 ms per page).
 */
import type { FixtureRequest, FixtureResponse, FixtureRoute } from "./fixture-server.js";

/** The pagination styles {@link pagedRoute} can serve. */
export const PAGE_STYLES = ["header_link", "json_link", "page_number", "offset", "cursor"] as const;
/** A pagination style. */
export type PageStyle = (typeof PAGE_STYLES)[number];

/** Options of {@link pagedRoute}. */
export interface PagedRouteOptions {
  /** The endpoint's pathname, e.g. `/repos/o/r/issues`. */
  readonly path: string;
  readonly style: PageStyle;
  /** Number of non-empty pages. */
  readonly pages: number;
  /** Items per page. @default 10 */
  readonly pageSize?: number;
  /** Builds the item at a 0-based global index. @default `{ id: index + 1 }` */
  readonly item?: (index: number) => unknown;
  /** Delay before each page. @default 0 */
  readonly delayMs?: number;
}

function itemsOf(options: PagedRouteOptions, start: number, count: number): unknown[] {
  const total = options.pages * (options.pageSize ?? 10);
  const make = options.item ?? ((index: number) => ({ id: index + 1 }));
  const out: unknown[] = [];
  for (let i = start; i < Math.min(start + count, total); i++) out.push(make(i));
  return out;
}

function intParam(request: FixtureRequest, name: string, fallback: number): number {
  const raw = request.url.searchParams.get(name);
  const value = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? value : fallback;
}

/**
 * One route answering every page of a generated endpoint:
 *
 * | style | request | response |
 * | --- | --- | --- |
 * | `header_link` | `?page=N` (1-based) | JSON array, `Link: <…?page=N+1>; rel="next"` |
 * | `json_link` | `?page=N` | `{ results, next: "<absolute url>" \| null }` |
 * | `page_number` | `?page=N` (1-based) | `{ data, page, total_pages }` |
 * | `offset` | `?offset=O&limit=L` | `{ items, total, offset, limit }` |
 * | `cursor` | `?cursor=C` | `{ items, cursors: { next: C' \| null } }` |
 */
export function pagedRoute(options: PagedRouteOptions): FixtureRoute {
  const size = options.pageSize ?? 10;
  const respond = (request: FixtureRequest): FixtureResponse => {
    const base = new URL(request.url.pathname, request.url);
    const delay = options.delayMs === undefined ? {} : { delayMs: options.delayMs };
    switch (options.style) {
      case "header_link":
      case "json_link": {
        const page = intParam(request, "page", 1);
        const items = itemsOf(options, (page - 1) * size, size);
        const next = new URL(base);
        next.searchParams.set("page", String(page + 1));
        const hasNext = page < options.pages;
        if (options.style === "json_link") {
          return { ...delay, body: { results: items, next: hasNext ? next.href : null } };
        }
        const last = new URL(base);
        last.searchParams.set("page", String(options.pages));
        const links = [...(hasNext ? [`<${next.href}>; rel="next"`] : []), `<${last.href}>; rel="last"`];
        return { ...delay, headers: { link: links.join(", ") }, body: items };
      }
      case "page_number": {
        const page = intParam(request, "page", 1);
        return {
          ...delay,
          body: { data: itemsOf(options, (page - 1) * size, size), page, total_pages: options.pages },
        };
      }
      case "offset": {
        const offset = intParam(request, "offset", 0);
        const limit = intParam(request, "limit", size);
        return {
          ...delay,
          body: { items: itemsOf(options, offset, limit), total: options.pages * size, offset, limit },
        };
      }
      case "cursor": {
        const cursor = request.url.searchParams.get("cursor");
        const page = cursor === null ? 1 : Number.parseInt(Buffer.from(cursor, "base64url").toString(), 10);
        const next = page < options.pages ? Buffer.from(String(page + 1)).toString("base64url") : null;
        return { ...delay, body: { items: itemsOf(options, (page - 1) * size, size), cursors: { next } } };
      }
    }
  };
  return { method: "GET", path: (url) => url.pathname === options.path, respond };
}
