/**
 * The tables and rows the conformance suite loads: one table with a column of every data type, a
 * plain append table, a replace chain, one merge chain per merge strategy, and the pipeline state
 * table — each with the hints normalize would give them (REFERENCE §2.5, §4).
 */
import { DATA_TYPES, type DataType } from "../data-types.js";
import { pipelineStateTable } from "../schema/system-tables.js";
import type { ColumnSchema, TableSchema } from "../schema/types.js";
import type { Row } from "./jsonl.js";

/** Builds a table: columns get their `name` from their key. */
export function conformanceTable(
  name: string,
  columns: Readonly<Record<string, Omit<ColumnSchema, "name">>>,
  props: Omit<TableSchema, "name" | "columns"> = {},
): TableSchema {
  const named: Record<string, ColumnSchema> = {};
  for (const [key, column] of Object.entries(columns)) named[key] = { name: key, ...column };
  return { name, columns: named, ...props };
}

const LOAD_ID_COLUMN = { data_type: "text", nullable: false } as const;
const ROW_KEY_COLUMN = { data_type: "text", nullable: false, unique: true, row_key: true } as const;

/** `_dlt_load_id` and `_dlt_id` as normalize adds them to a root table. */
export const ROOT_SYSTEM_COLUMNS: Readonly<Record<string, Omit<ColumnSchema, "name">>> = Object.freeze({
  _dlt_load_id: LOAD_ID_COLUMN,
  _dlt_id: ROW_KEY_COLUMN,
});

/** The linking columns of a nested table of a merge (or replace) root: root key, parent key, list index, row key. */
export const NESTED_SYSTEM_COLUMNS: Readonly<Record<string, Omit<ColumnSchema, "name">>> = Object.freeze({
  _dlt_root_id: { data_type: "text", nullable: false, root_key: true },
  _dlt_parent_id: { data_type: "text", nullable: false, parent_key: true },
  _dlt_list_idx: { data_type: "bigint", nullable: false },
  _dlt_id: ROW_KEY_COLUMN,
});

/** Name of the table with a column of every data type. */
export const TYPES_TABLE = "all_types";

/** The column of `dataType` in {@link TYPES_TABLE}. */
export function typeColumn(dataType: DataType): string {
  return `c_${dataType}`;
}

/** {@link TYPES_TABLE}: `id` plus one `c_<type>` column per data type not in `skip`. */
export function typesTable(skip: readonly DataType[] = []): TableSchema {
  const columns: Record<string, Omit<ColumnSchema, "name">> = {
    id: { data_type: "bigint", nullable: false },
  };
  for (const dataType of DATA_TYPES) {
    if (!skip.includes(dataType)) columns[typeColumn(dataType)] = { data_type: dataType, nullable: true };
  }
  return conformanceTable(
    TYPES_TABLE,
    { ...columns, ...ROOT_SYSTEM_COLUMNS },
    { write_disposition: "append" },
  );
}

/** One value of every data type as it appears in a normalized job file. */
export const TYPE_VALUES: Readonly<Record<DataType, unknown>> = Object.freeze({
  text: 'Alice "A" O\'Hara \\n\n\t ü 😀',
  double: 1.25,
  bool: true,
  // an offset and a millisecond fraction: stored as 2024-05-01T10:00:00.123Z
  timestamp: "2024-05-01T12:00:00.123+02:00",
  // beyond 2^53: written as bare digits, must not be rounded
  bigint: 9007199254740993n,
  binary: Buffer.from("hello\u0000\u00ff").toString("base64"),
  json: { tags: ["a", "b"], n: 1, nested: { x: null, ok: true } },
  decimal: "12.345",
  wei: "123456789012345678901234567890",
  date: "1990-01-31",
  time: "07:30:00.5",
});

/** Other values: negative, zero, empty, false. */
export const OTHER_TYPE_VALUES: Readonly<Record<DataType, unknown>> = Object.freeze({
  text: "",
  double: -0.5,
  bool: false,
  timestamp: "1970-01-01T00:00:00Z",
  bigint: -42,
  binary: "",
  json: [1, "two", { three: 3 }],
  decimal: "-0.001",
  wei: "0",
  date: "2024-02-29",
  time: "23:59:59",
});

/** Rows of {@link TYPES_TABLE}: every value, other values, and a row with only `id` (every column null). */
export function typesRows(skip: readonly DataType[] = []): Row[] {
  const row = (id: number, values: Readonly<Record<DataType, unknown>>): Row => {
    const out: Row = { id };
    for (const dataType of DATA_TYPES)
      if (!skip.includes(dataType)) out[typeColumn(dataType)] = values[dataType];
    return out;
  };
  return [row(1, TYPE_VALUES), row(2, OTHER_TYPE_VALUES), { id: 3 }];
}

/** A plain append table: `id`, `name`. */
export function eventsTable(name = "events"): TableSchema {
  return conformanceTable(
    name,
    { id: { data_type: "bigint", nullable: false }, name: { data_type: "text" }, ...ROOT_SYSTEM_COLUMNS },
    { write_disposition: "append" },
  );
}

/** A root table of `disposition` (`id` primary key, `name`) with one nested table `<name>__tags` (`value`). */
export function chainTables(
  name: string,
  root: Omit<TableSchema, "name" | "columns">,
  extraColumns: Readonly<Record<string, Omit<ColumnSchema, "name">>> = {},
): [TableSchema, TableSchema] {
  return [
    conformanceTable(
      name,
      {
        id: { data_type: "bigint", nullable: false, primary_key: true },
        name: { data_type: "text" },
        ...extraColumns,
        ...ROOT_SYSTEM_COLUMNS,
      },
      root,
    ),
    conformanceTable(
      `${name}__tags`,
      { value: { data_type: "text" }, ...NESTED_SYSTEM_COLUMNS },
      { parent: name },
    ),
  ];
}

/** An scd2 root table: `id`, `name`, validity columns, `_dlt_id` as the row version (the row hash). */
export function scd2Table(name: string): TableSchema {
  return conformanceTable(
    name,
    {
      id: { data_type: "bigint", nullable: false },
      name: { data_type: "text" },
      _dlt_load_id: LOAD_ID_COLUMN,
      _dlt_id: { data_type: "text", nullable: false, unique: false, row_key: false, "x-row-version": true },
      _dlt_valid_from: { data_type: "timestamp", nullable: true, "x-valid-from": true },
      _dlt_valid_to: { data_type: "timestamp", nullable: true, "x-valid-to": true },
    },
    { write_disposition: "merge", "x-merge-strategy": "scd2" },
  );
}

/** `_dlt_pipeline_state` as the pipeline loads it (with the `_dlt_id` normalize adds). */
export function stateTable(): TableSchema {
  const table = pipelineStateTable();
  return { ...table, columns: { ...table.columns, _dlt_id: { name: "_dlt_id", ...ROW_KEY_COLUMN } } };
}
