/**
 * The schema model: tables, columns, settings and normalizer config, with dlt's versioning and its
 * YAML/JSON forms. A `Schema` is a mutable document owned by one pipeline step at a time.
 */
import { createHash } from "node:crypto";
import { stringify as toYaml, parse as yamlParse } from "yaml";
import { isDataType, type WriteDisposition } from "../data-types.js";
import { SchemaError } from "../errors.js";
import { defaultNamingConventionName } from "../naming/naming-conventions.js";
import { snakeCase } from "../naming/snake-case.js";
import { isDltName, loadsTable, versionTable } from "./system-tables.js";
import {
  type ColumnSchema,
  type CompleteColumnSchema,
  type NormalizersConfig,
  SCHEMA_ENGINE_VERSION,
  type SchemaSettings,
  type StoredSchema,
  type TableSchema,
} from "./types.js";

/** Longest schema name allowed (dlt's `InvalidSchemaName` limit). */
export const MAX_SCHEMA_NAME_LENGTH = 64;
/** How many previous version hashes a schema keeps. */
const MAX_PREVIOUS_HASHES = 10;
/** The json normalizer module name dlt writes into schemas. */
export const RELATIONAL_NORMALIZER = "dlt.common.normalizers.json.relational";
/** dlt's json normalizer that never coerces a value into a column of another type (always a variant). */
export const RELATIONAL_NO_COERCION_NORMALIZER = "dlt.common.normalizers.json.relational_no_coercion";
/** The json normalizer modules tsdlt implements. */
export const JSON_NORMALIZERS: readonly string[] = [RELATIONAL_NORMALIZER, RELATIONAL_NO_COERCION_NORMALIZER];

/**
 * The full module name of a json normalizer, as dlt stores it: a short name without dots
 * (`relational_no_coercion`) names a module of `dlt.common.normalizers.json`.
 */
export function jsonNormalizerModule(name: string): string {
  return name.includes(".") ? name : `dlt.common.normalizers.json.${name}`;
}

