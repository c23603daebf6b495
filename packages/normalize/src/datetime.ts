/**
 * Date and time parsing and formatting for type detection and coercion, following what dlt accepts
 * (pendulum's ISO-8601 parser, then its "common" fallback). Strings are parsed by hand and re-emitted
 * from their parts, never round-tripped through a JS `Date`, so sub-millisecond digits of the source
 * survive (`.123456` stays `.123456`).
 *
 * ISO-8601 (pendulum): dates `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYYMMDD`, week dates `YYYY-Www[-D]` /
 * `YYYYWww[D]` (week 0–53, day 0–7), ordinal dates `YYYY-DDD` / `YYYYDDD`; a `T` or space, then a time
 * `hh`, `hh:mm`, `hh:mm:ss[.f]` (after an extended date) or `hh`, `hhmm`, `hhmmss[.f]`, `hh:mm` (after
 * a basic date); fractions after `.` or `,` on seconds only; offsets `Z`, `±hh`, `±hhmm`, `±hh:mm`.
 * Times alone: `hh:mm[:ss[.f]]` with an optional offset. Upper-case `T`/`Z` only.
 * Common fallback: `YYYY[[/:]MM[/:]DD]` and/or `[ ]h[h]:m[m][:s[s]][(.|,||)f{1,9}]`, naive.
 * Not accepted: RFC 2822 and other free-form strings, hour 24, leap seconds, surrounding whitespace.
 */

/** The parts of a parsed date, date-time or time. */
export interface IsoParts {
  /** What the text denotes: a date-time, a date (no time part) or a time of day (no date). */
  readonly kind: "datetime" | "date" | "time";
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

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 31);
}

