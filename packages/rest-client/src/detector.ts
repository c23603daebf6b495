/**
 * Auto-detection of the data selector (REFERENCE §9.4) and of the paginator (§9.3, dlt
 * `rest_client/detector.py`) from the first response, in dlt's order:
 *
 * 1. `Link` header with `rel="next"` → {@link HeaderLinkPaginator} (score 1.0)
 * 2. a body key starting with `next` holding a URL (or `{ href | url… }`) → {@link JSONLinkPaginator} (1.0)
 * 3. `total_pages` / `pages` / `totalpages` with an integer → {@link PageNumberPaginator} (0.5)
 * 4. a `next…` key with a non-URL value → {@link JSONResponseCursorPaginator} (0.5)
 * 5. otherwise {@link SinglePagePaginator} (0.0)
 */
import { findValue, pathFromKeys } from "./json-path.js";
import {
  HeaderLinkPaginator,
  JSONLinkPaginator,
  JSONResponseCursorPaginator,
  PageNumberPaginator,
  type Paginator,
  SinglePagePaginator,
} from "./paginators.js";
import type { HttpResponse } from "./response.js";

/** Keys that usually hold the records of a page. */
export const RECORD_KEYS: readonly string[] = Object.freeze([
  "data",
  "items",
  "results",
  "entries",
  "records",
  "rows",
  "entities",
  "payload",
  "content",
  "objects",
  "values",
]);

/** Keys that hold metadata, never records. */
export const NON_RECORD_KEYS: readonly string[] = Object.freeze([
  "meta",
  "metadata",
  "pagination",
  "links",
  "extras",
  "headers",
]);

const MAX_LIST_DEPTH = 3;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Every list in `document` whose key path has at most three keys, depth first, with its path. */
export function findAllLists(
  document: Record<string, unknown>,
  path: readonly string[] = [],
  out: Array<{ path: string[]; list: unknown[] }> = [],
): Array<{ path: string[]; list: unknown[] }> {
  if (path.length >= MAX_LIST_DEPTH) return out;
  for (const [key, value] of Object.entries(document)) {
    const keyPath = [...path, key];
    if (Array.isArray(value)) out.push({ path: keyPath, list: value });
    else if (isPlainObject(value)) findAllLists(value, keyPath, out);
  }
  return out;
}

/**
 * The data selector for a response body: `$` for a non-object; else the path of the first list under a
 * record key (`data`, `items`, `results`, …) outside metadata keys, else of the first list, else `$`.
 */
export function findResponsePageData(document: unknown): string {
  if (!isPlainObject(document)) return "$";
  const lists = findAllLists(document);
  if (lists.length === 0) return "$";
  const preferred = lists.find(
    ({ path }) =>
      RECORD_KEYS.includes((path[path.length - 1] as string).toLowerCase()) &&
      !path.some((k) => NON_RECORD_KEYS.includes(k.toLowerCase())),
  );
  return pathFromKeys((preferred ?? lists[0])?.path ?? []);
}

const NEXT_KEY = /^next/i;
const TOTAL_PAGES_KEY = /^total_pages$|^pages$|^totalpages$/i;
const URL_SUBKEY = /^(href|url)/i;

function looksLikeUrl(value: unknown): value is string {
  return typeof value === "string" && (/^http/i.test(value) || value.startsWith("/"));
}

/** Depth-first search for keys matching `pattern`, through nested objects. */
function findKeyPaths(document: Record<string, unknown>, pattern: RegExp, path: string[] = []): string[][] {
  const found: string[][] = [];
  for (const [key, value] of Object.entries(document)) {
    if (pattern.test(key)) found.push([...path, key]);
    if (isPlainObject(value)) found.push(...findKeyPaths(value, pattern, [...path, key]));
  }
  return found;
}

/** The path of a next-page URL in the body: `next`, `next_page`, `_links.next.href`, … */
export function findNextPageUrlPath(document: unknown): string | undefined {
  if (!isPlainObject(document)) return undefined;
  for (const keys of findKeyPaths(document, NEXT_KEY)) {
    const value = findValue(document, pathFromKeys(keys));
    if (looksLikeUrl(value)) return pathFromKeys(keys);
    if (isPlainObject(value)) {
      const sub = Object.keys(value).find((k) => URL_SUBKEY.test(k) && looksLikeUrl(value[k]));
      if (sub !== undefined) return pathFromKeys([...keys, sub]);
    }
  }
  return undefined;
}

/** The path of a next-page cursor in the body: a `next…` key holding a non-URL scalar. */
export function findNextCursorPath(document: unknown): string | undefined {
  if (!isPlainObject(document)) return undefined;
  for (const keys of findKeyPaths(document, NEXT_KEY)) {
    const value = findValue(document, pathFromKeys(keys));
    if ((typeof value === "string" && value !== "" && !looksLikeUrl(value)) || typeof value === "number") {
      return pathFromKeys(keys);
    }
  }
  return undefined;
}

/** The path of a total page count in the body. */
export function findTotalPagesPath(document: unknown): string | undefined {
  if (!isPlainObject(document)) return undefined;
  for (const keys of findKeyPaths(document, TOTAL_PAGES_KEY)) {
    const value = findValue(document, pathFromKeys(keys));
    if (
      typeof value === "number" ? Number.isInteger(value) : typeof value === "string" && /^\d+$/.test(value)
    ) {
      return pathFromKeys(keys);
    }
  }
  return undefined;
}

/** A detected paginator and how sure the detector is (1.0 certain, 0.5 a guess, 0 nothing found). */
export interface PaginatorDetection {
  readonly paginator: Paginator;
  readonly score: number;
}

/** Picks a paginator for `response` in dlt's order (see the module header). */
export function detectPaginator(response: HttpResponse): PaginatorDetection {
  if (response.links.next !== undefined) return { paginator: new HeaderLinkPaginator(), score: 1 };
  let body: unknown;
  try {
    body = response.json();
  } catch {
    body = undefined;
  }
  const nextUrl = findNextPageUrlPath(body);
  if (nextUrl !== undefined) return { paginator: new JSONLinkPaginator({ nextUrlPath: nextUrl }), score: 1 };
  const totalPages = findTotalPagesPath(body);
  if (totalPages !== undefined) {
    // The first request went out without a page number: it was the API's first page, so continue at 2.
    return {
      paginator: new PageNumberPaginator({ basePage: 1, page: 1, totalPath: totalPages }),
      score: 0.5,
    };
  }
  const cursor = findNextCursorPath(body);
  if (cursor !== undefined) {
    return { paginator: new JSONResponseCursorPaginator({ cursorPath: cursor }), score: 0.5 };
  }
  return { paginator: new SinglePagePaginator(), score: 0 };
}
