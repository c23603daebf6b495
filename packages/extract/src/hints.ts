/**
 * Table hints of resources and how they become schema tables (REFERENCE §1.7, §4.3): keys become
 * column hints, the write disposition object form becomes `write_disposition` plus `x-` table and
 * column hints, and the incremental cursor column gets `incremental: true`.
 */
import {
  type ColumnSchema,
  ExtractError,
  MERGE_STRATEGIES,
  type MergeStrategy,
  type NamingConvention,
  REPLACE_STRATEGIES,
  type ReplaceStrategy,
  type SchemaContract,
  type TableSchema,
  WRITE_DISPOSITIONS,
  type WriteDisposition,
} from "@tsdlt/core";

/** Column hints: a map of column name → partial column schema, or a list of named columns. */
export type ColumnsHint = Record<string, ColumnSchema> | readonly (ColumnSchema & { name: string })[];

/** A table name, or a function computing it from each item (dynamic tables). */
export type TableNameHint = string | ((item: Record<string, unknown>) => string);

/** Default names of the scd2 validity columns. */
export const DEFAULT_VALIDITY_COLUMN_NAMES: readonly [string, string] = ["_dlt_valid_from", "_dlt_valid_to"];

/** `writeDisposition` object form of `merge` (dlt's `TMergeDispositionDict`, camelCase). */
export interface MergeDispositionOptions {
  readonly disposition: "merge";
  /** Stored as table hint `x-merge-strategy`; the destination's default applies when omitted. */
  readonly strategy?: MergeStrategy | undefined;
  /** delete-insert: the staging data has no duplicate keys (`x-stage-data-deduplicated`). */
  readonly deduplicated?: boolean | undefined;
  /** scd2: names of the validity columns. @default ["_dlt_valid_from", "_dlt_valid_to"] */
  readonly validityColumnNames?: readonly [string, string] | undefined;
  /** scd2: the `valid_to` value of active records instead of NULL, e.g. `"9999-12-31"`. */
  readonly activeRecordTimestamp?: string | Date | undefined;
  /** scd2: column holding the row version (default `_dlt_id`, the content hash of the row). */
  readonly rowVersionColumnName?: string | undefined;
  /** scd2: timestamp used to retire and insert versions, instead of the load time. */
  readonly boundaryTimestamp?: string | Date | undefined;
}

/** `writeDisposition` object form of `replace`. */
export interface ReplaceDispositionOptions {
  readonly disposition: "replace";
  /** Stored as table hint `x-replace-strategy`; the destination's configured strategy applies when omitted. */
  readonly strategy?: ReplaceStrategy | undefined;
}

/** `writeDisposition` object form of `append` and `skip`. */
export interface PlainDispositionOptions {
  readonly disposition: "append" | "skip";
}

/** A write disposition or its object form. */
export type WriteDispositionHint =
  | WriteDisposition
  | MergeDispositionOptions
  | ReplaceDispositionOptions
  | PlainDispositionOptions;

/** Table hints of a resource (user input, camelCase). */
export interface ResourceHints {
  /** Table to load into. Default: the resource name. A function routes each item to a table. */
  readonly tableName?: TableNameHint | undefined;
  /** @default "append" */
  readonly writeDisposition?: WriteDispositionHint | undefined;
  /** Primary key column(s): `primary_key: true, nullable: false`; replaces key hints in `columns`. */
  readonly primaryKey?: string | readonly string[] | undefined;
  /** Merge key column(s): `merge_key: true, nullable: false`. */
  readonly mergeKey?: string | readonly string[] | undefined;
  /** Column hints, merged into the table's columns. */
  readonly columns?: ColumnsHint | undefined;
  /** Schema contract of the table (`schema_contract`). */
  readonly schemaContract?: SchemaContract | undefined;
  /** Nesting budget for this resource's tables (`x-normalizer.max_nesting`; 0 → nested values stay json). */
  readonly maxTableNesting?: number | undefined;
  /** Loader file format for this table (`file_format`), or `"preferred"`. */
  readonly fileFormat?: string | undefined;
  /** Table format (`table_format`: `iceberg`, `delta`, `hive`, `native`). */
  readonly tableFormat?: string | undefined;
}

/** The keys of {@link ResourceHints}. */
export const RESOURCE_HINT_KEYS: readonly (keyof ResourceHints)[] = [
  "tableName",
  "writeDisposition",
  "primaryKey",
  "mergeKey",
  "columns",
  "schemaContract",
  "maxTableNesting",
  "fileFormat",
  "tableFormat",
];

function invalid(resourceName: string, message: string): never {
  throw new ExtractError(`Resource \`${resourceName}\` ${message}`, { code: "INVALID_ARGUMENT" });
}

