/** The naming-convention contract: how source keys and table names become destination identifiers. */
import { createHash } from "node:crypto";
import { TsdltError } from "../errors.js";

/** Separator of path fragments in flattened column names and nested table names. */
export const PATH_SEPARATOR = "__";

/** Turns source identifiers into destination identifiers (dlt's `NamingConvention`). */
export interface NamingConvention {
  /** Name as written in schema files (`normalizers.names`), e.g. `snake_case`. */
  readonly name: string;
  /** Longest identifier the destination accepts; longer ones are shortened with a hash tag. */
  readonly maxLength: number | undefined;
  readonly isCaseSensitive: boolean;
  /** Normalizes one identifier (a column name or one path fragment). */
  normalizeIdentifier(identifier: string): string;
  /** Normalizes a table name. */
  normalizeTableIdentifier(identifier: string): string;
  /** Normalizes a `__`-separated path: fragments normalized one by one, empty ones dropped. */
  normalizePath(path: string): string;
  /** Like {@link normalizePath} for table names. */
  normalizeTablesPath(path: string): string;
  /** Joins already-normalized fragments into a path and shortens it as one identifier. */
  makePath(...identifiers: string[]): string;
  /** Splits a path into its non-empty fragments. */
  breakPath(path: string): string[];
}

/** Length of the hash tag inserted by {@link shortenIdentifier}. */
const TAG_LENGTH = 6;
/** Bytes of SHAKE-128 used for the tag: collision probability 0.001 → `int(3*log2(1000)//8)+1` = 4. */
const TAG_BYTES = 4;

/**
 * Shortens `normalized` to `maxLength` characters by keeping its head and tail around a 6-char tag
 * computed from the *original* identifier, exactly as dlt does, so the same source name always maps to
 * the same short name.
 */
export function shortenIdentifier(
  normalized: string,
  original: string,
  maxLength: number | undefined,
): string {
  if (maxLength === undefined || normalized.length <= maxLength) return normalized;
  const tag = createHash("shake128", { outputLength: TAG_BYTES })
    .update(original.trim(), "utf8")
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
