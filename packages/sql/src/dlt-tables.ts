/**
 * SQL over dlt's system tables (REFERENCE §3.3, §6.5): writing `_dlt_version` and `_dlt_loads` rows,
 * and reading back the newest stored schema and pipeline state. Values travel as bound parameters,
 * never spliced into the SQL text.
 */
import { deflateSync, inflateSync } from "node:zlib";
import {
  LOADS_TABLE_NAME,
  loadsTable,
  PIPELINE_STATE_TABLE_NAME,
  pipelineStateTable,
  Schema,
  SchemaError,
  type TableSchema,
  VERSION_TABLE_NAME,
  versionTable,
} from "@tsdlt/core";
import { escapeColumnName, qualifiedTableName } from "./ddl.js";
import type { SqlDialect, SqlParam, SqlQuery } from "./sql-dialect.js";

/** Columns of `_dlt_version`, in table order (from core's table definition). */
export const VERSION_TABLE_COLUMNS: readonly string[] = Object.freeze(Object.keys(versionTable().columns));
/** Columns of `_dlt_loads`, in table order (from core's table definition). */
export const LOADS_TABLE_COLUMNS: readonly string[] = Object.freeze(Object.keys(loadsTable().columns));
/** Columns of `_dlt_pipeline_state` read back by {@link storedStateQuery} (from core's table definition). */
export const STATE_TABLE_COLUMNS: readonly string[] = Object.freeze(
  Object.keys(pipelineStateTable().columns),
);

/** `_dlt_version` or `_dlt_loads` as `schema` defines it, else core's definition. */
export function systemTableOf(
  schema: Schema,
  name: typeof VERSION_TABLE_NAME | typeof LOADS_TABLE_NAME,
): TableSchema {
  return schema.getTable(name) ?? (name === VERSION_TABLE_NAME ? versionTable() : loadsTable());
}

/**
 * The `_dlt_version.schema` value: the schema JSON, or base64(zlib level 9 of it) when its UTF-8 size
 * exceeds `maxTextLength` (dlt's `max_text_data_type_length` rule).
 */
export function encodeStoredSchema(schemaJson: string, maxTextLength: number): string {
  if (Buffer.byteLength(schemaJson, "utf8") <= maxTextLength) return schemaJson;
  return deflateSync(Buffer.from(schemaJson, "utf8"), { level: 9 }).toString("base64");
}

/** Reads a `_dlt_version.schema` value written by {@link encodeStoredSchema} (or Python dlt). */
export function decodeStoredSchema(stored: string): unknown {
  try {
    const trimmed = stored.trimStart();
    const json = trimmed.startsWith("{")
      ? trimmed
      : inflateSync(Buffer.from(stored, "base64")).toString("utf8");
    return JSON.parse(json) as unknown;
  } catch (cause) {
    throw new SchemaError(
      "[tsdlt] A schema stored in `_dlt_version` is neither JSON nor base64-zlib JSON and cannot be restored. Drop the row or the dataset to start over.",
      { code: "SCHEMA_CORRUPTED", table: VERSION_TABLE_NAME, cause },
    );
  }
}

function insertQuery(
  dialect: SqlDialect,
  datasetName: string,
  tableName: string,
  columns: readonly string[],
  params: readonly SqlParam[],
): SqlQuery {
  const names = columns.map((c) => escapeColumnName(dialect, c)).join(", ");
  const placeholders = columns.map((_c, i) => dialect.placeholder(i + 1)).join(", ");
  return {
    sql: `INSERT INTO ${qualifiedTableName(dialect, datasetName, tableName)} (${names}) VALUES (${placeholders})`,
    params,
  };
}

/** Inserts the `_dlt_version` row recording `schema` at its current version and hash. */
export function insertVersionQuery(
  dialect: SqlDialect,
  datasetName: string,
  schema: Schema,
  insertedAt: Date = new Date(),
): SqlQuery {
  const stored = encodeStoredSchema(
    JSON.stringify(schema.toDict()),
    dialect.capabilities.maxTextDataTypeLength,
  );
  return insertQuery(dialect, datasetName, VERSION_TABLE_NAME, VERSION_TABLE_COLUMNS, [
    schema.version,
    schema.engineVersion,
    insertedAt,
    schema.name,
    schema.versionHash,
    stored,
  ]);
}

/** The values of a `_dlt_loads` row. */
export interface LoadRow {
  readonly loadId: string;
  readonly schemaName: string;
  readonly schemaVersionHash: string;
  /** @default 0 (completed) */
  readonly status?: number;
  /** @default now */
  readonly insertedAt?: Date;
}

