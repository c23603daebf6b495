/**
 * The read-only check of the data browser's SQL box. Enforcement has two layers:
 *
 * 1. This lexical check (comments and quoted text skipped): exactly one statement, starting with
 *    SELECT, WITH, DESCRIBE or SHOW, and no keyword that writes or changes the session (INSERT,
 *    UPDATE, DELETE, CREATE, DROP, ALTER, COPY, ATTACH, SET, PRAGMA, ...) anywhere in it.
 * 2. The server then runs the text only as a subquery, `SELECT * FROM (<sql>) LIMIT n`, so the
 *    database's own parser rejects anything that is not a query (DuckDB and Postgres allow no DML in
 *    a subquery, and Postgres allows data-modifying CTEs only at the top level).
 *
 * The scanner errs towards seeing more code than the database does (it knows no dollar quoting or
 * nested comments), so those constructs are rejected rather than let through.
 */

/** Statements the SQL box accepts. */
export const READ_ONLY_STATEMENTS: readonly string[] = Object.freeze(["SELECT", "WITH", "DESCRIBE", "SHOW"]);

/** Keywords that never appear in a read-only query. */
const FORBIDDEN = new Set([
  "INSERT",
  "UPDATE",
  "DELETE",
  "MERGE",
  "UPSERT",
  "CREATE",
  "DROP",
  "ALTER",
  "TRUNCATE",
  "ATTACH",
  "DETACH",
  "COPY",
  "EXPORT",
  "IMPORT",
  "INSTALL",
  "LOAD",
  "PRAGMA",
  "CALL",
  "GRANT",
  "REVOKE",
  "VACUUM",
  "CHECKPOINT",
  "SET",
  "RESET",
  "BEGIN",
  "COMMIT",
  "ROLLBACK",
  "EXECUTE",
  "PREPARE",
  "LOCK",
]);

/** The verdict of {@link checkReadOnlySql}. */
export type ReadOnlyVerdict =
  | { readonly ok: true; readonly sql: string }
  | { readonly ok: false; readonly reason: string };

/** Splits SQL into code (with quoted text and comments blanked) for keyword scanning. */
function codeOnly(sql: string): string {
  let out = "";
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? sql.length : end;
      out += " ";
    } else if (c === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 2;
      out += " ";
    } else if (c === "'" || c === '"') {
      // quoted text or identifier; a doubled quote escapes itself
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
      out += c === "'" ? " '' " : ' "" ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Checks that `sql` is one read-only statement; returns it without a trailing semicolon. */
export function checkReadOnlySql(sql: string): ReadOnlyVerdict {
  const text = sql.trim().replace(/(;\s*)+$/, "");
  if (text === "") return { ok: false, reason: "The query is empty." };
  const code = codeOnly(text);
  if (code.includes(";")) return { ok: false, reason: "Only a single statement is allowed." };
  const words = code.toUpperCase().match(/[A-Z_][A-Z0-9_$]*/g) ?? [];
  const first = words[0];
  if (!first || !READ_ONLY_STATEMENTS.includes(first) || !/^\s*[A-Za-z]/.test(code)) {
    return {
      ok: false,
      reason: `Only read-only queries are allowed: the statement must start with ${READ_ONLY_STATEMENTS.join(", ")}.`,
    };
  }
  const forbidden = words.find((w) => FORBIDDEN.has(w));
  if (forbidden) return { ok: false, reason: `Only read-only queries are allowed: \`${forbidden}\` is not.` };
  return { ok: true, sql: text };
}
