/**
 * Identifier and literal escaping for Postgres-family SQL (REFERENCE §7.1). DuckDB shares Postgres'
 * rules except for binary values, which it writes as `from_base64('...')`.
 */

/** Quotes an identifier with double quotes, doubling embedded `"` (Postgres, DuckDB, ANSI). */
export function escapeDoubleQuotedIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** An escape-string literal `E'...'`: `\` → `\\`, `'` → `''`, newline → `\n`, carriage return → `\r`. */
export function escapeStringLiteral(value: string): string {
  const escaped = value
    .replaceAll("\\", "\\\\")
    .replaceAll("'", "''")
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r");
  return `E'${escaped}'`;
}

/**
 * A Postgres literal for a JS value: strings (and JSON of objects/arrays) as `E'...'`, `Date` as
 * `'<ISO 8601>'`, bytes as `'\x<hex>'`, numbers and bigints as digits (`'NaN'`, `'Infinity'` quoted),
 * booleans as `TRUE`/`FALSE`, `null`/`undefined` as `NULL`.
 */
export function escapePostgresLiteral(value: unknown): string {
  if (value instanceof Uint8Array) return `'\\x${Buffer.from(value).toString("hex")}'`;
  return escapeCommonLiteral(value);
}

/** A DuckDB literal: as {@link escapePostgresLiteral}, but bytes become `from_base64('<base64>')`. */
export function escapeDuckDBLiteral(value: unknown): string {
  if (value instanceof Uint8Array) return `from_base64('${Buffer.from(value).toString("base64")}')`;
  return escapeCommonLiteral(value);
}

function escapeCommonLiteral(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  switch (typeof value) {
    case "string":
      return escapeStringLiteral(value);
    case "number":
      if (Number.isFinite(value)) return String(value);
      return Number.isNaN(value) ? "'NaN'" : value > 0 ? "'Infinity'" : "'-Infinity'";
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "TRUE" : "FALSE";
    default:
      break;
  }
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (typeof value === "object") {
    return escapeStringLiteral(
      JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
    );
  }
  throw new TypeError(`Cannot render a ${typeof value} as a SQL literal.`);
}