function list(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(", ");
}

function isTimestamp(value: unknown): boolean {
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  return typeof value === "string" && !Number.isNaN(Date.parse(value));
}

/** Validates the hints of resource `resourceName`; throws an {@link ExtractError} naming the bad value. */
export function validateHints(resourceName: string, hints: ResourceHints): void {
  const wd = hints.writeDisposition;
  if (typeof wd === "string" || wd === undefined || wd === null || typeof wd !== "object") {
    if (wd !== undefined && !WRITE_DISPOSITIONS.includes(wd as WriteDisposition)) {
      invalid(
        resourceName,
        `has writeDisposition ${JSON.stringify(wd)}; expected one of ${WRITE_DISPOSITIONS.join(", ")} or an object such as { disposition: "merge", strategy: "scd2" }.`,
      );
    }
  } else {
    const d = (wd as { disposition?: unknown }).disposition;
    if (!WRITE_DISPOSITIONS.includes(d as WriteDisposition)) {
      invalid(
        resourceName,
        `has writeDisposition.disposition ${JSON.stringify(d)}; expected one of ${WRITE_DISPOSITIONS.join(", ")}.`,
      );
    }
    if (d === "merge") {
      const merge = wd as MergeDispositionOptions;
      if (merge.strategy !== undefined && !MERGE_STRATEGIES.includes(merge.strategy)) {
        invalid(
          resourceName,
          `has writeDisposition.strategy ${JSON.stringify(merge.strategy)}; expected one of ${list(MERGE_STRATEGIES)}.`,
        );
      }
      const names = merge.validityColumnNames;
      if (
        names !== undefined &&
        (!Array.isArray(names) || names.length !== 2 || names.some((n) => typeof n !== "string" || n === ""))
      ) {
        invalid(resourceName, "has validityColumnNames that are not two column names [from, to].");
      }
      for (const key of ["activeRecordTimestamp", "boundaryTimestamp"] as const) {
        const value = merge[key];
        if (value !== undefined && !isTimestamp(value)) {
          invalid(resourceName, `has ${key} ${JSON.stringify(value)}, which is not a date or timestamp.`);
        }
      }
    } else if (d === "replace") {
      const strategy = (wd as ReplaceDispositionOptions).strategy;
      if (strategy !== undefined && !REPLACE_STRATEGIES.includes(strategy)) {
        invalid(
          resourceName,
          `has writeDisposition.strategy ${JSON.stringify(strategy)}; expected one of ${list(REPLACE_STRATEGIES)}.`,
        );
      }
    }
  }
  if (
    hints.tableName !== undefined &&
    typeof hints.tableName !== "function" &&
    (typeof hints.tableName !== "string" || hints.tableName.trim() === "")
  ) {
    invalid(resourceName, "has an empty tableName; give a table name or a function of the item.");
  }
  if (
    hints.maxTableNesting !== undefined &&
    (!Number.isInteger(hints.maxTableNesting) || hints.maxTableNesting < 0)
  ) {
    invalid(resourceName, `has maxTableNesting ${String(hints.maxTableNesting)}; expected an integer >= 0.`);
  }
  for (const key of ["primaryKey", "mergeKey"] as const) {
    const value = hints[key];
    if (value === undefined) continue;
    const keys = typeof value === "string" ? [value] : value;
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string" || k === "")) {
      invalid(resourceName, `has ${key} ${JSON.stringify(value)}; expected a column name or a list of them.`);
    }
  }
}

/** The plain write disposition of a hint. */
export function dispositionOf(hint: WriteDispositionHint | undefined): WriteDisposition {
  if (hint === undefined) return "append";
  return typeof hint === "string" ? hint : hint.disposition;
}

function keyList(key: string | readonly string[] | undefined): readonly string[] {
  if (key === undefined) return [];
  return typeof key === "string" ? [key] : key;
}

/** Normalizes a columns hint into named, normalized column schemas. */
export function columnsFromHint(
  hint: ColumnsHint | undefined,
  naming: NamingConvention,
): Record<string, ColumnSchema> {
  const out: Record<string, ColumnSchema> = {};
  if (!hint) return out;
  const entries = Array.isArray(hint)
    ? (hint as readonly (ColumnSchema & { name: string })[])
    : Object.entries(hint as Record<string, ColumnSchema>).map(([name, c]) => ({ ...c, name }));
  for (const column of entries) {
    const name = naming.normalizePath(column.name);
    out[name] = { ...column, name };
  }
  return out;
}

