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
import type { SchemaContract, SchemaContractMode } from "./types.js";

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
): ResolvedContract {
  if (isDltName(name)) return EVOLVE_ALL;
  let table = schema.tables[name] ?? (parentName === undefined ? undefined : schema.tables[parentName]);
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
