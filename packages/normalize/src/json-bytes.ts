/**
 * Scanning JSON text as UTF-8 bytes without decoding it: the tokens the planned-row fast path of the
 * relational normalizer copies straight from an extracted job file into a normalized one (see
 * `row-plan.ts`). Every function returns the index after the token, or -1 when the bytes are not the
 * token it expects (the caller then takes the general path, which reports malformed JSON exactly).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** Set by {@link scanString}: the string token holds a `\` escape. */
export let stringHasEscape = false;
/**
 * Set by {@link scanNumber}: the number token is an integer of at most 15 digits without a leading
 * zero (and not `-0`), so it is exactly the text `String(value)` gives.
 */
export let numberIsPlainInteger = false;
/**
 * Set by {@link scanNumber}: the number token is a decimal fraction `String(value)` gives as it is —
 * at most 15 significant digits (so they survive the round trip through a double), no trailing zero,
 * no exponent, and at least 1e-6 (smaller numbers are written with an exponent).
 */
export let numberIsPlainDecimal = false;

/** True for JSON's whitespace: space, tab, line feed, carriage return. */
export function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** The first index at or after `pos` that is not JSON whitespace. */
export function skipSpace(b: Uint8Array, pos: number, end: number): number {
  let p = pos;
  while (p < end && isJsonSpace(b[p] as number)) p++;
  return p;
}

/** Scans the string token at `pos` (`b[pos]` is `"`); sets {@link stringHasEscape}. */
export function scanString(b: Uint8Array, pos: number, end: number): number {
  let escaped = false;
  let p = pos + 1;
  while (p < end) {
    const c = b[p] as number;
    if (c === QUOTE) {
      stringHasEscape = escaped;
      return p + 1;
    }
    if (c === BACKSLASH) {
      escaped = true;
      p += 2;
    } else {
      // control characters are not allowed unescaped
      if (c < 0x20) return -1;
      p++;
    }
  }
  return -1;
}

/** Scans the number token at `pos` (JSON's grammar); sets {@link numberIsPlainInteger}. */
export function scanNumber(b: Uint8Array, pos: number, end: number): number {
  let p = pos;
  const negative = b[p] === MINUS;
  if (negative) p++;
  const intStart = p;
  let c = b[p] as number;
  if (c === ZERO) {
    p++;
  } else if (c > ZERO && c <= NINE) {
    while (p < end && (b[p] as number) >= ZERO && (b[p] as number) <= NINE) p++;
  } else {
    return -1;
  }
  const digits = p - intStart;
  const zeroInteger = digits === 1 && b[intStart] === ZERO;
  let plain = digits <= 15 && !(negative && zeroInteger);
  let decimal = false;
  c = p < end ? (b[p] as number) : 0;
  if (c === 0x2e /* . */) {
    plain = false;
    p++;
    const fracStart = p;
    while (p < end && (b[p] as number) >= ZERO && (b[p] as number) <= NINE) p++;
    if (p === fracStart) return -1;
    let significant = zeroInteger ? 0 : digits;
    let leadingZeros = 0;
    if (zeroInteger) while (b[fracStart + leadingZeros] === ZERO) leadingZeros++;
    significant += p - fracStart - leadingZeros;
    decimal = b[p - 1] !== ZERO && significant <= 15 && leadingZeros <= 5;
    c = p < end ? (b[p] as number) : 0;
  }
  numberIsPlainDecimal = false;
  if (c === 0x65 /* e */ || c === 0x45 /* E */) {
    plain = false;
    decimal = false;
    p++;
    if (b[p] === 0x2b /* + */ || b[p] === MINUS) p++;
    const expStart = p;
    while (p < end && (b[p] as number) >= ZERO && (b[p] as number) <= NINE) p++;
    if (p === expStart) return -1;
  }
  numberIsPlainInteger = plain;
  numberIsPlainDecimal = decimal;
  return p;
}

/** True when the bytes at `pos` are the literal `word` (`true`, `false`, `null`). */
export function isLiteral(b: Uint8Array, pos: number, end: number, word: Uint8Array): boolean {
  if (pos + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (b[pos + i] !== word[i]) return false;
  return true;
}

export const NULL_BYTES: Uint8Array = Uint8Array.from([0x6e, 0x75, 0x6c, 0x6c]);
export const TRUE_BYTES: Uint8Array = Uint8Array.from([0x74, 0x72, 0x75, 0x65]);
export const FALSE_BYTES: Uint8Array = Uint8Array.from([0x66, 0x61, 0x6c, 0x73, 0x65]);

/**
 * The index after the JSON value at `pos` (no whitespace before it). Checks only what finding the
 * end needs: balanced brackets outside strings; -1 when the value is cut off.
 */
export function skipValue(b: Uint8Array, pos: number, end: number): number {
  const c = b[pos];
  if (c === QUOTE) return scanString(b, pos, end);
  if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
    let p = pos;
    while (p < end) {
      const d = b[p] as number;
      if (d === 0x2c /* , */ || d === CLOSE_BRACE || d === CLOSE_BRACKET || isJsonSpace(d)) break;
      p++;
    }
    return p > pos ? p : -1;
  }
  let depth = 0;
  let p = pos;
  while (p < end) {
    const d = b[p] as number;
    if (d === QUOTE) {
      p = scanString(b, p, end);
      if (p < 0) return -1;
      continue;
    }
    if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
    else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return p + 1;
    }
    p++;
  }
  return -1;
}

/** Two ASCII digits at `i` as a number; -1 when not digits. */
function two(b: Uint8Array, i: number): number {
  const x = (b[i] as number) - ZERO;
  const y = (b[i + 1] as number) - ZERO;
  return x < 0 || x > 9 || y < 0 || y > 9 ? -1 : x * 10 + y;
}

/**
 * True when the bytes `[start, end)` are `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z` with valid fields: the
 * exact text a timezone-aware timestamp column writes (the byte twin of the normalizer's string check).
 */
export function isCanonicalUtcBytes(b: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 20 || len > 27 || len === 21 || b[end - 1] !== 0x5a /* Z */) return false;
  if (
    b[start + 4] !== MINUS ||
    b[start + 7] !== MINUS ||
    b[start + 10] !== 0x54 /* T */ ||
    b[start + 13] !== 0x3a /* : */ ||
    b[start + 16] !== 0x3a
  ) {
    return false;
  }
  if (len > 20 && b[start + 19] !== 0x2e /* . */) return false;
  let year = 0;
  for (let i = 0; i < 4; i++) {
    const c = (b[start + i] as number) - ZERO;
    if (c < 0 || c > 9) return false;
    year = year * 10 + c;
  }
  const month = two(b, start + 5);
  const day = two(b, start + 8);
  const hour = two(b, start + 11);
  const minute = two(b, start + 14);
  const second = two(b, start + 17);
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  for (let i = start + 20; i < end - 1; i++) {
    const c = b[i] as number;
    if (c < ZERO || c > NINE) return false;
  }
  if (day > 28) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const max =
      month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
    if (day > max) return false;
  }
  return true;
}