function setKey(
  columns: Record<string, ColumnSchema>,
  hint: "primary_key" | "merge_key",
  keys: readonly string[],
  naming: NamingConvention,
): void {
  const names = new Set(keys.map((k) => naming.normalizePath(k)));
  // direct keys replace key hints given in `columns`
  for (const column of Object.values(columns)) {
    if (column[hint] === true && !names.has(column.name as string)) delete column[hint];
  }
  for (const name of names) {
    const existing = columns[name];
    columns[name] = { name, ...existing, [hint]: true, nullable: existing?.nullable ?? false };
  }
}

/** What a resource contributes to the table `table`: the schema table built from its hints. */
export function tableSchemaFromHints(
  hints: ResourceHints,
  table: string,
  resourceName: string,
  naming: NamingConvention,
  incrementalColumn?: string,
): TableSchema {
  const columns = columnsFromHint(hints.columns, naming);
  if (hints.primaryKey !== undefined) setKey(columns, "primary_key", keyList(hints.primaryKey), naming);
  if (hints.mergeKey !== undefined) setKey(columns, "merge_key", keyList(hints.mergeKey), naming);
  const wd = hints.writeDisposition;
  const partial: TableSchema = {
    name: table,
    columns,
    write_disposition: dispositionOf(wd),
    resource: resourceName,
  };
  if (typeof wd === "object" && wd !== null) {
    if (wd.disposition === "merge") {
      if (wd.strategy !== undefined) partial["x-merge-strategy"] = wd.strategy;
      if (wd.deduplicated) partial["x-stage-data-deduplicated"] = true;
      if (wd.strategy === "scd2") {
        if (wd.boundaryTimestamp !== undefined) {
          partial["x-boundary-timestamp"] = timestampText(wd.boundaryTimestamp);
        }
        const [from, to] = (wd.validityColumnNames ?? DEFAULT_VALIDITY_COLUMN_NAMES).map((n) =>
          naming.normalizePath(n),
        ) as [string, string];
        columns[from] = {
          ...columns[from],
          name: from,
          data_type: "timestamp",
          nullable: true,
          "x-valid-from": true,
        };
        const toColumn: ColumnSchema = {
          ...columns[to],
          name: to,
          data_type: "timestamp",
          nullable: true,
          "x-valid-to": true,
        };
        if (wd.activeRecordTimestamp !== undefined) {
          toColumn["x-active-record-timestamp"] = timestampText(wd.activeRecordTimestamp);
        }
        columns[to] = toColumn;
        const version = naming.normalizePath(wd.rowVersionColumnName ?? "_dlt_id");
        columns[version] = {
          ...columns[version],
          name: version,
          nullable: false,
          "x-row-version": true,
          unique: false,
          row_key: false,
        };
      }
    } else if (wd.disposition === "replace" && wd.strategy !== undefined) {
      partial["x-replace-strategy"] = wd.strategy;
    }
  }
  if (hints.schemaContract !== undefined) partial.schema_contract = hints.schemaContract;
  if (hints.maxTableNesting !== undefined) partial["x-normalizer"] = { max_nesting: hints.maxTableNesting };
  if (hints.fileFormat !== undefined) partial.file_format = hints.fileFormat;
  if (hints.tableFormat !== undefined) partial.table_format = hints.tableFormat;
  if (incrementalColumn !== undefined) {
    const name = naming.normalizePath(incrementalColumn);
    columns[name] = { name, ...columns[name], incremental: true };
  }
  return partial;
}

function timestampText(value: string | Date): string {
  return value instanceof Date ? value.toISOString() : value;
}

/** Canonical JSON (sorted keys) used to compare the hints two resources give one table. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "undefined";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`)
    .join(",")}}`;
}

/**
 * The first difference between the table hints two resources give one table, as
 * `[what, first, second]`, or undefined when they agree. Compares table-level hints and the key
 * columns; other column hints are merged.
 */
export function hintConflict(a: TableSchema, b: TableSchema): [string, string, string] | undefined {
  const ignored = new Set(["name", "resource", "columns"]);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !ignored.has(k)));
  for (const key of [...keys].sort()) {
    const va = canonical((a as unknown as Record<string, unknown>)[key]);
    const vb = canonical((b as unknown as Record<string, unknown>)[key]);
    if (va !== vb) return [`\`${key}\``, va, vb];
  }
  for (const hint of ["primary_key", "merge_key"] as const) {
    const ka = Object.values(a.columns)
      .filter((c) => c[hint] === true)
      .map((c) => c.name)
      .sort();
    const kb = Object.values(b.columns)
      .filter((c) => c[hint] === true)
      .map((c) => c.name)
      .sort();
    if (canonical(ka) !== canonical(kb)) return [`${hint} columns`, canonical(ka), canonical(kb)];
  }
  return undefined;
}
