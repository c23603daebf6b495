/**
 * The merge follow-up SQL (REFERENCE §4.3): statements that fold a table chain's staging copy
 * (`<dataset>_staging`) into the destination tables, one generator per merge strategy. The load
 * stage runs them in one transaction after every job of the chain completed. Pure functions of a
 * {@link SqlDialect}: DuckDB and Postgres share them; only the dialect hooks differ.
 *
 * Common rules:
 * - Compound keys compare column by column (`d.a = s.a AND d.b = s.b`), never by concatenation.
 * - Staging rows are deduplicated per key with `ROW_NUMBER()`: the `dedup_sort` column decides, then
 *   the dialect's load order (first loaded wins), so the root and nested statements pick the same row.
 *   The root hint `x-stage-data-deduplicated: true` skips this.
 * - `hard_delete`: a `bool` column deletes when `true`, any other type when not NULL.
 */
import { C_DLT_ID, type MergeStrategy, type TableSchema } from "@tsdlt/core";
import {
  ChainSql,
  columnsWith,
  completeColumnNames,
  D,
  DEDUP_ALIAS,
  type FollowupDatasets,
  firstColumnWith,
  S,
  toUtcDate,
} from "./followup-helpers.js";
import type { SqlDialect } from "./sql-dialect.js";

/** What {@link mergeSql} needs besides the chain. */
export interface MergeSqlOptions extends FollowupDatasets {
  /** scd2's boundary timestamp when the root has no `x-boundary-timestamp` hint (the package's creation time). */
  readonly packageCreatedAt?: Date;
}

/** The merge follow-up statements of a table chain (root first) for `strategy`. */
export function mergeSql(
  dialect: SqlDialect,
  tables: readonly TableSchema[],
  strategy: MergeStrategy,
  options: MergeSqlOptions,
): string[] {
  switch (strategy) {
    case "delete-insert":
      return deleteInsertSql(dialect, tables, options);
    case "upsert":
      return upsertSql(dialect, tables, options);
    case "insert-only":
      return insertOnlySql(dialect, tables, options);
    case "scd2":
      return scd2Sql(dialect, tables, options);
  }
}

/** `row_key` column if any, else `_dlt_id` when present: the tie breaker of deduplication. */
function rowKeyOrUndefined(table: TableSchema): string | undefined {
  return (
    firstColumnWith(table, (c) => c.row_key === true) ??
    (completeColumnNames(table).includes(C_DLT_ID) ? C_DLT_ID : undefined)
  );
}

function primaryKeys(table: TableSchema): string[] {
  return columnsWith(table, (c) => c.primary_key === true);
}

function mergeKeys(table: TableSchema): string[] {
  return columnsWith(table, (c) => c.merge_key === true);
}

function isDeduplicated(root: TableSchema): boolean {
  return root["x-stage-data-deduplicated"] === true;
}

/**
 * `delete-insert` (dlt's `gen_merge_sql`):
 * 1. delete destination rows whose primary key or merge key appears in staging (nested tables first,
 *    through their root key, then the root);
 * 2. insert the staging rows, deduplicated by primary key, without hard-deleted ones; nested rows
 *    only for the root rows inserted.
 *
 * Without primary and merge keys nothing is deleted: the staging rows are appended.
 */
export function deleteInsertSql(
  dialect: SqlDialect,
  tables: readonly TableSchema[],
  datasets: FollowupDatasets,
): string[] {
  const c = new ChainSql(dialect, tables, datasets);
  const root = c.root;
  const pk = primaryKeys(root);
  const mk = mergeKeys(root);
  const hard = c.hardDelete(root);
  const rowKey = c.nested.length > 0 ? c.rowKey(root) : rowKeyOrUndefined(root);
  const sql: string[] = [];

  if (pk.length + mk.length > 0) {
    const keyMatch = [pk, mk]
      .filter((keys) => keys.length > 0)
      .map((keys) => `(${c.keysMatch(keys, D, S)})`)
      .join(" OR ");
    const matched = `EXISTS (SELECT 1 FROM ${c.staging(root)} AS ${S} WHERE ${keyMatch})`;
    for (const table of c.nested) {
      sql.push(
        `DELETE FROM ${c.dest(table)} WHERE ${c.col(c.rootKey(table))} IN` +
          ` (SELECT ${c.col(rowKey as string, D)} FROM ${c.dest(root)} AS ${D} WHERE ${matched})`,
      );
    }
    sql.push(`DELETE FROM ${c.dest(root)} AS ${D} WHERE ${matched}`);
  }

  const rootRows = c.dedupSource(root, c.staging(root), isDeduplicated(root) ? [] : pk, {
    condition: hard?.notDeleted,
    tieBreaker: rowKey,
  });
  const columns = completeColumnNames(root);
  sql.push(
    `INSERT INTO ${c.dest(root)} (${c.list(columns)}) SELECT ${c.list(columns)} FROM ${rootRows} AS ${DEDUP_ALIAS}`,
  );
  for (const table of c.nested) {
    const nestedColumns = completeColumnNames(table);
    const onlyInserted =
      pk.length > 0 || hard !== undefined
        ? ` WHERE ${c.col(c.rootKey(table))} IN (SELECT ${c.col(rowKey as string)} FROM ${rootRows} AS ${DEDUP_ALIAS})`
        : "";
    sql.push(
      `INSERT INTO ${c.dest(table)} (${c.list(nestedColumns)}) SELECT ${c.list(nestedColumns)} FROM ${c.staging(table)}${onlyInserted}`,
    );
  }
  return sql;
}

