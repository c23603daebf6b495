/**
 * Encodes a batch of items as one typed-JSON line and rejects values that cannot be stored, naming
 * the table and the field path of the offending value.
 */
import { ExtractError, typedJsonReplacer } from "@tsdlt/core";

/** Why a value cannot be stored, or undefined when it can. */
function unstorableKind(value: unknown): string | undefined {
  switch (typeof value) {
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    case "object":
      if (value instanceof Map) return "a Map (convert it with Object.fromEntries)";
      if (value instanceof Set) return "a Set (convert it with Array.from)";
      if (value instanceof WeakMap || value instanceof WeakSet) return "a WeakMap/WeakSet";
      if (value instanceof Promise) return "a Promise (await it before yielding)";
      return undefined;
    default:
      return undefined;
  }
}

/** Replacer that PUA-encodes special values and throws on unstorable ones (path found later). */
function checkingReplacer(this: unknown, key: string, value: unknown): unknown {
  if (unstorableKind(value) !== undefined) throw new UnstorableValue();
  return typedJsonReplacer.call(this, key, value);
}

class UnstorableValue extends Error {}

/** Walks `value` to find the first unstorable value or cycle; returns its path and kind. */
function findProblem(
  value: unknown,
  path: string[],
  ancestors: Set<object>,
): { path: string; kind: string } | undefined {
  const kind = unstorableKind(value);
  if (kind !== undefined) return { path: path.join("."), kind };
  if (typeof value !== "object" || value === null || value instanceof Date || ArrayBuffer.isView(value)) {
    return undefined;
  }
  if (ancestors.has(value))
    return { path: path.join("."), kind: "a cyclic reference (the object contains itself)" };
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return undefined;
  ancestors.add(value);
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  for (const [key, child] of entries) {
    const found = findProblem(child, [...path, key], ancestors);
    if (found) return found;
  }
  ancestors.delete(value);
  return undefined;
}

/** Nesting depth beyond which the plain-JSON scan gives up (deep data, or a cycle). */
const PLAIN_SCAN_DEPTH = 64;

/** True for a primitive that plain `JSON.stringify` cannot render the typed-JSON way (or at all). */
function isSpecialPrimitive(v: unknown): boolean {
  const t = typeof v;
  return t === "bigint" || t === "function" || t === "symbol";
}

/**
 * True when the plain object `obj` (and everything in it) holds only what plain `JSON.stringify`
 * renders exactly as the typed-JSON replacer would: strings, numbers, booleans, null/undefined,
 * arrays and plain objects without `toJSON`. Anything else (Date, bigint, binary, Map, class
 * instances, functions, symbols, very deep or cyclic data) sends the batch down the replacer path.
 */
function isPlainObject(obj: object, depth: number): boolean {
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = obj as Record<string, unknown>;
  if (typeof record.toJSON === "function") return false;
  for (const key in record) {
    const v = record[key];
    if (typeof v === "object") {
      if (v !== null && !isPlainValue(v, depth + 1)) return false;
    } else if (isSpecialPrimitive(v)) return false;
  }
  return true;
}

/** {@link isPlainObject} for arrays. */
function isPlainArray(arr: readonly unknown[], depth: number): boolean {
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v === "object") {
      if (v !== null && !isPlainValue(v, depth + 1)) return false;
    } else if (isSpecialPrimitive(v)) return false;
  }
  return true;
}

function isPlainValue(v: object, depth: number): boolean {
  if (depth >= PLAIN_SCAN_DEPTH) return false;
  return Array.isArray(v) ? isPlainArray(v, depth) : isPlainObject(v, depth);
}

/**
 * Serializes `items` as one typed-JSON array line. Throws an {@link ExtractError} with code
 * `EXTRACT_INVALID_DATA` naming the table and field path when a value cannot be stored.
 *
 * Batches of plain JSON data (checked by a quick scan) are serialized by `JSON.stringify` alone; the
 * replacer, which costs a call per value, runs only for batches holding special values.
 */
export function encodeItems(items: readonly unknown[], table: string, resourceName: string): string {
  try {
    if (isPlainArray(items, 0)) return JSON.stringify(items);
    return JSON.stringify(items, checkingReplacer);
  } catch (error) {
    for (let i = 0; i < items.length; i++) {
      const problem = findProblem(items[i], [], new Set());
      if (problem) {
        const field = problem.path === "" ? "the item itself" : `field \`${problem.path}\``;
        throw new ExtractError(
          `Resource \`${resourceName}\` yielded an item for table \`${table}\` whose ${field} is ${problem.kind}, which cannot be stored. Remove or convert that value before yielding the item.`,
          { code: "EXTRACT_INVALID_DATA", table, path: problem.path, cause: error },
        );
      }
    }
    throw new ExtractError(
      `Resource \`${resourceName}\` yielded items for table \`${table}\` that cannot be serialized: ${(error as Error).message}`,
      { code: "EXTRACT_INVALID_DATA", table, cause: error },
    );
  }
}
