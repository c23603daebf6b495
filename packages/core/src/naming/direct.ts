/**
 * dlt's `direct` naming convention: identifiers are kept as they are except that new lines, quotes
 * and the path separator become `_`. Paths are separated with `▶` (not `__`), so keys containing
 * `__` are plain names: `{"a": {"b": 1}}` gives the column `a▶b`, a list `items` of table `t` the
 * nested table `t▶items`.
 */
import {
  createNamingConvention,
  type NamingConvention,
  type NamingConventionSpec,
} from "./naming-convention.js";
import type { SnakeCaseOptions } from "./snake-case.js";

/** Path separator of the `direct` convention. */
export const DIRECT_PATH_SEPARATOR = "▶";

const RE_CLEANUP = /[\n\r'"▶]/g;

/** Normalizes one identifier with `direct`: `\n`, `\r`, `'`, `"` and `▶` become `_`. */
export function toDirect(identifier: string): string {
  return identifier.trim().replace(RE_CLEANUP, "_");
}

const DIRECT: NamingConventionSpec = {
  name: "direct",
  isCaseSensitive: true,
  pathSeparator: DIRECT_PATH_SEPARATOR,
  normalize: toDirect,
};

/** Creates the `direct` convention. */
export function direct(options: SnakeCaseOptions = {}): NamingConvention {
  return createNamingConvention(DIRECT, options.maxLength);
}