function isValidDate(year: number, month: number, day: number): boolean {
  return year >= MIN_YEAR && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Day of the week of a date, Monday = 1 ... Sunday = 7. */
function isoWeekday(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return ((d.getUTCDay() + 6) % 7) + 1;
}

/** The calendar date `days` days after `year-month-day` (negative goes back). */
function addDays(year: number, month: number, day: number, days: number): [number, number, number] {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day + days);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/** Date of ISO week `week` (0–53), weekday `weekday` (0–7) of `year`, as pendulum computes it. */
function weekDate(year: number, week: number, weekday: number): [number, number, number] | undefined {
  if (year < MIN_YEAR || week < 0 || week > 53 || weekday < 0 || weekday > 7) return undefined;
  if (week === 53) {
    const jan1 = isoWeekday(year, 1, 1);
    if (!(jan1 === 4 || (jan1 === 3 && isLeapYear(year)))) return undefined;
  }
  // Monday of week 1 is the Monday of the week holding January 4th
  const mondayOffset = 1 - isoWeekday(year, 1, 4);
  return addDays(year, 1, 4, mondayOffset + (week - 1) * 7 + (weekday - 1));
}

function ordinalDate(year: number, ordinal: number): [number, number, number] | undefined {
  if (year < MIN_YEAR || ordinal < 1 || ordinal > (isLeapYear(year) ? 366 : 365)) return undefined;
  return addDays(year, 1, 1, ordinal - 1);
}

function parts(
  kind: IsoParts["kind"],
  date: readonly [number, number, number],
  hour: number,
  minute: number,
  second: number,
  fraction: string,
  offsetMinutes: number | undefined,
): IsoParts {
  return {
    kind,
    year: date[0],
    month: date[1],
    day: date[2],
    hasTime: kind !== "date",
    hour,
    minute,
    second,
    fraction,
    offsetMinutes,
  };
}

const NO_DATE: readonly [number, number, number] = [0, 0, 0];

/**
 * Parses the time part at `p` (after the date separator, or a whole time of day). `basic` allows
 * `hhmm[ss]` and `hh:mm`; extended allows `hh[:mm[:ss]]`. Returns undefined when it is not a time.
 */
function parseTimeAt(
  s: string,
  p0: number,
  basic: boolean,
  kind: IsoParts["kind"],
  date: readonly [number, number, number],
): IsoParts | undefined {
  let p = p0;
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
      if (basic) return undefined;
      second = digitsAt(s, p + 1, 2);
      if (second < 0) return undefined;
      p += 3;
      hasSeconds = true;
    }
  } else if (basic && isDigitAt(s, p)) {
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
  if (p < s.length) {
    const c = s.charCodeAt(p);
    if (c === 90 /* Z */) {
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
  if (p !== s.length || hour > 23 || minute > 59 || second > 59) return undefined;
  return parts(kind, date, hour, minute, second, fraction, offsetMinutes);
}

/** pendulum's ISO-8601 grammar (see the module docs). */
function parseIso8601(s: string): IsoParts | undefined {
  const len = s.length;
  const year = digitsAt(s, 0, 4);
  if (year < 0) {
    // a time of day: `hh:mm[:ss[.f]][offset]`
    if (s.charCodeAt(2) !== 58) return undefined;
    return parseTimeAt(s, 0, false, "time", NO_DATE);
  }
  let date: [number, number, number] | undefined;
  let p: number;
  let basic: boolean;
  const c4 = s.charCodeAt(4);
  if (len === 4) {
    date = [year, 1, 1];
    p = 4;
    basic = false;
  } else if (c4 === 45 /* - */) {
    basic = false;
    if (s.charCodeAt(5) === 87 /* W */) {
      const week = digitsAt(s, 6, 2);
      if (week < 0) return undefined;
      p = 8;
      let weekday = 1;
      if (s.charCodeAt(8) === 45 && isDigitAt(s, 9)) {
        weekday = digitsAt(s, 9, 1);
        p = 10;
      }
      date = weekDate(year, week, weekday);
    } else if (s.charCodeAt(7) === 45) {
      const month = digitsAt(s, 5, 2);
      const day = digitsAt(s, 8, 2);
      if (month < 0 || day < 0 || !isValidDate(year, month, day)) return undefined;
      date = [year, month, day];
      p = 10;
    } else if (isDigitAt(s, 7)) {
      const ordinal = digitsAt(s, 5, 3);
      if (ordinal < 0) return undefined;
      date = ordinalDate(year, ordinal);
      p = 8;
    } else {
      const month = digitsAt(s, 5, 2);
      if (month < 0 || !isValidDate(year, month, 1)) return undefined;
      date = [year, month, 1];
      p = 7;
    }
  } else if (c4 === 87 /* W */) {
    basic = true;
    const week = digitsAt(s, 5, 2);
    if (week < 0) return undefined;
    p = 7;
    let weekday = 1;
    if (isDigitAt(s, 7)) {
      weekday = digitsAt(s, 7, 1);
      p = 8;
    }
    date = weekDate(year, week, weekday);
  } else {
    basic = true;
    let n = 4;
    while (isDigitAt(s, n)) n++;
    if (n === 8) {
      const month = digitsAt(s, 4, 2);
      const day = digitsAt(s, 6, 2);
      if (!isValidDate(year, month, day)) return undefined;
      date = [year, month, day];
    } else if (n === 7) {
      date = ordinalDate(year, digitsAt(s, 4, 3));
    } else {
      return undefined;
    }
    p = n;
  }
  if (date === undefined || date[0] < MIN_YEAR) return undefined;
  if (p === len) return parts("date", date, 0, 0, 0, "", undefined);
  const sep = s.charCodeAt(p);
  if (sep !== 84 /* T */ && sep !== 32 /* space */) return undefined;
  return parseTimeAt(s, p + 1, basic, "datetime", date);
}

// pendulum's `COMMON` fallback: an optional `YYYY[[/:]MM[/:]DD]` date and an optional time
const RE_COMMON =
  /^(?:(\d{4})(?:[/:]?(\d{2})[/:]?(\d{2}))?)?(?: ?(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:[.|,](\d{1,9}))?)?$/;

function parseCommon(s: string): IsoParts | undefined {
  const m = RE_COMMON.exec(s);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, sec, frac] = m;
  if (y === undefined && h === undefined) return undefined;
  let date: [number, number, number] = [0, 0, 0];
  if (y !== undefined) {
    date = [Number(y), mo === undefined ? 1 : Number(mo), d === undefined ? 1 : Number(d)];
    if (!isValidDate(date[0], date[1], date[2])) return undefined;
  }
  if (h === undefined) return parts("date", date, 0, 0, 0, "", undefined);
  const hour = Number(h);
  const minute = Number(mi);
  const second = sec === undefined ? 0 : Number(sec);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return parts(y === undefined ? "time" : "datetime", date, hour, minute, second, frac ?? "", undefined);
}

/**
 * Parses a date, date-time or time of day as dlt does (pendulum's ISO-8601 parser, then its common
 * fallback); undefined when `s` is neither. Date-times of the common fallback are naive.
 */
export function parseIso(s: string): IsoParts | undefined {
  return parseIso8601(s) ?? parseCommon(s);
}

const RE_PY_FLOAT =
  /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const RE_PY_FLOAT_SPECIAL = /^[+-]?(?:nan|inf|infinity)$/i;

/** Python's `float(text)`: trimmed, `_` between digits, `inf`/`nan`; undefined when not a number. */
export function pythonFloat(text: string): number | undefined {
  const t = text.trim();
  if (RE_PY_FLOAT.test(t)) return Number(t.replaceAll("_", ""));
  if (RE_PY_FLOAT_SPECIAL.test(t)) {
    if (/nan/i.test(t)) return Number.NaN;
    return t.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return undefined;
}

/**
 * A text coerced into a timestamp (dlt's `ensure_pendulum_datetime_non_utc`): a date-time or a date
 * (midnight), else a number of unix seconds. A time of day is not a timestamp.
 */
export function textToTimestampParts(text: string): IsoParts | undefined {
  const parsed = parseIso(text);
  if (parsed !== undefined) return parsed.kind === "time" ? undefined : parsed;
  const seconds = pythonFloat(text);
  return seconds === undefined ? undefined : unixSecondsToParts(seconds);
}

/** A text coerced into a time of day: only times of day, shifted to UTC when they have an offset. */
export function textToTimeParts(text: string): IsoParts | undefined {
  const parsed = parseIso(text);
  if (parsed?.kind !== "time") return undefined;
  const offset = parsed.offsetMinutes;
  if (offset === undefined || offset === 0) return parsed;
  const total = (((parsed.hour * 60 + parsed.minute - offset) % 1440) + 1440) % 1440;
  return { ...parsed, hour: Math.floor(total / 60), minute: total % 60, offsetMinutes: undefined };
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
    kind: parts.kind,
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
export function formatTime(parts: IsoParts, fractionDigits: number = DEFAULT_FRACTION_DIGITS): string {
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
    kind: "datetime",
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
