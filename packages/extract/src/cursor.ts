/**
 * Cursor helpers of incremental loading: cursor paths into raw items, ordering of cursor values
 * (numbers, bigints, strings, Dates, ISO strings against Dates), lag arithmetic and the row hashes
 * of boundary deduplication.
 */
import { digest128 } from "@tsdlt/core";

/** A compiled cursor path: property names and array indexes. */
export type CursorPath = readonly (string | number)[];

/**
 * Compiles `user.updated_at`, `$.user.updated_at`, `items[0].at` or `['odd key'].x` into path
 * segments. Returns undefined when the path cannot be parsed.
 */
export function compileCursorPath(path: string): CursorPath | undefined {
  let rest = path.trim();
  if (rest.startsWith("$")) rest = rest.slice(1);
  const out: (string | number)[] = [];
  const token = /^(?:\.?([^.[\]'"]+)|\[(\d+)\]|\[\s*(['"])(.*?)\3\s*\])/;
  while (rest.length > 0) {
    const match = token.exec(rest);
    if (!match) return undefined;
    if (match[1] !== undefined) out.push(match[1]);
    else if (match[2] !== undefined) out.push(Number(match[2]));
    else out.push(match[4] ?? "");
    rest = rest.slice(match[0].length);
  }
  return out.length > 0 ? out : undefined;
}

/** The value at `path` in `item`: `{ found: false }` when a segment is missing. */
export function findCursorValue(item: unknown, path: CursorPath): { found: boolean; value: unknown } {
  let value: unknown = item;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return { found: false, value: undefined };
    const container = value as Record<string | number, unknown>;
    if (!(segment in container)) return { found: false, value: undefined };
    value = container[segment];
  }
  return { found: true, value };
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Date) return "Date";
  return typeof value;
}

/** Thrown by {@link compareCursorValues} when two values have no order. */
export class CursorComparisonError extends Error {}

/**
 * Orders two cursor values: numbers and bigints numerically, Dates by time, strings by code
 * units (ISO timestamps in one format sort correctly), a Date against a string by parsing the string.
 */
export function compareCursorValues(a: unknown, b: unknown): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if ((ka === "number" || ka === "bigint") && (kb === "number" || kb === "bigint")) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  if (ka === "string" && kb === "string") return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
  if (ka === "boolean" && kb === "boolean") return Number(a) - Number(b);
  if ((ka === "Date" || ka === "string") && (kb === "Date" || kb === "string")) {
    const ta = toTime(a);
    const tb = toTime(b);
    if (Number.isNaN(ta) || Number.isNaN(tb)) {
      throw new CursorComparisonError(`cannot compare ${describe(a)} with ${describe(b)}`);
    }
    return ta < tb ? -1 : ta > tb ? 1 : 0;
  }
  throw new CursorComparisonError(`cannot compare ${describe(a)} with ${describe(b)}`);
}

function toTime(value: unknown): number {
  return value instanceof Date ? value.getTime() : Date.parse(String(value));
}

/** A short description of a value for messages: `42 (number)`. */
export function describe(value: unknown): string {
  let text: string;
  try {
    text = value instanceof Date ? value.toISOString() : (JSON.stringify(value, bigintSafe) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return `${text} (${kindOf(value)})`;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}

/** Equality of cursor values: by order for comparable values, else identity. */
export function cursorValuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  try {
    return compareCursorValues(a, b) === 0;
  } catch {
    return false;
  }
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATETIME =
  /^(\d{4}-\d{2}-\d{2})([T ])(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Moves `value` by `lag` against the direction of `lastValueFunc` ("max": back, "min": forward):
 * seconds for Dates and ISO datetime strings, days for `YYYY-MM-DD` strings, the plain difference for
 * numbers and bigints. Strings keep their format (separator, fraction digits, offset). Never crosses
 * `initialValue`. Returns `value` unchanged for values lag does not apply to.
 */
export function applyLag(
  lag: number,
  initialValue: unknown,
  value: unknown,
  direction: "max" | "min",
): unknown {
  const sign = direction === "max" ? -1 : 1;
  let shifted: unknown = value;
  if (value instanceof Date) shifted = new Date(value.getTime() + sign * lag * 1000);
  else if (typeof value === "number") shifted = value + sign * lag;
  else if (typeof value === "bigint") shifted = value + BigInt(sign * Math.round(lag));
  else if (typeof value === "string") shifted = lagString(value, sign * lag) ?? value;
  if (initialValue === undefined || initialValue === null) return shifted;
  try {
    const c = compareCursorValues(shifted, initialValue);
    if ((direction === "max" && c < 0) || (direction === "min" && c > 0)) return initialValue;
  } catch {
    return shifted;
  }
  return shifted;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function lagString(value: string, delta: number): string | undefined {
  const dateOnly = DATE_ONLY.exec(value);
  if (dateOnly) {
    const d = new Date(Date.UTC(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3])));
    d.setUTCDate(d.getUTCDate() + Math.round(delta));
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  }
  const m = ISO_DATETIME.exec(value);
  if (!m) return undefined;
  const [, date, sep, hh, mm, ss, frac, zone] = m;
  // offset in minutes of the original string; naive strings are treated as UTC and stay naive
  let offset = 0;
  if (zone && zone.toUpperCase() !== "Z") {
    const z = zone.replace(":", "");
    offset = (z.startsWith("-") ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
  }
  const fracMs = frac ? Number(`0.${frac}`) * 1000 : 0;
  const utc =
    Date.parse(`${date}T${hh}:${mm}:${ss ?? "00"}Z`) - offset * 60_000 + Math.floor(fracMs) + delta * 1000;
  if (Number.isNaN(utc)) return undefined;
  const local = new Date(utc + offset * 60_000);
  let out = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}${sep}${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
  if (ss !== undefined) out += `:${pad(local.getUTCSeconds())}`;
  if (frac !== undefined) {
    const subMs = fracMs - Math.floor(fracMs);
    const digits = `${pad(local.getUTCMilliseconds(), 3)}${String(Math.round(subMs * 1000)).padStart(3, "0")}`;
    out += `.${digits.padEnd(frac.length, "0").slice(0, frac.length)}`;
  }
  return out + (zone ?? "");
}

/** JSON with sorted keys and no spaces (Python's `json.dumps(..., sort_keys=True)` as orjson writes it). */
function sortedJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .filter((k) => record[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${sortedJson(record[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Bytes of a boundary hash: dlt's `digest128` default (15 bytes → 20 base64 characters). */
export const UNIQUE_HASH_BYTES = 15;

/**
 * The boundary-deduplication hash of `row`: of the primary key value(s) when `primaryKey` is given
 * (one column → its value, several → the list of values), else of the whole row.
 */
export function uniqueRowHash(row: unknown, primaryKey: readonly string[] | undefined): string {
  let value: unknown = row;
  if (primaryKey !== undefined && primaryKey.length > 0) {
    const record = (row ?? {}) as Record<string, unknown>;
    value = primaryKey.length === 1 ? record[primaryKey[0] as string] : primaryKey.map((k) => record[k]);
  }
  return digest128(sortedJson(value), UNIQUE_HASH_BYTES);
}