function requirePrimaryKey(c: ChainSql, strategy: MergeStrategy): string[] {
  const pk = primaryKeys(c.root);
  if (pk.length === 0) {
    throw c.error(
      `the \`${strategy}\` merge strategy needs a primary key and table \`${c.root.name}\` has none`,
      "Set `primaryKey` on the resource, or use the `delete-insert` strategy.",
    );
  }
  return pk;
}

function mergeInsertClause(c: ChainSql, columns: readonly string[]): string {
  return `INSERT (${c.list(columns)}) VALUES (${c.list(columns, S)})`;
}

/**
 * `upsert` (dlt's `gen_upsert_sql`): `MERGE` on the primary key — hard-deleted rows are deleted,
 * matched rows updated, new rows inserted (hard-deleted new rows are not). Nested tables `MERGE` on
 * their row key (deterministic, derived from the root's key hash); elements no longer in a list and
 * the nested rows of hard-deleted roots are deleted. Staging rows are deduplicated by primary key
 * (nested ones by row key) so a key loaded twice in one package never yields two rows.
 */
export function upsertSql(
  dialect: SqlDialect,
  tables: readonly TableSchema[],
  datasets: FollowupDatasets,
): string[] {
  const c = new ChainSql(dialect, tables, datasets);
  const root = c.root;
  const pk = requirePrimaryKey(c, "upsert");
  const hardS = c.hardDelete(root, S);
  const hard = c.hardDelete(root);
  const dedup = !isDeduplicated(root);
  const columns = completeColumnNames(root);
  const rootRows = c.dedupSource(root, c.staging(root), dedup ? pk : [], {
    tieBreaker: rowKeyOrUndefined(root),
  });
  const sql: string[] = [
    `MERGE INTO ${c.dest(root)} AS ${D} USING ${rootRows} AS ${S} ON ${c.keysMatch(pk, D, S)}` +
      (hardS ? ` WHEN MATCHED AND ${hardS.deleted} THEN DELETE` : "") +
      ` WHEN MATCHED THEN UPDATE SET ${columns.map((n) => `${c.col(n)} = ${c.col(n, S)}`).join(", ")}` +
      ` WHEN NOT MATCHED${hardS ? ` AND ${hardS.notDeleted}` : ""} THEN ${mergeInsertClause(c, columns)}`,
  ];
  if (c.nested.length === 0) return sql;
  const rootRowKey = c.rowKey(root);
  for (const table of c.nested) {
    const rowKey = c.rowKey(table);
    const rootKey = c.rootKey(table);
    const nestedColumns = completeColumnNames(table);
    // elements no longer in the list of a root row present in this load
    sql.push(
      `DELETE FROM ${c.dest(table)} AS ${D} WHERE ${c.col(rootKey, D)} IN (SELECT ${c.col(rootRowKey)} FROM ${c.staging(root)})` +
        ` AND NOT EXISTS (SELECT 1 FROM ${c.staging(table)} AS ${S} WHERE ${c.keysMatch([rowKey], S, D)})`,
    );
    const nestedRows = c.dedupSource(table, c.staging(table), dedup ? [rowKey] : [], { tieBreaker: rowKey });
    sql.push(
      `MERGE INTO ${c.dest(table)} AS ${D} USING ${nestedRows} AS ${S} ON ${c.keysMatch([rowKey], D, S)}` +
        ` WHEN MATCHED THEN UPDATE SET ${nestedColumns.map((n) => `${c.col(n)} = ${c.col(n, S)}`).join(", ")}` +
        ` WHEN NOT MATCHED THEN ${mergeInsertClause(c, nestedColumns)}`,
    );
    if (hard) {
      sql.push(
        `DELETE FROM ${c.dest(table)} WHERE ${c.col(rootKey)} IN (SELECT ${c.col(rootRowKey)} FROM ${c.staging(root)} WHERE ${hard.deleted})`,
      );
    }
  }
  return sql;
}

