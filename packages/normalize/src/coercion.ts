/**
 * Coercion of a value into a column's data type (REFERENCE §2.10, dlt's `_COERCE_DISPATCH`), fused
 * with its rendering as a JSON fragment of a `jsonl` job file. `encodeAs` returns `undefined` when the
 * value cannot be coerced; the caller then creates a variant column.
 *
 * Rendering per column type:
 * - `text`, `decimal`, `wei`: JSON strings; `bigint`: bare digits (never a float, also beyond 2^53);
 * - `double`: JSON numbers, except NaN / ±Infinity which are written as the strings `"NaN"`,
 *   `"Infinity"`, `"-Infinity"` (valid JSON that DuckDB's `read_json` and Postgres casts accept for
 *   DOUBLE columns);
 * - `bool`: `true` / `false`; `json`: the raw JSON value;
 * - `timestamp`: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` in UTC (no `Z` for `timezone: false`), keeping the
 *   source's fraction digits (up to 6, or up to the column precision when it is above 6);
 * - `date`: `YYYY-MM-DD`; `time`: `HH:MM:SS[.ffffff]`; `binary`: base64 string.
 */
import type { ColumnSchema, DataType } from "@tsdlt/core";
import {
  DEFAULT_FRACTION_DIGITS,
  dateToParts,
  formatTime,
  formatUtcDate,
  formatUtcTimestamp,
  type IsoParts,
  parseIso,
  pythonFloat,
  textToTimeParts,
  textToTimestampParts,
  unixSecondsToParts,
} from "./datetime.js";
import { jsonOf } from "./json-text.js";
import { TypedText } from "./values.js";

/** What encoding needs to know about a complete column. */
export interface ColumnInfo {
  readonly type: DataType;
  readonly nullable: boolean;
  /** False → timestamps are written naive (UTC wall time without `Z`). */
  readonly timezone: boolean;
  /** Fraction digits kept for timestamps and times. */
  readonly fractionDigits: number;
}

