/** The dlt system tables every schema and destination carries (REFERENCE §3.3). */
import type { TableSchema } from "./types.js";

export const VERSION_TABLE_NAME = "_dlt_version";
export const LOADS_TABLE_NAME = "_dlt_loads";
export const PIPELINE_STATE_TABLE_NAME = "_dlt_pipeline_state";
/** Prefix of every dlt system table and column. */
export const DLT_PREFIX = "_dlt";

export const C_DLT_ID = "_dlt_id";
export const C_DLT_LOAD_ID = "_dlt_load_id";
export const C_DLT_PARENT_ID = "_dlt_parent_id";
export const C_DLT_LIST_IDX = "_dlt_list_idx";
export const C_DLT_ROOT_ID = "_dlt_root_id";

/** `_dlt_version`: one row per stored schema version. */
export function versionTable(): TableSchema {
  return {
    name: VERSION_TABLE_NAME,
    columns: {
      version: { name: "version", data_type: "bigint", nullable: false },
      engine_version: { name: "engine_version", data_type: "bigint", nullable: false },
      inserted_at: { name: "inserted_at", data_type: "timestamp", nullable: false },
      schema_name: { name: "schema_name", data_type: "text", nullable: false },
      version_hash: { name: "version_hash", data_type: "text", nullable: false },
      schema: { name: "schema", data_type: "text", nullable: false },
    },
    write_disposition: "skip",
    resource: VERSION_TABLE_NAME,
    description: "Created by DLT. Tracks schema updates",
  };
}

/** `_dlt_loads`: one row per completed load package (`status` 0). */
export function loadsTable(): TableSchema {
  return {
    name: LOADS_TABLE_NAME,
    columns: {
      load_id: { name: "load_id", data_type: "text", nullable: false, precision: 64 },
      schema_name: { name: "schema_name", data_type: "text", nullable: true },
      status: { name: "status", data_type: "bigint", nullable: false },
      inserted_at: { name: "inserted_at", data_type: "timestamp", nullable: false },
      schema_version_hash: { name: "schema_version_hash", data_type: "text", nullable: true },
    },
    write_disposition: "skip",
    resource: LOADS_TABLE_NAME,
    description: "Created by DLT. Tracks completed loads",
  };
}

/** `_dlt_pipeline_state`: compressed pipeline state, appended whenever the state changes. */
export function pipelineStateTable(): TableSchema {
  return {
    name: PIPELINE_STATE_TABLE_NAME,
    columns: {
      version: { name: "version", data_type: "bigint", nullable: false },
      engine_version: { name: "engine_version", data_type: "bigint", nullable: false },
      pipeline_name: { name: "pipeline_name", data_type: "text", nullable: false },
      state: { name: "state", data_type: "text", nullable: false },
      created_at: { name: "created_at", data_type: "timestamp", nullable: false },
      version_hash: { name: "version_hash", data_type: "text", nullable: true },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
    },
    write_disposition: "append",
    resource: PIPELINE_STATE_TABLE_NAME,
    file_format: "preferred",
    description: "Created by DLT. Tracks pipeline state",
  };
}

/** True for names of dlt system tables or columns (`_dlt` prefix). */
export function isDltName(name: string): boolean {
  return name.startsWith(DLT_PREFIX);
}
