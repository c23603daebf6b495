/**
 * Schema contracts at extract (REFERENCE §3.5), as dlt's extractor applies them: when the first
 * items reach a table, the table computed from the resource's hints is checked against its
 * contract before it is merged into the schema. A new table that the contract discards is not added
 * to the schema and its items are not written (so a package may end up with no data at all); a
 * `freeze` violation fails the extract; hinted columns the contract rejects are left out of the
 * schema (normalize then applies the contract to their data). Tables whose contract evolves
 * everything are not affected.
 */
import {
  applySchemaContract,
  EVOLVE_ALL,
  ExtractError,
  isNewTable,
  resolveContract,
  type Schema,
  type TableSchema,
} from "@tsdlt/core";

/** What the extract does with a table after its contract was checked. */
export type TableVerdict =
  /** Merge this table (possibly with columns left out) into the schema and write its items. */
  | { readonly kind: "write"; readonly table: TableSchema }
  /** The contract discarded the new table: do not add it and drop its items. */
  | { readonly kind: "discard" }
  /** No items yet and the contract may reject the table: decide when items arrive. */
  | { readonly kind: "defer" };

/**
 * Applies the contract of each table once per extract. Tables it discarded stay discarded for the
 * rest of the extract.
 */
export class ExtractContracts {
  readonly #schema: Schema;
  readonly #discarded = new Set<string>();

  constructor(schema: Schema) {
    this.#schema = schema;
  }

  /** True when the contract discarded `table` in this extract. */
  isDiscarded(table: string): boolean {
    return this.#discarded.has(table);
  }

  /**
   * Checks the hint-derived table `hint` against its contract. `withItems` is false when the table is
   * declared before any item arrived: a contract that does not let everything evolve is then left
   * for the first items, as dlt computes tables only from items. Throws an {@link ExtractError}
   * (`SCHEMA_CONTRACT_VIOLATION`) on a `freeze` violation.
   */
  check(hint: TableSchema, resourceName: string, withItems: boolean): TableVerdict {
    const schema = this.#schema;
    const contract = resolveContract(schema, hint.name, hint.parent, hint);
    if (contract === EVOLVE_ALL) return { kind: "write", table: hint };
    if (!withItems) return { kind: "defer" };
    let table = hint;
    // a new table whose columns may not evolve still takes all columns of its first package
    if (contract.columns !== "evolve" && isNewTable(schema, hint.name)) {
      table = { ...hint, "x-normalizer": { ...hint["x-normalizer"], "evolve-columns-once": true } };
    }
    const verdict = applySchemaContract(schema, contract, table);
    switch (verdict.kind) {
      case "apply":
        return { kind: "write", table: verdict.table };
      case "discard-table":
        this.#discarded.add(hint.name);
        return { kind: "discard" };
      case "freeze":
        throw freezeError(hint.name, verdict.entity, verdict.column, resourceName);
    }
  }
}

function freezeError(
  table: string,
  entity: "tables" | "columns" | "data_type",
  column: string | undefined,
  resourceName: string,
): ExtractError {
  const fix =
    "Relax the contract with `schemaContract` (`evolve`, or `discard_value` / `discard_row` to drop such data), or change the hints.";
  const what =
    entity === "tables"
      ? `Can't add table \`${table}\`: the schema contract has mode \`freeze\` for \`tables\`, and resource \`${resourceName}\` yielded items for this new table.`
      : entity === "columns"
        ? `Can't add column \`${column}\` to table \`${table}\`: the schema contract has mode \`freeze\` for \`columns\`, and the hints of resource \`${resourceName}\` declare this new column.`
        : `Can't change the data type of column \`${column}\` in table \`${table}\`: the schema contract has mode \`freeze\` for \`data_type\`, and the hints of resource \`${resourceName}\` declare another type for it.`;
  return new ExtractError(`${what} ${fix}`, {
    code: "SCHEMA_CONTRACT_VIOLATION",
    table,
    ...(column === undefined ? {} : { column }),
  });
}
