/** The default `snake_case` naming convention of dlt (case-insensitive, ASCII identifiers). */
import {
  assertIdentifier,
  type NamingConvention,
  PATH_SEPARATOR,
  shortenIdentifier,
} from "./naming-convention.js";

const TRANSLATE: Readonly<Record<string, string>> = { "+": "x", "-": "_", "*": "x", "@": "a", "|": "l" };
const RE_TRANSLATE = /[+\-*@|]/g;
const RE_NON_ALNUM = /[^a-zA-Z0-9_]+/g;
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
  const first = s.charCodeAt(0);
  if (first >= 48 && first <= 57) s = `_${s}`;
  s = s.replace(RE_TRAILING_UNDERSCORES, (m) => "x".repeat(m.length));
  return s.replace(RE_MULTI_UNDERSCORE, "_");
}

/** Options of {@link snakeCase}. */
export interface SnakeCaseOptions {
  /** Longest identifier allowed (the destination's `maxIdentifierLength`). */
  readonly maxLength?: number | undefined;
}

/** Cache bound per convention instance; identifiers repeat heavily (column names of every row). */
const CACHE_LIMIT = 10_000;

/**
 * Creates the `snake_case` convention. Results are cached per instance, so normalizing the same key
 * for every row costs one map lookup.
 */
export function snakeCase(options: SnakeCaseOptions = {}): NamingConvention {
  const maxLength = options.maxLength;
  const identifiers = new Map<string, string>();
  const paths = new Map<string, string>();

  const normalizeIdentifier = (identifier: string): string => {
    const cached = identifiers.get(identifier);
    if (cached !== undefined) return cached;
    assertIdentifier(identifier);
    const result = shortenIdentifier(toSnakeCase(identifier), identifier, maxLength);
    if (identifiers.size < CACHE_LIMIT) identifiers.set(identifier, result);
    return result;
  };
  const breakPath = (path: string): string[] => path.split(PATH_SEPARATOR).filter((f) => f.length > 0);
  const normalizePath = (path: string): string => {
    const cached = paths.get(path);
    if (cached !== undefined) return cached;
    assertIdentifier(path);
    const fragments = breakPath(path.trim());
    const joined =
      fragments.length === 0
        ? toSnakeCase(path)
        : fragments.map((f) => shortenIdentifier(toSnakeCase(f), f, undefined)).join(PATH_SEPARATOR);
    const result = shortenIdentifier(joined, path, maxLength);
    if (paths.size < CACHE_LIMIT) paths.set(path, result);
    return result;
  };

  return Object.freeze({
    name: "snake_case",
    maxLength,
    isCaseSensitive: false,
    normalizeIdentifier,
    normalizeTableIdentifier: normalizeIdentifier,
    normalizePath,
    normalizeTablesPath: normalizePath,
    makePath: (...identifiers: string[]) => {
      const joined = identifiers.join(PATH_SEPARATOR);
      return shortenIdentifier(joined, joined, maxLength);
    },
    breakPath,
  });
}
