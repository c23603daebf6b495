/**
 * Values of every dlt data type, two ways: {@link valueProblem} checks a value of a job file against
 * its column (what a destination refuses terminally), and {@link canonicalValue} turns what a
 * destination gives back (a driver's `bigint`, `Date`, `Buffer`, numeric text, JSON text, ...) into
 * one comparable form per data type, so the conformance suite compares rows across destinations.
 */
import type { DataType } from "../data-types.js";
import type { ColumnSchema } from "../schema/types.js";

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TIMESTAMP =
  /^([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE = /^([+-]?\d{4,6})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Why `value` cannot be stored in a column of `dataType` as it appears in a normalized `jsonl` job
 * file (timestamps, dates, times, decimals and wei as text, binary as base64, bigint as an integer),
 * or undefined when it can. `null` and `undefined` are accepted here; nullability is the caller's.
 */
export function valueProblem(dataType: DataType, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const got = (): string => `${JSON.stringify(typeof value === "bigint" ? value.toString() : value)}`;
  switch (dataType) {
    case "text":
      return typeof value === "string" ? undefined : `${got()} is not text`;
    case "double":
      return typeof value === "number" || typeof value === "bigint" ? undefined : `${got()} is not a number`;
    case "bool":
      return typeof value === "boolean" ? undefined : `${got()} is not a boolean`;
    case "bigint":
      return typeof value === "bigint" ||
        (typeof value === "number" && Number.isInteger(value)) ||
        (typeof value === "string" && INTEGER.test(value))
        ? undefined
        : `${got()} is not an integer`;
    case "decimal":
    case "wei":
      return typeof value === "bigint" ||
        (typeof value === "number" && Number.isFinite(value)) ||
        (typeof value === "string" && DECIMAL.test(value))
        ? undefined
        : `${got()} is not a ${dataType}`;
    case "timestamp":
      return typeof value === "string" && TIMESTAMP.test(value.trim())
        ? undefined
        : `${got()} is not a timestamp`;
    case "date":
      return typeof value === "string" && DATE.test(value.trim()) ? undefined : `${got()} is not a date`;
    case "time":
      return typeof value === "string" && TIME.test(value.trim()) ? undefined : `${got()} is not a time`;
    case "binary":
      return typeof value === "string" && BASE64.test(value) ? undefined : `${got()} is not base64 binary`;
    case "json":
      return undefined;
  }
}

/**
 * Why `row` does not fit the complete `columns` of its table (the first problem found), or
 * undefined. Keys without a complete column are ignored, as a database ignores unknown keys.
 */
export function rowProblem(
  columns: Readonly<Record<string, ColumnSchema>>,
  row: Record<string, unknown>,
): string | undefined {
  for (const [key, column] of Object.entries(columns)) {
    if (column.data_type === undefined) continue;
    const name = column.name ?? key;
    const value = row[name];
    if ((value === null || value === undefined) && column.nullable === false) {
      return `column \`${name}\` is not nullable but has no value`;
    }
    const problem = valueProblem(column.data_type, value);
    if (problem !== undefined) return `column \`${name}\` (${column.data_type}): ${problem}`;
  }
  return undefined;
}

/** A decimal in its shortest text: no `+`, no leading zeros, no trailing fraction zeros. */
function canonicalDecimal(text: string): string {
  let s = text.trim();
  if (/[eE]/.test(s)) s = Number(s).toString();
  const negative = s.startsWith("-");
  s = s.replace(/^[+-]/, "");
  let [whole = "0", fraction = ""] = s.split(".");
  whole = whole.replace(/^0+(?=\d)/, "") || "0";
  fraction = fraction.replace(/0+$/, "");
  const body = fraction === "" ? whole : `${whole}.${fraction}`;
  return negative && body !== "0" ? `-${body}` : body;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** An ISO timestamp text (any offset or none = UTC, any fraction digits) as `Date`, at millisecond precision. */
function parseTimestamp(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, hh, mi, ss, frac, zone] = m;
  const millis = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(hh ?? 0),
    Number(mi ?? 0),
    Number(ss ?? 0),
    Number((frac ?? "").slice(0, 3).padEnd(3, "0")),
  );
  let offset = 0;
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    offset =
      (zone.startsWith("-") ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
  }
  return new Date(millis - offset * 60_000);
}

function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return undefined;
}

/** Sorted-key JSON: the comparable form of a `json` value. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (typeof value === "bigint") return value.toString();
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * One comparable form of a value of `dataType`, whatever a destination or driver returns:
 * - `bigint`, `wei`: integer digits (`"-42"`); `decimal`: shortest decimal text (`"12.345"`);
 * - `double`: a number; `bool`: a boolean; `text`: a string;
 * - `timestamp`: ISO text in UTC at millisecond precision (`Date`, ISO or SQL text);
 * - `date`: `YYYY-MM-DD` (a `Date` at local or UTC midnight, or text); `time`: `HH:MM:SS[.f]` without trailing zeros;
 * - `binary`: base64 (bytes or base64 text); `json`: sorted-key JSON text (a value or JSON text).
 * `null` and `undefined` become `null`. Values that do not fit are returned as they are, so a
 * comparison shows them.
 */
export function canonicalValue(dataType: DataType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (dataType) {
    case "text":
      return typeof value === "string" ? value : String(value);
    case "double":
      return typeof value === "string" || typeof value === "bigint" ? Number(value) : value;
    case "bool":
      if (value === "true" || value === "t" || value === 1) return true;
      if (value === "false" || value === "f" || value === 0) return false;
      return value;
    case "bigint":
    case "wei":
      if (typeof value === "bigint") return value.toString();
      if (typeof value === "number" && Number.isInteger(value)) return BigInt(value).toString();
      if (typeof value === "string" && DECIMAL.test(value.trim())) return canonicalDecimal(value);
      return value;
    case "decimal":
      if (typeof value === "bigint") return value.toString();
      if (typeof value === "number") return canonicalDecimal(String(value));
      if (typeof value === "string" && DECIMAL.test(value.trim())) return canonicalDecimal(value);
      return value;
    case "timestamp": {
      if (value instanceof Date) return value.toISOString();
      if (typeof value === "string") return parseTimestamp(value)?.toISOString() ?? value;
      return value;
    }
    case "date": {
      if (value instanceof Date) {
        const local = value.getHours() === 0 && value.getMinutes() === 0 && value.getSeconds() === 0;
        return local
          ? `${pad(value.getFullYear(), 4)}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`
          : value.toISOString().slice(0, 10);
      }
      if (typeof value === "string")
        return DATE.test(value.trim()) ? value.trim() : value.trim().slice(0, 10);
      return value;
    }
    case "time": {
      const m = typeof value === "string" ? TIME.exec(value.trim()) : null;
      if (!m) return value;
      const fraction = (m[4] ?? "").replace(/0+$/, "");
      return `${pad(Number(m[1]))}:${m[2]}:${m[3] ?? "00"}${fraction === "" ? "" : `.${fraction}`}`;
    }
    case "binary": {
      const bytes = bytesOf(value);
      if (bytes) return Buffer.from(bytes).toString("base64");
      return value;
    }
    case "json":
      if (typeof value === "string") {
        try {
          return stableJson(JSON.parse(value));
        } catch {
          return value;
        }
      }
      return stableJson(value);
  }
}