/**
 * `insert-only`: like {@link upsertSql} but rows whose key already exists are never touched —
 * `MERGE ... WHEN NOT MATCHED THEN INSERT` only, hard-deleted staging rows filtered out first. Nested
 * tables insert the elements not yet present (by row key) of the roots that are not deleted.
 */
export function insertOnlySql(
  dialect: SqlDialect,
  tables: readonly TableSchema[],
  datasets: FollowupDatasets,
): string[] {
  const c = new ChainSql(dialect, tables, datasets);
  const root = c.root;
  const pk = requirePrimaryKey(c, "insert-only");
  const hard = c.hardDelete(root);
  const dedup = !isDeduplicated(root);
  const columns = completeColumnNames(root);
  const rootRows = c.dedupSource(root, c.staging(root), dedup ? pk : [], {
    filter: hard?.notDeleted,
    tieBreaker: rowKeyOrUndefined(root),
  });
  const sql: string[] = [
    `MERGE INTO ${c.dest(root)} AS ${D} USING ${rootRows} AS ${S} ON ${c.keysMatch(pk, D, S)}` +
      ` WHEN NOT MATCHED THEN ${mergeInsertClause(c, columns)}`,
  ];
  if (c.nested.length === 0) return sql;
  const rootRowKey = c.rowKey(root);
  for (const table of c.nested) {
    const rowKey = c.rowKey(table);
    const nestedColumns = completeColumnNames(table);
    const filter = hard
      ? `${c.col(c.rootKey(table))} IN (SELECT ${c.col(rootRowKey)} FROM ${c.staging(root)} WHERE ${hard.notDeleted})`
      : undefined;
    const nestedRows = c.dedupSource(table, c.staging(table), dedup ? [rowKey] : [], {
      filter,
      tieBreaker: rowKey,
    });
    sql.push(
      `MERGE INTO ${c.dest(table)} AS ${D} USING ${nestedRows} AS ${S} ON ${c.keysMatch([rowKey], D, S)}` +
        ` WHEN NOT MATCHED THEN ${mergeInsertClause(c, nestedColumns)}`,
    );
  }
  return sql;
}

/** The scd2 settings a root table carries as hints (dlt's `x-valid-from`, `x-valid-to`, ...). */
export interface Scd2Settings {
  /** Column holding the start of a version's validity (`_dlt_valid_from`). */
  readonly validFrom: string;
  /** Column holding the end of a version's validity (`_dlt_valid_to`); the active marker lives here. */
  readonly validTo: string;
  /** Column identifying a version (the row hash in `_dlt_id` unless `x-row-version` names another). */
  readonly rowVersion: string;
  /** Value of `validTo` in active rows; `undefined` means NULL. */
  readonly activeRecordTimestamp: Date | undefined;
  /** The `x-boundary-timestamp` hint, if set. */
  readonly boundaryTimestamp: Date | undefined;
}

/** Reads the scd2 hints of `root`; throws a terminal error naming the missing or invalid hint. */
export function scd2Settings(
  dialect: SqlDialect,
  root: TableSchema,
  datasets: FollowupDatasets,
): Scd2Settings {
  const c = new ChainSql(dialect, [root], datasets);
  const validFrom = firstColumnWith(root, (col) => col["x-valid-from"] === true);
  const validTo = firstColumnWith(root, (col) => col["x-valid-to"] === true);
  if (validFrom === undefined || validTo === undefined) {
    throw c.error(
      `the scd2 table has no ${validFrom === undefined ? "`x-valid-from`" : "`x-valid-to`"} column`,
      'Declare the merge as `writeDisposition: { disposition: "merge", strategy: "scd2" }`, which adds `_dlt_valid_from` and `_dlt_valid_to`.',
    );
  }
  const rowVersion =
    firstColumnWith(root, (col) => col["x-row-version"] === true) ??
    (completeColumnNames(root).includes(C_DLT_ID) ? C_DLT_ID : undefined);
  if (rowVersion === undefined) {
    throw c.error(
      "the scd2 table has no row version column (`x-row-version` or `_dlt_id`)",
      "Do not remove `_dlt_id`.",
    );
  }
  const date = (value: unknown, hint: string): Date | undefined => {
    if (value === undefined || value === null) return undefined;
    const parsed = toUtcDate(value);
    if (parsed === undefined) {
      throw c.error(
        `hint \`${hint}\` holds ${JSON.stringify(value)}, which is not a date or timestamp`,
        "Set it to an ISO 8601 date or timestamp.",
      );
    }
    return parsed;
  };
  const toColumn = root.columns[validTo];
  const activeHint =
    toColumn?.["x-active-record-timestamp"] ??
    Object.values(root.columns).find((col) => col["x-active-record-timestamp"] !== undefined)?.[
      "x-active-record-timestamp"
    ];
  return {
    validFrom,
    validTo,
    rowVersion,
    activeRecordTimestamp: date(activeHint, "x-active-record-timestamp"),
    boundaryTimestamp: date(root["x-boundary-timestamp"], "x-boundary-timestamp"),
  };
}

