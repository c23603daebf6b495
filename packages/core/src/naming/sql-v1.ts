/** dlt's `sql_cs_v1` (case sensitive) and `sql_ci_v1` (lower case) SQL-safe naming conventions. */
import {
  createNamingConvention,
  type NamingConvention,
  type NamingConventionSpec,
  PATH_SEPARATOR,
} from "./naming-convention.js";
import type { SnakeCaseOptions } from "./snake-case.js";

// `\p{Nd}`: Python's `\d` also keeps non-ASCII decimal digits (`٣`, `１`).
const RE_NON_ALNUM = /[^a-zA-Z\p{Nd}_]+/gu;
const RE_LEADING_DIGIT = /^\p{Nd}/u;
const RE_TRAILING_UNDERSCORES = /_+$/;
const RE_MULTI_UNDERSCORE = /__+/g;

/**
 * Normalizes one identifier with sql_cs_v1: runs of characters outside `[a-zA-Z0-9_]` become `_`,
 * a leading digit gets a `_` prefix, trailing `_` are removed (unless the result is `_`), runs of
 * `_` collapse. Case is kept.
 */
export function toSqlCsV1(identifier: string): string {
  let s = identifier.trim().replace(RE_NON_ALNUM, "_");
  if (RE_LEADING_DIGIT.test(s)) s = `_${s}`;
  if (s !== "_") s = s.replace(RE_TRAILING_UNDERSCORES, "");
  return s.replace(RE_MULTI_UNDERSCORE, "_");
}

const SQL_CS_V1: NamingConventionSpec = {
  name: "sql_cs_v1",
  isCaseSensitive: true,
  pathSeparator: PATH_SEPARATOR,
  normalize: toSqlCsV1,
};

const SQL_CI_V1: NamingConventionSpec = {
  name: "sql_ci_v1",
  isCaseSensitive: false,
  pathSeparator: PATH_SEPARATOR,
  normalize: (identifier) => toSqlCsV1(identifier).toLowerCase(),
};

/** Creates the `sql_cs_v1` convention. */
export function sqlCsV1(options: SnakeCaseOptions = {}): NamingConvention {
  return createNamingConvention(SQL_CS_V1, options.maxLength);
}

/** Creates the `sql_ci_v1` convention (sql_cs_v1, lower-cased). */
export function sqlCiV1(options: SnakeCaseOptions = {}): NamingConvention {
  return createNamingConvention(SQL_CI_V1, options.maxLength);
}
