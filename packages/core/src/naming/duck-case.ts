/** dlt's `duck_case` naming convention: case sensitive, keeps unicode, `__` paths. */
import {
  createNamingConvention,
  type NamingConvention,
  type NamingConventionSpec,
  PATH_SEPARATOR,
} from "./naming-convention.js";
import type { SnakeCaseOptions } from "./snake-case.js";

const RE_CLEANUP = /[\n\r"]/g;
const RE_MULTI_UNDERSCORE = /__+/g;

/** Normalizes one identifier with duck_case: `\n`, `\r` and `"` become `_`, runs of `_` collapse. */
export function toDuckCase(identifier: string): string {
  return identifier.trim().replace(RE_CLEANUP, "_").replace(RE_MULTI_UNDERSCORE, "_");
}

const DUCK_CASE: NamingConventionSpec = {
  name: "duck_case",
  isCaseSensitive: true,
  pathSeparator: PATH_SEPARATOR,
  normalize: toDuckCase,
};

/** Creates the `duck_case` convention (identifiers keep their case and unicode letters). */
export function duckCase(options: SnakeCaseOptions = {}): NamingConvention {
  return createNamingConvention(DUCK_CASE, options.maxLength);
}
