/**
 * ISO-8601 parsing and formatting for type detection and coercion. Strings are parsed by hand and
 * re-emitted from their parts, never round-tripped through a JS `Date`, so sub-millisecond digits of
 * the source survive (`.123456` stays `.123456`).
 *
 * Accepted (as pendulum's ISO parser does): `YYYY-MM-DD` / `YYYYMMDD` dates, `YYYY-MM` and `YYYY`
 * (dates), a `T`, `t` or space separator, `hh`, `hh:mm`, `hh:mm:ss`, `hhmm`, `hhmmss`, a fraction
 * after `.` or `,` (seconds only), and `Z` / `±hh` / `±hh:mm` / `±hhmm` offsets. Not accepted: week
 * and ordinal dates, hour 24, leap seconds, RFC-2822 and other free-form strings.
 */

/** The parts of an ISO-8601 date or date-time string. */
export interface IsoParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** False for a date without a time part. */
  readonly hasTime: boolean;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Digits after the decimal point, exactly as in the source (may be empty). */
  readonly fraction: string;
  /** Offset from UTC in minutes; undefined for a naive value (interpreted as UTC). */
  readonly offsetMinutes: number | undefined;
}

/** The parts of a time of day. */
export interface TimeParts {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly fraction: string;
}

const MIN_YEAR = 1;
const MAX_YEAR = 9999;
/** Default fractional-second digits kept in output (microseconds, like Python's datetime). */
export const DEFAULT_FRACTION_DIGITS = 6;

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Reads `n` digits at `start`; -1 when any is missing or not a digit. */
function digitsAt(s: string, start: number, n: number): number {
  if (start + n > s.length) return -1;
  let value = 0;
  for (let i = start; i < start + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isValidDate(year: number, month: number, day: number): boolean {
  if (year < MIN_YEAR || month < 1 || month > 12 || day < 1) return false;
  const max = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 31);
  return day <= max;
}

function dateOnly(year: number, month: number, day: number): IsoParts | undefined {
  if (!isValidDate(year, month, day)) return undefined;
  return {
    year,
    month,
    day,
    hasTime: false,
    hour: 0,
    minute: 0,
    second: 0,
    fraction: "",
    offsetMinutes: undefined,
  };
}

/** Parses an ISO-8601 date or date-time; undefined when `s` is not one. */
export function parseIso(s: string): IsoParts | undefined {
  const len = s.length;
  const year = digitsAt(s, 0, 4);
  if (year < 0) return undefined;
  if (len === 4) return dateOnly(year, 1, 1);
  let month: number;
  let day: number;
  let p: number;
  if (s.charCodeAt(4) === 45 /* - */) {
    month = digitsAt(s, 5, 2);
    if (month < 0) return undefined;
    if (len === 7) return dateOnly(year, month, 1);
    if (s.charCodeAt(7) !== 45) return undefined;
    day = digitsAt(s, 8, 2);
    p = 10;
  } else {
    month = digitsAt(s, 4, 2);
    day = digitsAt(s, 6, 2);
    p = 8;
  }
  if (month < 0 || day < 0 || !isValidDate(year, month, day)) return undefined;
  if (p === len) return dateOnly(year, month, day);
  const sep = s.charCodeAt(p);
  if (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32 /* space */) return undefined;
  p++;
  const hour = digitsAt(s, p, 2);
  if (hour < 0) return undefined;
  p += 2;
  let minute = 0;
  let second = 0;
  let hasSeconds = false;
  if (s.charCodeAt(p) === 58 /* : */) {
    minute = digitsAt(s, p + 1, 2);
    if (minute < 0) return undefined;
    p += 3;
    if (s.charCodeAt(p) === 58) {
      second = digitsAt(s, p + 1, 2);
      if (second < 0) return undefined;
      p += 3;
      hasSeconds = true;
    }
  } else if (isDigitAt(s, p)) {
    minute = digitsAt(s, p, 2);
    if (minute < 0) return undefined;
    p += 2;
    if (isDigitAt(s, p)) {
      second = digitsAt(s, p, 2);
      if (second < 0) return undefined;
      p += 2;
      hasSeconds = true;
    }
  }
  let fraction = "";
  const dot = s.charCodeAt(p);
  if (hasSeconds && (dot === 46 /* . */ || dot === 44) /* , */) {
    const start = ++p;
    while (isDigitAt(s, p)) p++;
    if (p === start) return undefined;
    fraction = s.slice(start, p);
  }
  let offsetMinutes: number | undefined;
  if (p < len) {
    const c = s.charCodeAt(p);
    if (c === 90 /* Z */ || c === 122 /* z */) {
      offsetMinutes = 0;
      p++;
    } else if (c === 43 /* + */ || c === 45 /* - */) {
      const oh = digitsAt(s, p + 1, 2);
      if (oh < 0 || oh > 23) return undefined;
      p += 3;
      let om = 0;
      if (s.charCodeAt(p) === 58) {
        om = digitsAt(s, p + 1, 2);
        p += 3;
      } else if (isDigitAt(s, p)) {
        om = digitsAt(s, p, 2);
        p += 2;
      }
      if (om < 0 || om > 59) return undefined;
      offsetMinutes = (c === 45 ? -1 : 1) * (oh * 60 + om);
    } else {
      return undefined;
    }
  }
  if (p !== len || hour > 23 || minute > 59 || second > 59) return undefined;
  return { year, month, day, hasTime: true, hour, minute, second, fraction, offsetMinutes };
}

/** Parses `YYYY/MM/DD` (accepted by the `iso_date` detection only). */
export function parseSlashDate(s: string): IsoParts | undefined {
  if (s.length !== 10 || s.charCodeAt(4) !== 47 || s.charCodeAt(7) !== 47) return undefined;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  if (year < 0 || month < 0 || day < 0) return undefined;
  return dateOnly(year, month, day);
}

/** Parses a time of day `hh[:mm[:ss[.f]]]` or `hhmm[ss]` (no offset). */
export function parseTime(s: string): TimeParts | undefined {
  const hour = digitsAt(s, 0, 2);
  if (hour < 0) return undefined;
  let p = 2;
  let minute = 0;
  let second = 0;
  let hasSeconds = false;
  const extended = s.charCodeAt(p) === 58;
  if (extended || isDigitAt(s, p)) {
    if (extended) p++;
    minute = digitsAt(s, p, 2);
    if (minute < 0) return undefined;
    p += 2;
    if (extended ? s.charCodeAt(p) === 58 : isDigitAt(s, p)) {
      if (extended) p++;
      second = digitsAt(s, p, 2);
      if (second < 0) return undefined;
      p += 2;
      hasSeconds = true;
    }
  }
  let fraction = "";
  const dot = s.charCodeAt(p);
  if (hasSeconds && (dot === 46 || dot === 44)) {
    const start = ++p;
    while (isDigitAt(s, p)) p++;
    if (p === start) return undefined;
    fraction = s.slice(start, p);
  }
  if (p !== s.length || hour > 23 || minute > 59 || second > 59) return undefined;
  return { hour, minute, second, fraction };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad4(n: number): string {
  return String(n).padStart(4, "0");
}

/** `YYYY-MM-DD` of the given parts. */
function formatDateParts(year: number, month: number, day: number): string {
  return `${pad4(year)}-${pad2(month)}-${pad2(day)}`;
}

function trimFraction(fraction: string, maxDigits: number): string {
  const f = fraction.length > maxDigits ? fraction.slice(0, maxDigits) : fraction;
  return f.length > 0 ? `.${f}` : "";
}

/** Shifts `parts` to UTC; undefined when the result leaves years 1..9999. */
function toUtcParts(parts: IsoParts): IsoParts | undefined {
  const offset = parts.offsetMinutes;
  if (offset === undefined || offset === 0) return parts;
  const d = new Date(0);
  d.setUTCFullYear(parts.year, parts.month - 1, parts.day);
  d.setUTCHours(parts.hour, parts.minute - offset, parts.second, 0);
  const year = d.getUTCFullYear();
  if (year < MIN_YEAR || year > MAX_YEAR) return undefined;
  return {
    year,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hasTime: true,
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    fraction: parts.fraction,
    offsetMinutes: 0,
  };
}

/**
 * Formats parsed parts as a UTC timestamp `YYYY-MM-DDTHH:MM:SS[.f]Z` (no `Z` when `naive`). A date
 * without time becomes midnight. Keeps at most `fractionDigits` digits of the source fraction.
 */
export function formatUtcTimestamp(
  parts: IsoParts,
  naive: boolean,
  fractionDigits: number = DEFAULT_FRACTION_DIGITS,
): string | undefined {
  const utc = toUtcParts(parts);
  if (utc === undefined) return undefined;
  return `${formatDateParts(utc.year, utc.month, utc.day)}T${pad2(utc.hour)}:${pad2(utc.minute)}:${pad2(utc.second)}${trimFraction(utc.fraction, fractionDigits)}${naive ? "" : "Z"}`;
}

/** The UTC calendar date of parsed parts, `YYYY-MM-DD`. */
export function formatUtcDate(parts: IsoParts): string | undefined {
  const utc = toUtcParts(parts);
  return utc === undefined ? undefined : formatDateParts(utc.year, utc.month, utc.day);
}

/** `HH:MM:SS[.f]` of a time of day. */
export function formatTime(parts: TimeParts, fractionDigits: number = DEFAULT_FRACTION_DIGITS): string {
  return `${pad2(parts.hour)}:${pad2(parts.minute)}:${pad2(parts.second)}${trimFraction(parts.fraction, fractionDigits)}`;
}

/** Milliseconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z. */
const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999;

/** Parts of a unix timestamp in seconds (fraction kept to microseconds); undefined out of range. */
export function unixSecondsToParts(seconds: number): IsoParts | undefined {
  if (!Number.isFinite(seconds)) return undefined;
  let whole = Math.floor(seconds);
  let micros = Math.round((seconds - whole) * 1e6);
  if (micros >= 1e6) {
    whole += 1;
    micros -= 1e6;
  }
  const ms = whole * 1000;
  if (ms < MIN_MS || ms > MAX_MS) return undefined;
  return dateToParts(new Date(ms), micros > 0 ? String(micros).padStart(6, "0") : "");
}

/** Parts of a JS `Date` (millisecond fraction unless `fraction` is given). */
export function dateToParts(d: Date, fraction?: string): IsoParts | undefined {
  const ms = d.getTime();
  if (Number.isNaN(ms) || ms < MIN_MS || ms > MAX_MS) return undefined;
  const millis = d.getUTCMilliseconds();
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hasTime: true,
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    fraction: fraction ?? (millis > 0 ? String(millis).padStart(3, "0") : ""),
    offsetMinutes: 0,
  };
}
