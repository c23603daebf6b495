/**
 * Building blocks of the follow-up SQL (merge and replace from staging): column lookups by hint,
 * qualified names in the main and staging datasets, key matches, hard-delete conditions and the
 * deduplicating select. Internal to `@tsdlt/sql`.
 */
import {
  C_DLT_ID,
  type ColumnSchema,
  DestinationError,
  isCompleteColumn,
  type TableSchema,
} from "@tsdlt/core";
import { escapeColumnName, qualifiedTableName } from "./ddl.js";
import type { SqlDialect } from "./sql-dialect.js";

/** The two datasets a follow-up job works across. */
export interface FollowupDatasets {
  /** The dataset holding the destination tables. */
  readonly datasetName: string;
  /** The staging dataset holding this load's rows (`<dataset>_staging`). */
  readonly stagingDatasetName: string;
}

/** Alias of destination tables in follow-up statements. */
export const D = "d";
/** Alias of staging tables in follow-up statements. */
export const S = "s";
/** Column holding the row number of the deduplicating select. */
export const DEDUP_RN = "_dlt_dedup_rn";
/** Alias of the deduplicating subquery. */
export const DEDUP_ALIAS = "_dlt_dedup_numbered";

/** Names and SQL fragments for one chain, bound to a dialect and the two datasets. */
export class ChainSql {
  readonly dialect: SqlDialect;
  readonly datasets: FollowupDatasets;
  readonly tables: readonly TableSchema[];

  constructor(dialect: SqlDialect, tables: readonly TableSchema[], datasets: FollowupDatasets) {
    if (tables.length === 0) {
      throw new DestinationError("[tsdlt] A table chain without tables has no follow-up SQL.", {
        code: "DESTINATION_TERMINAL",
        destination: dialect.name,
      });
    }
    this.dialect = dialect;
    this.tables = tables;
    this.datasets = datasets;
  }

  get root(): TableSchema {
    return this.tables[0] as TableSchema;
  }

  get nested(): readonly TableSchema[] {
    return this.tables.slice(1);
  }

  /** The destination table, qualified. */
  dest(table: TableSchema): string {
    return qualifiedTableName(this.dialect, this.datasets.datasetName, table.name);
  }

  /** The staging copy of a table, qualified. */
  staging(table: TableSchema): string {
    return qualifiedTableName(this.dialect, this.datasets.stagingDatasetName, table.name);
  }

  /** An escaped column name, optionally qualified by an alias. */
  col(name: string, alias?: string): string {
    const escaped = escapeColumnName(this.dialect, name);
    return alias === undefined ? escaped : `${alias}.${escaped}`;
  }

  /** The escaped names of `names`, comma separated, optionally qualified by an alias. */
  list(names: readonly string[], alias?: string): string {
    return names.map((n) => this.col(n, alias)).join(", ");
  }

  /** `<a>.k1 = <b>.k1 AND <a>.k2 = <b>.k2`: compound keys compare column by column, never concatenated. */
  keysMatch(keys: readonly string[], a: string, b: string): string {
    return keys.map((k) => `${this.col(k, a)} = ${this.col(k, b)}`).join(" AND ");
  }

  /** A terminal error about this chain's hints. */
  error(problem: string, fix: string): DestinationError {
    return new DestinationError(
      `[tsdlt] [${this.dialect.name}] The follow-up job of table \`${this.root.name}\` (dataset \`${this.datasets.datasetName}\`, staging \`${this.datasets.stagingDatasetName}\`) cannot be created: ${problem}. ${fix}`,
      {
        code: "DESTINATION_TERMINAL",
        retryable: false,
        destination: this.dialect.name,
        table: this.root.name,
      },
    );
  }

  /** The column that identifies rows of `table` (dlt's `get_row_key_col`): `row_key`, else `unique`, else a single primary key, else `_dlt_id`. */
  rowKey(table: TableSchema): string {
    const found =
      firstColumnWith(table, (c) => c.row_key === true) ?? firstColumnWith(table, (c) => c.unique === true);
    if (found !== undefined) return found;
    const pk = columnsWith(table, (c) => c.primary_key === true);
    if (pk.length === 1) return pk[0] as string;
    if (completeColumnNames(table).includes(C_DLT_ID)) return C_DLT_ID;
    throw this.error(
      `table \`${table.name}\` has no \`row_key\`, \`unique\` or single primary key column (such as \`_dlt_id\`)`,
      "Do not remove `_dlt_id` from the table.",
    );
  }

