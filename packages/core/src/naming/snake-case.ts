/** The default `snake_case` naming convention of dlt (case-insensitive, ASCII identifiers). */
import {
  createNamingConvention,
  type NamingConvention,
  type NamingConventionSpec,
  PATH_SEPARATOR,
} from "./naming-convention.js";

const TRANSLATE: Readonly<Record<string, string>> = { "+": "x", "-": "_", "*": "x", "@": "a", "|": "l" };
const RE_TRANSLATE = /[+\-*@|]/g;
// `\p{Nd}`: Python's `\d` also keeps non-ASCII decimal digits (`٣`, `１`).
const RE_NON_ALNUM = /[^a-zA-Z\p{Nd}_]+/gu;
const RE_LEADING_DIGIT = /^\p{Nd}/u;
const RE_CAPITALIZED_WORD = /([^_])([A-Z][a-z]+)/g;
const RE_LOWER_THEN_UPPER = /([a-z0-9])([A-Z])/g;
const RE_TRAILING_UNDERSCORES = /_+$/;
const RE_MULTI_UNDERSCORE = /__+/g;

/** Normalizes one identifier to snake_case without shortening (steps 1–7 of dlt's algorithm). */
export function toSnakeCase(identifier: string): string {
  let s = identifier.trim();
  s = s.replace(RE_TRANSLATE, (c) => TRANSLATE[c] ?? c);
  s = s.replace(RE_NON_ALNUM, "_");
  s = s.replace(RE_CAPITALIZED_WORD, "$1_$2").replace(RE_LOWER_THEN_UPPER, "$1_$2").toLowerCase();
  if (RE_LEADING_DIGIT.test(s)) s = `_${s}`;
  s = s.replace(RE_TRAILING_UNDERSCORES, (m) => "x".repeat(m.length));
  return s.replace(RE_MULTI_UNDERSCORE, "_");
}

/** Options of the naming convention factories ({@link snakeCase}, `namingConvention`, ...). */
export interface SnakeCaseOptions {
  /** Longest identifier allowed (the destination's `maxIdentifierLength`). */
  readonly maxLength?: number | undefined;
}

const SNAKE_CASE: NamingConventionSpec = {
  name: "snake_case",
  isCaseSensitive: false,
  pathSeparator: PATH_SEPARATOR,
  normalize: toSnakeCase,
};

/**
 * Creates the `snake_case` convention. Results are cached per instance, so normalizing the same key
 * for every row costs one map lookup.
 */
export function snakeCase(options: SnakeCaseOptions = {}): NamingConvention {
  return createNamingConvention(SNAKE_CASE, options.maxLength);
}
