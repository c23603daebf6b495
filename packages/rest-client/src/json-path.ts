/**
 * JSON paths as dlt uses them: data selectors, `total_path`, `cursor_path`, `next_url_path`. Simple dotted
 * paths (`cursors.next`, `_links.next.href`, `$.data`) are walked directly; anything else (`data[*].id`,
 * filters, wildcards) goes to `jsonpath-rfc9535`. Paths without a leading `$` are taken as relative to the
 * root, as in jsonpath-ng. Writing (`*_body_path`) supports simple dotted paths only.
 */
import { TsdltError } from "@tsdlt/core";
import { query } from "jsonpath-rfc9535";

const SIMPLE_KEY = /^[A-Za-z_@][\w@-]*$/;
const SIMPLE_PATH = /^(?:\$\.)?[A-Za-z_@][\w@-]*(?:\.[A-Za-z_@][\w@-]*)*$/;

/** True for the whole-document selector `$`. */
export function isRootPath(path: string): boolean {
  return path.trim() === "$";
}

/** True for a dotted path of plain keys, optionally starting with `$.`. */
export function isSimplePath(path: string): boolean {
  return SIMPLE_PATH.test(path);
}

function keysOf(path: string): string[] {
  return (path.startsWith("$.") ? path.slice(2) : path).split(".");
}

function toRfcPath(path: string): string {
  const trimmed = path.trim();
  if (trimmed.startsWith("$")) return trimmed;
  if (trimmed.startsWith("[")) return `$${trimmed}`;
  return `$.${trimmed}`;
}

/** Every value the path matches, in document order (`$` matches the document itself). */
export function findValues(document: unknown, path: string): unknown[] {
  if (isRootPath(path)) return [document];
  if (isSimplePath(path)) {
    let current: unknown = document;
    for (const key of keysOf(path)) {
      if (current === null || typeof current !== "object" || Array.isArray(current)) return [];
      if (!Object.hasOwn(current, key)) return [];
      current = (current as Record<string, unknown>)[key];
    }
    return [current];
  }
  try {
    return query(document as Parameters<typeof query>[0], toRfcPath(path));
  } catch (error) {
    throw new TsdltError(
      `[tsdlt] [rest-client] Invalid JSONPath \`${path}\`: ${error instanceof Error ? error.message : String(error)}. ` +
        "Use a dotted path such as `data.items` or an RFC 9535 expression such as `$.data[*]`.",
      { code: "INVALID_ARGUMENT", cause: error },
    );
  }
}

/** The first value the path matches, or `undefined`. */
export function findValue(document: unknown, path: string): unknown {
  return findValues(document, path)[0];
}

/**
 * Sets `value` at a dotted path inside `target`, creating intermediate objects (for `cursor_body_path`,
 * `page_body_path`, …).
 */
export function setValueAtPath(target: Record<string, unknown>, path: string, value: unknown): void {
  if (!isSimplePath(path)) {
    throw new TsdltError(
      `[tsdlt] [rest-client] Cannot write to JSON path \`${path}\`: body paths must be dotted keys such as \`page.cursor\`.`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  const keys = keysOf(path);
  let current = target;
  for (const key of keys.slice(0, -1)) {
    const next = current[key];
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      const created: Record<string, unknown> = {};
      current[key] = created;
      current = created;
    } else {
      current = next as Record<string, unknown>;
    }
  }
  current[keys[keys.length - 1] as string] = value;
}

/** The path of a key sequence: dotted when every key is plain, bracketed (RFC 9535) otherwise. */
export function pathFromKeys(keys: readonly string[]): string {
  if (keys.length === 0) return "$";
  if (keys.every((k) => SIMPLE_KEY.test(k))) return keys.join(".");
  return `$${keys.map((k) => `['${k.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}']`).join("")}`;
}