  /**
   * The column of a nested table pointing at its root row (dlt's `get_root_key_col`): `root_key`, or
   * the parent key when the parent is the root.
   */
  rootKey(table: TableSchema): string {
    const rootKey = firstColumnWith(table, (c) => c.root_key === true);
    if (rootKey !== undefined) return rootKey;
    const parentKey = firstColumnWith(table, (c) => c.parent_key === true);
    if (table.parent === this.root.name && parentKey !== undefined) return parentKey;
    throw this.error(
      `nested table \`${table.name}\` has no \`root_key\` column (\`_dlt_root_id\`)${table.parent === this.root.name ? " and no `parent_key` column" : ""}`,
      "Enable root key propagation for the source (`root_key: true`) or use a merge strategy that propagates it (delete-insert, upsert, insert-only) from the first load on.",
    );
  }

  /**
   * Conditions on the hard-delete column of `table` (dlt's `hard_delete` hint), or undefined without
   * one: for a `bool` column only `true` deletes, for other types any non-NULL value.
   */
  hardDelete(table: TableSchema, alias?: string): { deleted: string; notDeleted: string } | undefined {
    const column = Object.values(table.columns).find((c) => isCompleteColumn(c) && c.hard_delete === true);
    if (column?.name === undefined) return undefined;
    const ref = this.col(column.name, alias);
    if (column.data_type === "bool") {
      const lit = (v: boolean): string => this.dialect.escapeLiteral(v);
      return { deleted: `${ref} = ${lit(true)}`, notDeleted: `(${ref} IS NULL OR ${ref} = ${lit(false)})` };
    }
    return { deleted: `${ref} IS NOT NULL`, notDeleted: `${ref} IS NULL` };
  }

  /**
   * `ORDER BY` terms of the deduplicating row number: the `dedup_sort` column of `table` if any, then
   * the dialect's load order (or `tieBreaker`), so every statement of a job picks the same row.
   */
  dedupOrder(table: TableSchema, tieBreaker: string | undefined): string {
    const terms: string[] = [];
    const sort = Object.values(table.columns).find(
      (c) => isCompleteColumn(c) && (c.dedup_sort === "asc" || c.dedup_sort === "desc"),
    );
    if (sort?.name !== undefined)
      terms.push(`${this.col(sort.name)} ${sort.dedup_sort === "desc" ? "DESC" : "ASC"}`);
    const order = this.dialect.loadOrderExpression ?? (tieBreaker && this.col(tieBreaker));
    if (order) terms.push(order);
    return terms.length > 0 ? terms.join(", ") : "(SELECT NULL)";
  }

  /**
   * A parenthesized subquery (alias it after `FROM` / `USING`) of the rows of `source` deduplicated by `partitionBy`:
   * rows matching `filter` are numbered per key, ordered by {@link ChainSql.dedupOrder}; number 1 is
   * kept when it matches `condition` (so a key whose winning row is, say, a deletion yields nothing).
   * With no `partitionBy` or with `skip`, the rows of `source` matching both conditions.
   */
  dedupSource(
    table: TableSchema,
    source: string,
    partitionBy: readonly string[],
    options: {
      readonly filter?: string | undefined;
      readonly condition?: string | undefined;
      readonly tieBreaker?: string | undefined;
      readonly skip?: boolean | undefined;
    } = {},
  ): string {
    const where = (conditions: readonly (string | undefined)[]): string => {
      const present = conditions.filter((c): c is string => c !== undefined);
      return present.length === 0 ? "" : ` WHERE ${present.join(" AND ")}`;
    };
    if (partitionBy.length === 0 || options.skip === true) {
      return `(SELECT * FROM ${source}${where([options.filter, options.condition])})`;
    }
    const order = this.dedupOrder(table, options.tieBreaker);
    const numbered =
      `SELECT *, ROW_NUMBER() OVER (PARTITION BY ${this.list(partitionBy)} ORDER BY ${order}) AS ${DEDUP_RN}` +
      ` FROM ${source}${where([options.filter])}`;
    return `(SELECT * FROM (${numbered}) AS ${DEDUP_ALIAS}${where([`${DEDUP_RN} = 1`, options.condition])})`;
  }
}

/** Names of the complete columns of a table, in table order. */
export function completeColumnNames(table: TableSchema): string[] {
  return Object.values(table.columns)
    .filter(isCompleteColumn)
    .map((c) => c.name);
}

/** Names of the complete columns matching `test`, in table order. */
export function columnsWith(table: TableSchema, test: (column: ColumnSchema) => boolean): string[] {
  return Object.values(table.columns)
    .filter((c) => isCompleteColumn(c) && test(c))
    .map((c) => c.name as string);
}

/** The first complete column matching `test`. */
export function firstColumnWith(
  table: TableSchema,
  test: (column: ColumnSchema) => boolean,
): string | undefined {
  return columnsWith(table, test)[0];
}

/**
 * A date/time hint value as a UTC `Date`: a `Date`, epoch milliseconds, or an ISO 8601 string (a
 * date alone is midnight UTC; a date-time without offset is read as UTC).
 */
export function toUtcDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === "number") return Number.isFinite(value) ? new Date(value) : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  const naive = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
  const date = new Date(naive ? `${text.replace(" ", "T")}Z` : text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
