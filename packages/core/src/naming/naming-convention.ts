/** The naming-convention contract: how source keys and table names become destination identifiers. */
import { createHash } from "node:crypto";
import { TsdltError } from "../errors.js";

/** Separator of path fragments in flattened column names and nested table names (all but `direct`). */
export const PATH_SEPARATOR = "__";

/** Turns source identifiers into destination identifiers (dlt's `NamingConvention`). */
export interface NamingConvention {
  /** Name as written in schema files (`normalizers.names`), e.g. `snake_case`. */
  readonly name: string;
  /** Longest identifier the destination accepts; longer ones are shortened with a hash tag. */
  readonly maxLength: number | undefined;
  readonly isCaseSensitive: boolean;
  /** Separator of path fragments: `__`, or `▶` for `direct`. */
  readonly pathSeparator: string;
  /** Normalizes one identifier (a column name or one path fragment). */
  normalizeIdentifier(identifier: string): string;
  /** Normalizes a table name. */
  normalizeTableIdentifier(identifier: string): string;
  /**
   * Normalizes a separator-delimited path: blank fragments dropped, the others normalized one by
   * one, joined, and the whole path shortened. Throws `IDENTIFIER_INVALID` when no fragment is left.
   */
  normalizePath(path: string): string;
  /** Like {@link normalizePath} for table names. */
  normalizeTablesPath(path: string): string;
  /**
   * Joins already-normalized fragments (blank ones dropped) into a path and shortens it as one
   * identifier (dlt's `shorten_fragments`).
   */
  makePath(...identifiers: string[]): string;
  /** Splits a path into its non-blank fragments (fragments are not stripped). */
  breakPath(path: string): string[];
}

/** Length of the hash tag inserted by {@link shortenIdentifier}. */
const TAG_LENGTH = 6;
/** Bytes of SHAKE-128 used for the tag: collision probability 0.001 → `int(3*log2(1000)//8)+1` = 4. */
const TAG_BYTES = 4;

/**
 * Shortens `normalized` to `maxLength` characters by keeping its head and tail around a 6-char tag
 * computed from `original` exactly as given (normalizers pass the stripped identifier, paths pass
 * the raw path, as dlt does), so the same source name always maps to the same short name.
 */
export function shortenIdentifier(
  normalized: string,
  original: string,
  maxLength: number | undefined,
): string {
  if (!maxLength || normalized.length <= maxLength) return normalized;
  const tag = createHash("shake128", { outputLength: TAG_BYTES })
    .update(original, "utf8")
    .digest("base64")
    .replace(/=+$/, "")
    .replaceAll("/", "a")
    .replaceAll("+", "b")
    .toLowerCase();
  const remaining = Math.max(maxLength - TAG_LENGTH, 0);
  const head = Math.ceil(remaining / 2);
  const tail = Math.floor(remaining / 2);
  return normalized.slice(0, head) + tag + (tail > 0 ? normalized.slice(-tail) : "");
}

/** Throws the error dlt raises for identifiers that are not strings or are empty after stripping. */
export function assertIdentifier(identifier: unknown): asserts identifier is string {
  if (typeof identifier !== "string" || identifier.trim().length === 0) {
    throw new TsdltError(
      `Identifier ${JSON.stringify(identifier)} cannot be normalized: it must be a non-empty string.`,
      { code: "IDENTIFIER_INVALID" },
    );
  }
}

/** What distinguishes one naming convention from another; the path handling is shared. */
export interface NamingConventionSpec {
  readonly name: string;
  readonly isCaseSensitive: boolean;
  readonly pathSeparator: string;
  /** Normalizes a stripped, non-empty identifier, without shortening. */
  readonly normalize: (stripped: string) => string;
}

/** Cache bound per convention instance; identifiers repeat heavily (column names of every row). */
const CACHE_LIMIT = 10_000;

/**
 * Builds a {@link NamingConvention} from its identifier rule. Identifiers and paths are cached per
 * instance, so normalizing the same key for every row costs one map lookup.
 */
export function createNamingConvention(
  spec: NamingConventionSpec,
  maxLength: number | undefined,
): NamingConvention {
  const separator = spec.pathSeparator;
  const identifiers = new Map<string, string>();
  const paths = new Map<string, string>();

  const normalizeIdentifier = (identifier: string): string => {
    const cached = identifiers.get(identifier);
    if (cached !== undefined) return cached;
    assertIdentifier(identifier);
    const stripped = identifier.trim();
    const result = shortenIdentifier(spec.normalize(stripped), stripped, maxLength);
    if (identifiers.size < CACHE_LIMIT) identifiers.set(identifier, result);
    return result;
  };
  const breakPath = (path: string): string[] => path.split(separator).filter((f) => f.trim().length > 0);
  const normalizePath = (path: string): string => {
    const cached = paths.get(path);
    if (cached !== undefined) return cached;
    assertIdentifier(path);
    const fragments = breakPath(path);
    if (fragments.length === 0) {
      throw new TsdltError(
        `Path ${JSON.stringify(path)} cannot be normalized: it has no non-blank fragment between the \`${separator}\` separators.`,
        { code: "IDENTIFIER_INVALID" },
      );
    }
    let joined = normalizeIdentifier(fragments[0] as string);
    for (let i = 1; i < fragments.length; i++)
      joined += separator + normalizeIdentifier(fragments[i] as string);
    const result = shortenIdentifier(joined, path, maxLength);
    if (paths.size < CACHE_LIMIT) paths.set(path, result);
    return result;
  };
  const makePath = (...fragments: string[]): string => {
    let joined = "";
    for (const fragment of fragments) {
      if (fragment.trim().length === 0) continue;
      joined = joined.length === 0 ? fragment : joined + separator + fragment;
    }
    return shortenIdentifier(joined, joined, maxLength);
  };

  return Object.freeze({
    name: spec.name,
    maxLength,
    isCaseSensitive: spec.isCaseSensitive,
    pathSeparator: separator,
    normalizeIdentifier,
    normalizeTableIdentifier: normalizeIdentifier,
    normalizePath,
    normalizeTablesPath: normalizePath,
    makePath,
    breakPath,
  });
}