/** Default hints every schema carries (REFERENCE §2.5). */
export function defaultHints(): Record<string, string[]> {
  return {
    not_null: ["_dlt_id", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_load_id"],
    parent_key: ["_dlt_parent_id"],
    root_key: ["_dlt_root_id"],
    unique: ["_dlt_id"],
    row_key: ["_dlt_id"],
  };
}

/** Options of {@link Schema}. */
export interface SchemaOptions {
  /**
   * Naming convention name written to `normalizers.names`.
   * @default env `SCHEMA__NAMING`, else env `DLT_DEFAULT_NAMING_MODULE`, else "snake_case"
   */
  readonly naming?: string;
}

/** Normalizes a schema name with snake_case limited to 64 characters, as dlt does. */
export function normalizeSchemaName(name: string): string {
  return snakeCase({ maxLength: MAX_SCHEMA_NAME_LENGTH }).normalizeIdentifier(name);
}

/** True for a complete column (has a name and a data type). */
export function isCompleteColumn(column: ColumnSchema): column is CompleteColumnSchema {
  return typeof column.name === "string" && column.data_type !== undefined;
}

/**
 * A dlt schema. Construct a new one with `new Schema(name)`, read a stored one with
 * {@link Schema.fromDict}; write it with {@link Schema.toDict} or {@link Schema.toPrettyYaml}.
 */
export class Schema {
  readonly name: string;
  tables: Record<string, TableSchema>;
  settings: SchemaSettings;
  normalizers: NormalizersConfig;
  version: number;
  versionHash: string;
  previousHashes: string[];
  engineVersion: number;
  importedVersionHash: string | undefined;
  description: string | undefined;

  constructor(name: string, options: SchemaOptions = {}) {
    if (typeof name !== "string" || name.length === 0 || name.length > MAX_SCHEMA_NAME_LENGTH) {
      throw new SchemaError(
        `Schema name ${JSON.stringify(name)} is invalid: it must be a non-empty string of at most ${MAX_SCHEMA_NAME_LENGTH} characters.`,
        { code: "SCHEMA_INVALID" },
      );
    }
    this.name = name;
    this.tables = {
      [versionTable().name]: versionTable(),
      [loadsTable().name]: loadsTable(),
    };
    this.settings = { detections: ["iso_timestamp"], default_hints: defaultHints() };
    this.normalizers = {
      names: options.naming ?? defaultNamingConventionName(),
      json: { module: RELATIONAL_NORMALIZER },
    };
    this.version = 1;
    this.versionHash = "";
    this.previousHashes = [];
    this.engineVersion = SCHEMA_ENGINE_VERSION;
    this.importedVersionHash = undefined;
    this.description = undefined;
    this.versionHash = this.computeVersionHash();
  }

  /** Reads a stored schema document (the JSON of `schemas/<name>.schema.json` or a YAML export). */
  static fromDict(doc: unknown): Schema {
    if (typeof doc !== "object" || doc === null) {
      throw new SchemaError("A stored schema must be an object.", { code: "SCHEMA_INVALID" });
    }
    const stored = doc as Partial<StoredSchema>;
    if (typeof stored.name !== "string") {
      throw new SchemaError("A stored schema must have a `name`.", { code: "SCHEMA_INVALID" });
    }
    if (stored.engine_version !== undefined && stored.engine_version > SCHEMA_ENGINE_VERSION) {
      throw new SchemaError(
        `Schema \`${stored.name}\` has engine_version ${stored.engine_version}, newer than this tsdlt supports (${SCHEMA_ENGINE_VERSION}). Upgrade tsdlt.`,
        { code: "SCHEMA_INVALID" },
      );
    }
    const schema = new Schema(stored.name, { naming: stored.normalizers?.names ?? "snake_case" });
    if (stored.normalizers) schema.normalizers = structuredClone(stored.normalizers);
    if (stored.settings) schema.settings = structuredClone(stored.settings);
    const tables: Record<string, TableSchema> = {};
    for (const [tableName, table] of Object.entries(stored.tables ?? {})) {
      const columns: Record<string, ColumnSchema> = {};
      for (const [columnName, column] of Object.entries(table.columns ?? {})) {
        if (column.data_type !== undefined && !isDataType(column.data_type)) {
          throw new SchemaError(
            `Column \`${tableName}.${columnName}\` has unknown data_type ${JSON.stringify(column.data_type)}.`,
            { code: "SCHEMA_INVALID", table: tableName, column: columnName },
          );
        }
        columns[columnName] = { name: columnName, ...column };
      }
      tables[tableName] = { ...structuredClone(table), name: tableName, columns };
    }
    schema.tables = { ...schema.tables, ...tables };
    schema.version = stored.version ?? 1;
    schema.previousHashes = [...(stored.previous_hashes ?? [])];
    schema.importedVersionHash = stored.imported_version_hash;
    schema.description = stored.description;
    schema.versionHash = stored.version_hash ?? schema.computeVersionHash();
    return schema;
  }

  /** Parses a schema from YAML (a `.schema.yaml` export) or JSON text. */
  static fromText(text: string): Schema {
    return Schema.fromDict(yamlParse(text));
  }

  /** The table called `name`, or undefined. */
  getTable(name: string): TableSchema | undefined {
    return this.tables[name];
  }

  /** The columns of `name`; only complete ones unless `includeIncomplete`. */
  getTableColumns(name: string, includeIncomplete = false): Record<string, ColumnSchema> {
    const table = this.tables[name];
    if (!table) return {};
    if (includeIncomplete) return table.columns;
    const out: Record<string, ColumnSchema> = {};
    for (const [k, c] of Object.entries(table.columns)) if (isCompleteColumn(c)) out[k] = c;
    return out;
  }

  /** Tables holding user data (not dlt system tables). With `seenDataOnly`, only tables that received rows. */
  dataTables(seenDataOnly = false): TableSchema[] {
    return Object.values(this.tables).filter(
      (t) => !isDltName(t.name) && (!seenDataOnly || t["x-normalizer"]?.["seen-data"] === true),
    );
  }

  /** The dlt system tables. */
  dltTables(): TableSchema[] {
    return Object.values(this.tables).filter((t) => isDltName(t.name));
  }

  /** The root table of `name` (follows `parent`). */
  rootTable(name: string): TableSchema | undefined {
    let table = this.tables[name];
    const seen = new Set<string>();
    while (table?.parent !== undefined && !seen.has(table.name)) {
      seen.add(table.name);
      table = this.tables[table.parent];
    }
    return table;
  }

  /** The write disposition of a table, inherited from its root; default `append`. */
  writeDisposition(name: string): WriteDisposition {
    return this.rootTable(name)?.write_disposition ?? "append";
  }

  /** `root` followed by all its nested descendants, parents before children. */
  tableChain(root: string): TableSchema[] {
    const out: TableSchema[] = [];
    const visit = (name: string): void => {
      const table = this.tables[name];
      if (!table) return;
      out.push(table);
      for (const child of Object.values(this.tables)) if (child.parent === name) visit(child.name);
    };
    visit(root);
    return out;
  }

  /**
   * Merges a partial table into the schema: table properties are overwritten when given; columns are
   * merged by name, new ones appended in order; an incomplete column that becomes complete moves to
   * the end, as in dlt. Returns the merged table.
   */
  updateTable(partial: TableSchema): TableSchema {
    const existing = this.tables[partial.name];
    if (!existing) {
      const created: TableSchema = { ...partial, columns: { ...partial.columns } };
      this.tables[partial.name] = created;
      return created;
    }
    const { columns, ...props } = partial;
    Object.assign(existing, props);
    for (const [name, column] of Object.entries(columns)) {
      const previous = existing.columns[name];
      // as dlt: an incomplete column that becomes complete moves to the end (the data's order)
      if (previous !== undefined && previous.data_type === undefined && column.data_type !== undefined) {
        delete existing.columns[name];
      }
      existing.columns[name] = { ...previous, ...column };
    }
    return existing;
  }

  /** A deep copy of this schema. */
  clone(): Schema {
    return Schema.fromDict(this.toDict());
  }

  /** Recomputes the version hash; bumps `version` and records the previous hash when content changed. */
  bumpVersion(): { version: number; versionHash: string } {
    const hash = this.computeVersionHash();
    if (hash !== this.versionHash) {
      if (this.versionHash) {
        this.version += 1;
        this.previousHashes = [this.versionHash, ...this.previousHashes].slice(0, MAX_PREVIOUS_HASHES);
      }
      this.versionHash = hash;
    }
    return { version: this.version, versionHash: this.versionHash };
  }

  /** True when the content changed since the last {@link bumpVersion}. */
  isModified(): boolean {
    return this.computeVersionHash() !== this.versionHash;
  }

  /**
   * The stored form. With `removeDefaults` (exports), `name` keys inside tables/columns and `false`
   * hints are omitted, as dlt's `to_pretty_yaml` does.
   */
  toDict(options: { removeDefaults?: boolean } = {}): StoredSchema {
    const tables: Record<string, TableSchema> = {};
    for (const [tableName, table] of Object.entries(this.tables)) {
      const columns: Record<string, ColumnSchema> = {};
      for (const [columnName, column] of Object.entries(table.columns)) {
        columns[columnName] = options.removeDefaults ? removeColumnDefaults(column) : { ...column };
      }
      const copy = structuredClone({ ...table, columns });
      if (options.removeDefaults) delete (copy as Partial<TableSchema>).name;
      tables[tableName] = copy;
    }
    const doc: StoredSchema = {
      version: this.version,
      version_hash: this.versionHash,
      engine_version: this.engineVersion,
      name: this.name,
      tables,
      settings: structuredClone(this.settings),
      normalizers: structuredClone(this.normalizers),
      previous_hashes: [...this.previousHashes],
    };
    if (this.importedVersionHash !== undefined) doc.imported_version_hash = this.importedVersionHash;
    if (this.description !== undefined) doc.description = this.description;
    return doc;
  }

  /** The export form as YAML (defaults removed, keys in dlt's order). */
  toPrettyYaml(): string {
    return toYaml(this.toDict({ removeDefaults: true }), { lineWidth: 0 });
  }

  /** The stored form as indented JSON. */
  toPrettyJson(): string {
    return `${JSON.stringify(this.toDict(), null, 2)}\n`;
  }

  private computeVersionHash(): string {
    const doc = this.toDict() as Partial<StoredSchema>;
    delete doc.version;
    delete doc.version_hash;
    delete doc.imported_version_hash;
    delete doc.previous_hashes;
    const hash = createHash("sha3-256").update(canonicalJson(doc), "utf8");
    for (const tableName of Object.keys(this.tables).sort()) {
      hash.update(tableName, "utf8");
      for (const columnName of Object.keys(this.tables[tableName]?.columns ?? {}))
        hash.update(columnName, "utf8");
    }
    return hash.digest("base64");
  }
}

function removeColumnDefaults(column: ColumnSchema): ColumnSchema {
  const out: ColumnSchema = {};
  for (const [key, value] of Object.entries(column) as [keyof ColumnSchema, unknown][]) {
    if (key === "name" || value === undefined) continue;
    // `nullable: false` is not a default (nullable defaults to true): dropping it would lose NOT NULL.
    if (value === false && key !== "nullable") continue;
    if (key === "timezone" && value === true) continue;
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** JSON with sorted keys and Python's default separators, for stable hashing. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(", ")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${canonicalJson(v)}`).join(", ")}}`;
}
