/**
 * Schema contracts (REFERENCE §3.5): which schema changes data may make, per entity (`tables`,
 * `columns`, `data_type`) and mode (`evolve`, `freeze`, `discard_row`, `discard_value`).
 *
 * Resolution follows dlt: the first table in the chain from a table up to its root that has a
 * `schema_contract` hint wins entirely (nested tables inherit their root's); otherwise the schema's
 * `settings.schema_contract`; entities left out are `evolve`. `pipeline.run(..., { schemaContract })`
 * reaches normalize as such a table hint plus the settings, written by extract. Extract (new root
 * tables) and normalize (data) apply the resolved contract.
 */
import { SchemaError } from "../errors.js";
import type { Schema } from "./schema.js";
import { isDltName } from "./system-tables.js";
import type { ColumnSchema, SchemaContract, SchemaContractMode, TableSchema } from "./types.js";

/** The entities a contract governs. */
export const CONTRACT_ENTITIES: readonly ["tables", "columns", "data_type"] = [
  "tables",
  "columns",
  "data_type",
];
/** An entity a contract governs. */
export type ContractEntity = (typeof CONTRACT_ENTITIES)[number];

/** A contract with a mode for every entity. */
export type ResolvedContract = Readonly<Record<ContractEntity, SchemaContractMode>>;

const MODES: readonly SchemaContractMode[] = ["evolve", "freeze", "discard_row", "discard_value"];

/** The default contract: everything evolves. */
export const EVOLVE_ALL: ResolvedContract = Object.freeze({
  tables: "evolve",
  columns: "evolve",
  data_type: "evolve",
});

function checkMode(mode: unknown, where: string): SchemaContractMode {
  if (!MODES.includes(mode as SchemaContractMode)) {
    throw new SchemaError(
      `Schema contract ${where} has mode ${JSON.stringify(mode)}; expected one of ${MODES.map((m) => `\`${m}\``).join(", ")}.`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  return mode as SchemaContractMode;
}

/** Expands a contract (a mode for all entities, or some entities) into a mode per entity. */
export function expandContract(contract: SchemaContract | undefined, where = ""): ResolvedContract {
  if (contract === undefined || contract === null) return EVOLVE_ALL;
  if (typeof contract === "string") {
    const mode = checkMode(contract, where);
    return mode === "evolve" ? EVOLVE_ALL : { tables: mode, columns: mode, data_type: mode };
  }
  const out: Record<ContractEntity, SchemaContractMode> = { ...EVOLVE_ALL };
  for (const [entity, mode] of Object.entries(contract)) {
    if (!(CONTRACT_ENTITIES as readonly string[]).includes(entity)) {
      throw new SchemaError(
        `Schema contract ${where} has unknown entity \`${entity}\`; expected ${CONTRACT_ENTITIES.map((e) => `\`${e}\``).join(", ")}.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    if (mode !== undefined) out[entity as ContractEntity] = checkMode(mode, `${where} for \`${entity}\``);
  }
  return out.tables === "evolve" && out.columns === "evolve" && out.data_type === "evolve" ? EVOLVE_ALL : out;
}

/**
 * The contract of table `name` (or, for a table not yet in the schema, of its parent `parentName`):
 * the nearest `schema_contract` hint up the table chain, else `settings.schema_contract`. dlt's own
 * tables always evolve.
 */
export function resolveContract(
  schema: Schema,
  name: string,
  parentName: string | undefined,
  candidate?: TableSchema,
): ResolvedContract {
  if (isDltName(name)) return EVOLVE_ALL;
  // a candidate table (hints computed at extract) stands in for the stored one, as in dlt
  if (candidate?.schema_contract !== undefined) {
    return expandContract(candidate.schema_contract, `of table \`${name}\``);
  }
  let table =
    candidate !== undefined
      ? candidate.parent === undefined
        ? undefined
        : schema.tables[candidate.parent]
      : (schema.tables[name] ?? (parentName === undefined ? undefined : schema.tables[parentName]));
  const seen = new Set<string>();
  while (table !== undefined && !seen.has(table.name)) {
    seen.add(table.name);
    if (table.schema_contract !== undefined) {
      return expandContract(table.schema_contract, `of table \`${table.name}\``);
    }
    if (table.parent === undefined) break;
    table = schema.tables[table.parent];
  }
  return expandContract(schema.settings.schema_contract, `of schema \`${schema.name}\``);
}