/**
 * `scd2` (dlt's `gen_scd2_sql`), with boundary timestamp `B` and active marker `A` (NULL or the
 * active record timestamp):
 * 1. retire: active destination rows whose row version is absent from staging get `valid_to = B`;
 *    with merge keys only those whose key (compared column by column) appears in staging;
 * 2. insert: staging rows whose row version is not active get `valid_from = B, valid_to = A`
 *    (hard-deleted rows are not inserted, so they only retire);
 * 3. nested tables: insert rows whose row key is not present yet (nested tables have no validity).
 *
 * A record that reappears unchanged keeps its version; one that comes back after being retired gets
 * a new version with the same row version.
 */
export function scd2Sql(
  dialect: SqlDialect,
  tables: readonly TableSchema[],
  options: MergeSqlOptions,
): string[] {
  const c = new ChainSql(dialect, tables, options);
  const root = c.root;
  const settings = scd2Settings(dialect, root, options);
  const boundaryDate = settings.boundaryTimestamp ?? options.packageCreatedAt;
  if (boundaryDate === undefined) {
    throw c.error(
      "no boundary timestamp: the root has no `x-boundary-timestamp` and no package time was given",
      "Pass `packageCreatedAt`.",
    );
  }
  const boundary = dialect.timestampLiteral(boundaryDate);
  const active = settings.activeRecordTimestamp
    ? dialect.timestampLiteral(settings.activeRecordTimestamp)
    : "NULL";
  const isActive = (alias: string): string =>
    settings.activeRecordTimestamp
      ? `${c.col(settings.validTo, alias)} = ${active}`
      : `${c.col(settings.validTo, alias)} IS NULL`;
  const version = settings.rowVersion;
  const mk = mergeKeys(root);
  const hard = c.hardDelete(root);
  const dedup = !isDeduplicated(root);

  const retire =
    `UPDATE ${c.dest(root)} AS ${D} SET ${c.col(settings.validTo)} = ${boundary} WHERE ${isActive(D)}` +
    ` AND NOT EXISTS (SELECT 1 FROM ${c.staging(root)} AS ${S} WHERE ${c.keysMatch([version], S, D)})` +
    (mk.length > 0
      ? ` AND EXISTS (SELECT 1 FROM ${c.staging(root)} AS ${S} WHERE ${c.keysMatch(mk, S, D)})`
      : "");

  const columns = completeColumnNames(root).filter((n) => n !== settings.validFrom && n !== settings.validTo);
  const rootRows = c.dedupSource(root, c.staging(root), dedup ? [version] : [], {
    filter: hard?.notDeleted,
    tieBreaker: version,
  });
  const insert =
    `INSERT INTO ${c.dest(root)} (${c.list(columns)}, ${c.list([settings.validFrom, settings.validTo])})` +
    ` SELECT ${c.list(columns, S)}, ${boundary}, ${active} FROM ${rootRows} AS ${S}` +
    ` WHERE NOT EXISTS (SELECT 1 FROM ${c.dest(root)} AS ${D} WHERE ${c.keysMatch([version], D, S)} AND ${isActive(D)})`;

  const sql = [retire, insert];
  for (const table of c.nested) {
    const rowKey = c.rowKey(table);
    const nestedColumns = completeColumnNames(table);
    const nestedRows = c.dedupSource(table, c.staging(table), dedup ? [rowKey] : [], { tieBreaker: rowKey });
    sql.push(
      `INSERT INTO ${c.dest(table)} (${c.list(nestedColumns)}) SELECT ${c.list(nestedColumns, S)} FROM ${nestedRows} AS ${S}` +
        ` WHERE NOT EXISTS (SELECT 1 FROM ${c.dest(table)} AS ${D} WHERE ${c.keysMatch([rowKey], D, S)})`,
    );
  }
  return sql;
}
