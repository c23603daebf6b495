/**
 * The stored schema document (dlt engine version 11). Field names are dlt's snake_case: these objects
 * are written as-is to `schemas/<name>.schema.json` and `<name>.schema.yaml`.
 */
import type { DataType, WriteDisposition } from "../data-types.js";

/** dlt's schema engine version; stored schemas carry it as `engine_version`. */
export const SCHEMA_ENGINE_VERSION = 11;

/** A column of a table (dlt's `TColumnSchema`). A column is *complete* once it has a `data_type`. */
export interface ColumnSchema {
  name?: string;
  data_type?: DataType;
  nullable?: boolean;
  precision?: number;
  scale?: number;
  timezone?: boolean;
  variant?: boolean;
  partition?: boolean;
  cluster?: boolean;
  primary_key?: boolean;
  sort?: boolean;
  unique?: boolean;
  merge_key?: boolean;
  row_key?: boolean;
  parent_key?: boolean;
  root_key?: boolean;
  hard_delete?: boolean;
  dedup_sort?: "asc" | "desc";
  incremental?: boolean;
  description?: string;
  [extension: `x-${string}`]: unknown;
}

/** A complete column: named and typed. */
export interface CompleteColumnSchema extends ColumnSchema {
  name: string;
  data_type: DataType;
}

/** Schema contract modes per entity (REFERENCE §3.5). */
export type SchemaContractMode = "evolve" | "freeze" | "discard_row" | "discard_value";
/** A schema contract: one mode for all entities, or per entity. */
export type SchemaContract =
  | SchemaContractMode
  | { tables?: SchemaContractMode; columns?: SchemaContractMode; data_type?: SchemaContractMode };

/** A table of the schema (dlt's `TTableSchema`). */
export interface TableSchema {
  name: string;
  description?: string;
  columns: Record<string, ColumnSchema>;
  /** Root tables only; nested tables inherit from their root. Default `append`. */
  write_disposition?: WriteDisposition;
  /** Name of the parent table, for nested (child) tables. */
  parent?: string;
  /** Resource that produced the table (root tables). */
  resource?: string;
  schema_contract?: SchemaContract;
  table_sealed?: boolean;
  filters?: { excludes?: string[]; includes?: string[] };
  table_format?: string;
  file_format?: string;
  references?: unknown[];
  "x-normalizer"?: { "seen-data"?: boolean; max_nesting?: number; [key: string]: unknown };
  "x-merge-strategy"?: string;
  [extension: `x-${string}`]: unknown;
}

/** Schema settings. `default_hints` and `preferred_types` keys are SimpleRegex (`re:` prefix = regex). */
export interface SchemaSettings {
  schema_contract?: SchemaContract;
  detections?: string[];
  default_hints?: Record<string, string[]>;
  preferred_types?: Record<string, DataType>;
}

/** Normalizer configuration stored with the schema. */
export interface NormalizersConfig {
  names: string;
  json: { module: string; config?: Record<string, unknown> };
  allow_identifier_change_on_table_with_data?: boolean;
  use_break_path_on_normalize?: boolean;
}

/** The whole stored schema (dlt's `TStoredSchema`). */
export interface StoredSchema {
  version: number;
  version_hash: string;
  engine_version: number;
  name: string;
  tables: Record<string, TableSchema>;
  settings: SchemaSettings;
  normalizers: NormalizersConfig;
  previous_hashes: string[];
  imported_version_hash?: string;
  description?: string;
}