/** The encoding view of a complete column schema. */
export function columnInfo(column: ColumnSchema & { data_type: DataType }): ColumnInfo {
  const precision = column.precision;
  return {
    type: column.data_type,
    nullable: column.nullable !== false,
    timezone: column.timezone !== false,
    fractionDigits:
      precision !== undefined && precision > DEFAULT_FRACTION_DIGITS
        ? Math.min(precision, 9)
        : DEFAULT_FRACTION_DIGITS,
  };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** True when the integer `v` (a JS number or bigint) fits a 64-bit signed `bigint` column. */
export function fitsInt64(v: number | bigint): boolean {
  if (typeof v === "number") return Number.isSafeInteger(v) || (v >= -(2 ** 63) && v < 2 ** 63);
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** The digits if they are within int64, else undefined (a `bigint` column cannot hold them). */
function int64Digits(digits: string | undefined): string | undefined {
  if (digits === undefined) return undefined;
  // up to 18 digits always fit; longer ones are compared exactly
  if (digits.length <= 18) return digits;
  const n = BigInt(digits);
  return n >= INT64_MIN && n <= INT64_MAX ? digits : undefined;
}

/** Decimal digits of an integral JS number (exact also beyond 2^53). */
export function integerDigits(v: number): string {
  return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
}

/** A double as a JSON fragment; non-finite values as strings (see module docs). */
function doubleJson(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

const RE_INT = /^[+-]?\d+(?:_\d+)*$/;
const RE_HEX = /^0x[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*$/;
const RE_DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const RE_DECIMAL_SPECIAL = /^[+-]?(?:s?nan\d*|inf|infinity)$/i;
const RE_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Python `int(text)`: trimmed, optional sign, `_` between digits, `0x` hex; digits or undefined. */
function textToIntDigits(text: string): string | undefined {
  const t = text.trim();
  if (RE_INT.test(t)) return BigInt(t.replaceAll("_", "")).toString();
  if (RE_HEX.test(t)) return BigInt(t.replaceAll("_", "")).toString();
  return undefined;
}

/** dlt's text → double: Python `float(text)`, or `0x` hex. */
function textToDouble(text: string): number | undefined {
  const t = text.trim();
  if (RE_HEX.test(t)) return Number(BigInt(t.replaceAll("_", "")));
  return pythonFloat(t);
}

/** Python `Decimal(text)` syntax check (plus `0x` hex); the decimal's text or undefined. */
function textToDecimal(text: string): string | undefined {
  const t = text.trim();
  if (RE_DECIMAL.test(t) || RE_DECIMAL_SPECIAL.test(t)) return t;
  if (RE_HEX.test(t)) return BigInt(t.replaceAll("_", "")).toString();
  return undefined;
}

/** Digits of an integral decimal text (`"2.000"`, `"1E+2"`); undefined when it has a fraction. */
function decimalToIntDigits(text: string): string | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  const sign = m[1] === "-" ? "-" : "";
  let intPart = m[2] ?? "";
  let frac = m[3] ?? "";
  const exp = Number(m[4] ?? "0");
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 10_000) return undefined;
  if (exp > 0) {
    const moved = frac.slice(0, exp).padEnd(exp, "0");
    intPart += moved;
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const shift = -exp;
    const padded = intPart.padStart(shift, "0");
    frac = padded.slice(padded.length - shift) + frac;
    intPart = padded.slice(0, padded.length - shift);
  }
  if (/[1-9]/.test(frac)) return undefined;
  const digits = BigInt(intPart === "" ? "0" : intPart);
  return (sign === "-" && digits !== 0n ? -digits : digits).toString();
}

const TRUE_WORDS = new Set(["yes", "true", "t", "y", "1"]);
const FALSE_WORDS = new Set(["no", "false", "f", "n", "0"]);

/** A timestamp, date or text value as parts (texts as dlt coerces them: ISO, else unix seconds). */
function timestampParts(v: unknown): IsoParts | undefined {
  if (typeof v === "string") return textToTimestampParts(v);
  if (v instanceof TypedText) return parseIso(v.text);
  if (v instanceof Date) return dateToParts(v);
  return undefined;
}

function unixParts(v: unknown): IsoParts | undefined {
  if (typeof v === "number") return unixSecondsToParts(v);
  if (typeof v === "bigint") return unixSecondsToParts(Number(v));
  return undefined;
}

/** A value as text, following dlt's `str()` / ISO / base64 / JSON renderings. */
export function toText(from: DataType, v: unknown): string {
  switch (from) {
    case "text":
      return v as string;
    case "bigint":
      return typeof v === "number" ? integerDigits(v) : String(v);
    case "bool":
      return v ? "True" : "False";
    case "json":
      return jsonOf(v);
    case "binary":
      return Buffer.from(v as Uint8Array).toString("base64");
    default:
      if (v instanceof TypedText) return v.text;
      if (v instanceof Date) return v.toISOString();
      return String(v);
  }
}

/**
 * Coerces `v` (whose natural type is `from`) into `column` and renders it as a JSON fragment, or
 * returns undefined when dlt's coercion table has no successful rule for the pair.
 */
export function encodeAs(column: ColumnInfo, from: DataType, v: unknown): string | undefined {
  switch (column.type) {
    case "text":
      return JSON.stringify(from === "text" ? (v as string) : toText(from, v));
    case "bigint":
      // integers beyond int64 do not fit (the destination would refuse them at load)
      switch (from) {
        case "bigint":
          if (typeof v === "number") return fitsInt64(v) ? integerDigits(v) : undefined;
          return fitsInt64(v as bigint) ? String(v) : undefined;
        case "text":
          return int64Digits(textToIntDigits(v as string));
        case "decimal":
        case "wei":
          return int64Digits(decimalToIntDigits((v as TypedText).text));
        default:
          // a double is never integral here: integral JS numbers are typed bigint
          return undefined;
      }
    case "double":
      switch (from) {
        case "double":
          return doubleJson(v as number);
        case "bigint":
          return typeof v === "number" ? doubleJson(v) : doubleJson(Number(v));
        case "text": {
          const n = textToDouble(v as string);
          return n === undefined ? undefined : doubleJson(n);
        }
        case "decimal":
        case "wei": {
          const n = textToDouble((v as TypedText).text);
          return n === undefined ? undefined : doubleJson(n);
        }
        default:
          return undefined;
      }
    case "bool":
      switch (from) {
        case "bool":
          return v ? "true" : "false";
        case "text": {
          const word = (v as string).toLowerCase();
          if (TRUE_WORDS.has(word)) return "true";
          if (FALSE_WORDS.has(word)) return "false";
          return undefined;
        }
        case "bigint":
          return (typeof v === "number" ? v !== 0 : v !== 0n) ? "true" : "false";
        case "double":
          return v !== 0 ? "true" : "false";
        case "decimal":
        case "wei": {
          const n = textToDouble((v as TypedText).text);
          return n === undefined ? undefined : n !== 0 ? "true" : "false";
        }
        default:
          return undefined;
      }
    case "timestamp": {
      let parts: IsoParts | undefined;
      if (from === "timestamp" || from === "text" || from === "date") parts = timestampParts(v);
      else if (from === "bigint" || from === "double") parts = unixParts(v);
      if (parts === undefined) return undefined;
      const out = formatUtcTimestamp(parts, !column.timezone, column.fractionDigits);
      return out === undefined ? undefined : `"${out}"`;
    }
    case "date": {
      let parts: IsoParts | undefined;
      if (from === "text" || from === "date" || from === "timestamp") parts = timestampParts(v);
      else if (from === "bigint" || from === "double") parts = unixParts(v);
      if (parts === undefined) return undefined;
      const out = formatUtcDate(parts);
      return out === undefined ? undefined : `"${out}"`;
    }
    case "time": {
      if (from !== "time" && from !== "text") return undefined;
      const parts = textToTimeParts(typeof v === "string" ? v : (v as TypedText).text);
      return parts === undefined ? undefined : `"${formatTime(parts, column.fractionDigits)}"`;
    }
    case "binary":
      switch (from) {
        case "binary":
          return `"${Buffer.from(v as Uint8Array).toString("base64")}"`;
        case "text": {
          const s = v as string;
          if (s.startsWith("0x")) {
            const hex = s.slice(2);
            return /^(?:[0-9a-fA-F]{2})*$/.test(hex)
              ? `"${Buffer.from(hex, "hex").toString("base64")}"`
              : undefined;
          }
          return RE_BASE64.test(s) ? `"${Buffer.from(s, "base64").toString("base64")}"` : undefined;
        }
        case "bigint": {
          const n = typeof v === "number" ? BigInt(v) : (v as bigint);
          if (n < 0n) return undefined;
          const bytes: number[] = [];
          for (let rest = n; rest > 0n; rest >>= 8n) bytes.push(Number(rest & 0xffn));
          return `"${Buffer.from(bytes).toString("base64")}"`;
        }
        default:
          return undefined;
      }
    case "json":
      if (from === "json") return jsonOf(v);
      if (from === "text") {
        try {
          return jsonOf(JSON.parse(v as string));
        } catch {
          return undefined;
        }
      }
      return undefined;
    case "decimal":
    case "wei":
      switch (from) {
        case "decimal":
        case "wei":
          return JSON.stringify((v as TypedText).text);
        case "text": {
          const d = textToDecimal(v as string);
          return d === undefined ? undefined : JSON.stringify(d);
        }
        case "bigint":
          return `"${typeof v === "number" ? integerDigits(v) : String(v)}"`;
        case "double":
          return `"${Number.isNaN(v) ? "NaN" : String(v)}"`;
        default:
          return undefined;
      }
    default:
      return undefined;
  }
}
