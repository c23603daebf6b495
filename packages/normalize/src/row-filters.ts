/**
 * Row filters (REFERENCE §2.11): the table property `filters: { excludes: [...], includes: [...] }`
 * of a schema, as dlt applies it while normalizing. Patterns are SimpleRegex (an exact name, or
 * `re:` + a regular expression searched in the name). A field of a normalized row (flattened column
 * names, `_dlt_*` columns included) is removed when an `excludes` pattern of the row's table matches
 * it and no `includes` pattern of that table does. The rules of every table up the row's table path
 * apply as well, matched against the path below that table: for a row of `orders__items`, the rules
 * of `orders` see its field `sku` as `items__sku`. A row left without fields is dropped together with
 * its nested rows. The table path is the table name split on the naming convention's separator, so
 * the tables up the path need not exist.
 */
import type { NamingConvention, Schema } from "@tsdlt/core";
import { compileSimpleRegex, type NameMatcher } from "./type-inference.js";

/** The rules of one table, seen from a table below it: `prefix` is the path between them. */
interface FilterLevel {
  readonly prefix: string;
  readonly excludes: readonly NameMatcher[];
  readonly includes: readonly NameMatcher[];
}

/** Decides which fields the rows of one table lose. */
export class TableRowFilter {
  readonly #levels: readonly FilterLevel[];

  constructor(levels: readonly FilterLevel[]) {
    this.#levels = levels;
  }

  /** True when the field `column` of this table's rows is removed. */
  excludes(column: string): boolean {
    for (const level of this.#levels) {
      const path = level.prefix + column;
      if (level.excludes.some((match) => match(path)) && !level.includes.some((match) => match(path))) {
        return true;
      }
    }
    return false;
  }
}

/** The compiled `filters` of every table of a schema. */
export class RowFilters {
  readonly #naming: NamingConvention;
  readonly #rules: ReadonlyMap<string, { excludes: NameMatcher[]; includes: NameMatcher[] }>;

  private constructor(
    naming: NamingConvention,
    rules: ReadonlyMap<string, { excludes: NameMatcher[]; includes: NameMatcher[] }>,
  ) {
    this.#naming = naming;
    this.#rules = rules;
  }

  /** The schema's row filters, or undefined when no table excludes anything (the common case). */
  static fromSchema(schema: Schema, naming: NamingConvention): RowFilters | undefined {
    const rules = new Map<string, { excludes: NameMatcher[]; includes: NameMatcher[] }>();
    for (const table of Object.values(schema.tables)) {
      const excludes = table.filters?.excludes ?? [];
      if (excludes.length === 0) continue;
      const where = `in the \`filters\` of table \`${table.name}\``;
      rules.set(table.name, {
        excludes: excludes.map((pattern) => compileSimpleRegex(pattern, where)),
        includes: (table.filters?.includes ?? []).map((pattern) => compileSimpleRegex(pattern, where)),
      });
    }
    return rules.size === 0 ? undefined : new RowFilters(naming, rules);
  }

  /** The filter of the rows of table `name`, or undefined when no rule applies to them. */
  forTable(name: string): TableRowFilter | undefined {
    const naming = this.#naming;
    const branch = naming.breakPath(name);
    const levels: FilterLevel[] = [];
    // the table itself first, then each table up its path
    for (let i = branch.length; i > 0; i--) {
      const rules = this.#rules.get(branch.slice(0, i).join(naming.pathSeparator));
      if (rules === undefined) continue;
      const below = branch.slice(i);
      const prefix = below.length === 0 ? "" : below.join(naming.pathSeparator) + naming.pathSeparator;
      levels.push({ prefix, ...rules });
    }
    return levels.length === 0 ? undefined : new TableRowFilter(levels);
  }
}
