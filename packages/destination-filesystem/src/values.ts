/**
 * Exact conversions of the values normalize writes into `jsonl` job files (timestamps, dates and
 * times as ISO text, decimals as text, binary as base64) into the integers file formats store. No
 * value goes through a float or a JS `Date` on the way, so micro- and nanoseconds and all decimal
 * digits survive.
 */

/** A unit of time stored as an integer. */
export type TimeUnit = "MILLIS" | "MICROS" | "NANOS";

const NANOS_PER: Record<TimeUnit, bigint> = { MILLIS: 1_000_000n, MICROS: 1_000n, NANOS: 1n };

/** Floor division for bigint (`/` truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const TIMESTAMP =
  /^([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Milliseconds since the epoch of a UTC calendar date and time (years 0–99 are not shifted to 19xx). */
function utcMillis(year: number, month: number, day: number, h = 0, m = 0, s = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(h, m, s, 0);
  return date.getTime();
}

/**
 * An ISO 8601 timestamp (`2024-01-01T00:00:00.123456Z`, an offset, or naive = UTC wall time) as an
 * integer count of `unit` since the Unix epoch; undefined when the text is not a timestamp.
 */
export function timestampToEpoch(text: string, unit: TimeUnit): bigint | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, hh, mi, ss, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(hh ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(ss ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) {
    return undefined;
  }
  const millis = utcMillis(Number(y), month, day, hour, minute, second);
  if (!Number.isFinite(millis)) return undefined;
  let nanos = BigInt(millis) * 1_000_000n + BigInt((frac ?? "").padEnd(9, "0"));
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1n : 1n;
    const digits = zone.slice(1).replace(":", "");
    const offsetMinutes = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
    nanos -= sign * offsetMinutes * 60_000_000_000n;
  }
  return floorDiv(nanos, NANOS_PER[unit]);
}

/** A `YYYY-MM-DD` date (a timestamp's date part is accepted) as days since the Unix epoch. */
export function dateToDays(text: string): number | undefined {
  const m = /^([+-]?\d{4,6})-(\d{2})-(\d{2})/.exec(text.trim());
  if (!m) return undefined;
  const millis = utcMillis(Number(m[1]), Number(m[2]), Number(m[3]));
  return Number.isFinite(millis) ? Math.floor(millis / 86_400_000) : undefined;
}

/** A `HH:MM[:SS[.ffffff]]` time of day as an integer count of `unit` since midnight. */
export function timeToUnits(text: string, unit: TimeUnit): bigint | undefined {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?/.exec(text.trim());
  if (!m) return undefined;
  const seconds = BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0));
  const nanos = seconds * 1_000_000_000n + BigInt((m[4] ?? "").padEnd(9, "0"));
  return floorDiv(nanos, NANOS_PER[unit]);
}

/** Why a decimal cannot be stored. */
export class DecimalRangeError extends Error {
  override name = "DecimalRangeError";
}

/**
 * A decimal value (text such as `"-12.3400"` or `"1E+3"`, an integer, or a bigint) as the unscaled
 * integer of `DECIMAL(precision, scale)`.
 *
 * @throws DecimalRangeError when the value has more fraction digits than `scale` (that would lose
 * data; pyarrow refuses the same) or more digits than `precision`, or is not a finite number.
 */
export function decimalToUnscaled(value: unknown, precision: number, scale: number): bigint {
  let text: string;
  if (typeof value === "bigint") text = value.toString();
  else if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new DecimalRangeError(`${value} is not a finite number`);
    text = Number.isSafeInteger(value) ? String(value) : value.toPrecision(17);
  } else text = String(value).trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || ((m[2] ?? "") === "" && (m[3] ?? "") === "")) {
    throw new DecimalRangeError(`${JSON.stringify(text)} is not a decimal number`);
  }
  const negative = m[1] === "-";
  let digits = `${m[2] ?? ""}${m[3] ?? ""}`;
  // the value is digits × 10^(exp − fraction length); we want digits × 10^scale
  const shift = Number(m[4] ?? "0") - (m[3] ?? "").length + scale;
  if (shift >= 0) digits += "0".repeat(shift);
  else {
    const dropped = digits.slice(digits.length + shift);
    if (/[1-9]/.test(dropped)) {
      throw new DecimalRangeError(`${text} has more than ${scale} fraction digit(s)`);
    }
    digits = digits.slice(0, digits.length + shift);
  }
  const unscaled = BigInt(digits === "" ? "0" : digits);
  if (unscaled >= 10n ** BigInt(precision)) {
    throw new DecimalRangeError(`${text} has more than ${precision} digit(s) in total`);
  }
  return negative ? -unscaled : unscaled;
}

/** Bytes needed to store any unscaled value of `DECIMAL(precision, _)` as a two's complement integer. */
export function decimalByteLength(precision: number): number {
  return Math.ceil((Math.log2(10) * precision + 1) / 8);
}

/** A base64 string as bytes. */
export function base64ToBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** A double from a JSON value: numbers as they are; `"NaN"`, `"Infinity"`, `"-Infinity"` as those values. */
export function toDouble(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (value === "NaN") return Number.NaN;
  if (value === "Infinity") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
  return Number(value);
}

/** An integer from a JSON value (a number, a bigint or a digit string) as a bigint. */
export function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new RangeError(`${value} is not an integer`);
    return BigInt(value);
  }
  if (typeof value === "string" && /^[+-]?\d+$/.test(value.trim())) return BigInt(value.trim());
  throw new RangeError(`${JSON.stringify(value)} is not an integer`);
}
