/**
 * Lookup of naming conventions by the name stored in a schema's `normalizers.names`, and the
 * default used for new schemas. Known: `snake_case` (default), `duck_case`, `direct`, `sql_cs_v1`,
 * `sql_ci_v1` — also as dlt's module paths (`dlt.common.normalizers.naming.<name>`, and the legacy
 * `dlt.common.normalizers.names.snake_case`). Custom Python naming modules are not supported.
 */
import { TsdltError } from "../errors.js";
import { direct } from "./direct.js";
import { duckCase } from "./duck-case.js";
import type { NamingConvention } from "./naming-convention.js";
import { type SnakeCaseOptions, snakeCase } from "./snake-case.js";
import { sqlCiV1, sqlCsV1 } from "./sql-v1.js";

/** Names of the naming conventions tsdlt implements. */
export const NAMING_CONVENTIONS: readonly ["snake_case", "duck_case", "direct", "sql_cs_v1", "sql_ci_v1"] = [
  "snake_case",
  "duck_case",
  "direct",
  "sql_cs_v1",
  "sql_ci_v1",
];
/** A naming convention tsdlt implements. */
export type NamingConventionName = (typeof NAMING_CONVENTIONS)[number];

const FACTORIES: Readonly<Record<NamingConventionName, (options: SnakeCaseOptions) => NamingConvention>> = {
  snake_case: snakeCase,
  duck_case: duckCase,
  direct,
  sql_cs_v1: sqlCsV1,
  sql_ci_v1: sqlCiV1,
};

const DLT_NAMESPACE = "dlt.common.normalizers.naming.";
const LEGACY_SNAKE_CASE = "dlt.common.normalizers.names.snake_case";

/** The short convention name of a `normalizers.names` reference, or undefined when unknown. */
export function namingConventionName(reference: string): NamingConventionName | undefined {
  let name = reference.trim();
  if (name === LEGACY_SNAKE_CASE) return "snake_case";
  if (name.startsWith(DLT_NAMESPACE)) name = name.slice(DLT_NAMESPACE.length);
  return (NAMING_CONVENTIONS as readonly string[]).includes(name)
    ? (name as NamingConventionName)
    : undefined;
}

/**
 * The naming convention called `name` (as stored in `normalizers.names`), limited to `maxLength`
 * characters. Throws `INVALID_ARGUMENT` for a convention tsdlt does not implement.
 *
 * @example
 * ```ts
 * const naming = namingConvention(schema.normalizers.names, { maxLength: 63 });
 * naming.normalizePath("userName__First"); // "user_name__first"
 * ```
 */
export function namingConvention(name: string, options: SnakeCaseOptions = {}): NamingConvention {
  const known = namingConventionName(name);
  if (known === undefined) {
    throw new TsdltError(
      `Naming convention \`${name}\` is not known to tsdlt. Use one of ${NAMING_CONVENTIONS.map((n) => `\`${n}\``).join(", ")} (config \`schema.naming\` or env \`SCHEMA__NAMING\`).`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  return FACTORIES[known](options);
}

/**
 * The naming convention new schemas get: env `SCHEMA__NAMING` (dlt's config `schema.naming`), else
 * env `DLT_DEFAULT_NAMING_MODULE`, else `snake_case`.
 */
export function defaultNamingConventionName(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const configured = env.SCHEMA__NAMING?.trim() || env.DLT_DEFAULT_NAMING_MODULE?.trim();
  return configured || "snake_case";
}