/** Inserts the `_dlt_loads` row that marks a package complete. */
export function insertLoadQuery(dialect: SqlDialect, datasetName: string, row: LoadRow): SqlQuery {
  return insertQuery(dialect, datasetName, LOADS_TABLE_NAME, LOADS_TABLE_COLUMNS, [
    row.loadId,
    row.schemaName,
    row.status ?? 0,
    row.insertedAt ?? new Date(),
    row.schemaVersionHash,
  ]);
}

/** One row when `_dlt_version` holds a schema with `versionHash` (no schema text transferred). */
export function schemaVersionExistsQuery(
  dialect: SqlDialect,
  datasetName: string,
  versionHash: string,
): SqlQuery {
  const col = (c: string): string => escapeColumnName(dialect, c);
  return {
    sql: `SELECT 1 AS found FROM ${qualifiedTableName(dialect, datasetName, VERSION_TABLE_NAME)} WHERE ${col("version_hash")} = ${dialect.placeholder(1)} LIMIT 1`,
    params: [versionHash],
  };
}

/** Deletes every stored version of `schemaName` from `_dlt_version` (dlt's `_delete_schema_in_storage`). */
export function deleteSchemaVersionsQuery(
  dialect: SqlDialect,
  datasetName: string,
  schemaName: string,
): SqlQuery {
  return {
    sql: `DELETE FROM ${qualifiedTableName(dialect, datasetName, VERSION_TABLE_NAME)} WHERE ${escapeColumnName(dialect, "schema_name")} = ${dialect.placeholder(1)}`,
    params: [schemaName],
  };
}

/**
 * The newest `_dlt_version` row (by `inserted_at`) of a schema name or a version hash. Rows have the
 * columns `version_hash, schema_name, version, engine_version, inserted_at, schema`.
 */
export function storedSchemaQuery(
  dialect: SqlDialect,
  datasetName: string,
  by: { readonly schemaName: string } | { readonly versionHash: string },
): SqlQuery {
  const col = (c: string): string => escapeColumnName(dialect, c);
  const [filter, value] =
    "schemaName" in by ? ["schema_name", by.schemaName] : ["version_hash", by.versionHash];
  const columns = ["version_hash", "schema_name", "version", "engine_version", "inserted_at", "schema"];
  return {
    sql:
      `SELECT ${columns.map(col).join(", ")} FROM ${qualifiedTableName(dialect, datasetName, VERSION_TABLE_NAME)}` +
      ` WHERE ${col(filter)} = ${dialect.placeholder(1)} ORDER BY ${col("inserted_at")} DESC LIMIT 1`,
    params: [value],
  };
}

/** The schema held by a row of {@link storedSchemaQuery}. */
export function schemaFromStoredRow(row: Readonly<Record<string, unknown>>): Schema {
  if (typeof row.schema !== "string") {
    throw new SchemaError("[tsdlt] A `_dlt_version` row has no `schema` text and cannot be restored.", {
      code: "SCHEMA_CORRUPTED",
      table: VERSION_TABLE_NAME,
    });
  }
  return Schema.fromDict(decodeStoredSchema(row.schema));
}

/**
 * The newest state of a pipeline from a completed load (REFERENCE §6.5): `_dlt_pipeline_state` joined
 * with `_dlt_loads` on the load id, `status = 0`, newest load id first. Rows have the columns
 * {@link STATE_TABLE_COLUMNS}.
 */
export function storedStateQuery(dialect: SqlDialect, datasetName: string, pipelineName: string): SqlQuery {
  const col = (c: string): string => escapeColumnName(dialect, c);
  const stateTable = qualifiedTableName(dialect, datasetName, PIPELINE_STATE_TABLE_NAME);
  const loadsTable = qualifiedTableName(dialect, datasetName, LOADS_TABLE_NAME);
  return {
    sql:
      `SELECT ${STATE_TABLE_COLUMNS.map((c) => `s.${col(c)}`).join(", ")}` +
      ` FROM ${stateTable} AS s JOIN ${loadsTable} AS l ON l.${col("load_id")} = s.${col("_dlt_load_id")}` +
      ` WHERE s.${col("pipeline_name")} = ${dialect.placeholder(1)} AND l.${col("status")} = 0` +
      ` ORDER BY l.${col("load_id")} DESC LIMIT 1`,
    params: [pipelineName],
  };
}