/** A change a contract rejected: what was rejected and what to do with the data. */
export interface ContractFilter {
  readonly entity: ContractEntity;
  /** The column (undefined when the whole table was rejected). */
  readonly column: string | undefined;
  readonly mode: SchemaContractMode;
}

/** What {@link applySchemaContract} decided for a partial table. */
export type ContractVerdict =
  /** The partial table (possibly without rejected columns) may be merged into the schema. */
  | { readonly kind: "apply"; readonly table: TableSchema; readonly filters: readonly ContractFilter[] }
  /** The table is new and its contract discards it: drop it and all data for it. */
  | { readonly kind: "discard-table"; readonly mode: SchemaContractMode }
  /** A `freeze` mode was violated. `existing` is the column a data type change was asked for. */
  | {
      readonly kind: "freeze";
      readonly entity: ContractEntity;
      readonly column: string | undefined;
      readonly existing: ColumnSchema | undefined;
    };

/** Column properties whose change is a `data_type` change (dlt's `TColumnType`). */
const TYPE_PROPS = ["data_type", "nullable", "precision", "scale", "timezone"] as const;

/**
 * True when table `name` is new for schema contracts: not in the schema, or without a complete
 * column (dlt's `Schema.is_new_table`).
 */
export function isNewTable(schema: Schema, name: string): boolean {
  const table = schema.tables[name];
  return table === undefined || !Object.values(table.columns).some((c) => c.data_type !== undefined);
}

/**
 * Checks whether `contract` lets the partial table `partial` (new columns and changed column
 * properties, names already normalized) change the schema, as dlt's `apply_schema_contract` does:
 * a new table needs `tables: evolve`; new columns need `columns: evolve` (always allowed on a new
 * table or one flagged `x-normalizer.evolve-columns-once`); variant columns and changes of a type
 * property of an existing complete column need `data_type: evolve`. Columns starting with `_dlt`
 * are always allowed. `partial` is not modified; rejected columns are left out of the returned table.
 */
export function applySchemaContract(
  schema: Schema,
  contract: ResolvedContract,
  partial: TableSchema,
): ContractVerdict {
  if (contract === EVOLVE_ALL) return { kind: "apply", table: partial, filters: [] };
  const existing = schema.tables[partial.name];
  const isNew = existing === undefined || isNewTable(schema, partial.name);
  if (isNew && contract.tables !== "evolve") {
    if (contract.tables === "freeze") {
      return { kind: "freeze", entity: "tables", column: undefined, existing: undefined };
    }
    return { kind: "discard-table", mode: contract.tables };
  }
  const columnMode =
    isNew || existing?.["x-normalizer"]?.["evolve-columns-once"] === true ? "evolve" : contract.columns;
  const dataMode = contract.data_type;
  const filters: ContractFilter[] = [];
  let columns: Record<string, ColumnSchema> | undefined;
  for (const [name, column] of Object.entries(partial.columns)) {
    if (isDltName(name)) continue;
    const isVariant = column.variant === true;
    const stored = existing?.columns[name];
    const isNewColumn = stored === undefined || stored.data_type === undefined;
    let reject: ContractFilter | undefined;
    if (columnMode !== "evolve" && !isVariant && isNewColumn) {
      if (columnMode === "freeze")
        return { kind: "freeze", entity: "columns", column: name, existing: undefined };
      reject = { entity: "columns", column: name, mode: columnMode };
    }
    const typeChange =
      !isNewColumn &&
      !isVariant &&
      stored !== undefined &&
      TYPE_PROPS.some((prop) => prop in column && column[prop] !== stored[prop]);
    if (reject === undefined && dataMode !== "evolve" && (isVariant || typeChange)) {
      if (dataMode === "freeze")
        return { kind: "freeze", entity: "data_type", column: name, existing: stored };
      reject = { entity: "data_type", column: name, mode: dataMode };
    }
    if (reject !== undefined) {
      filters.push(reject);
      columns ??= { ...partial.columns };
      delete columns[name];
    }
  }
  return { kind: "apply", table: columns === undefined ? partial : { ...partial, columns }, filters };
}
