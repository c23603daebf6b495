/**
 * The relational normalizer (REFERENCE §2): flattens items into rows of a root table and nested
 * tables, infers and coerces column types, evolves the schema in place and hands every row, already
 * rendered as a JSON line, to a per-table {@link JobWriter}.
 *
 * Hot-path design: a row is built in one shared buffer of (slot, value) pairs — no object per row.
 * Keys are resolved through a per-table trie of {@link KeyNode}s that caches the normalized column
 * name for every source key path, so normalizing a key costs one `Map` lookup. A {@link Slot} (one
 * per table column name) carries the column's encoding info and a row stamp that dedupes names
 * (`createdAt` and `created_at` share one column; the later value wins, the first position stays).
 *
 * Not supported yet: schema contracts, row `filters`, the `relational_no_coercion` normalizer.
 */
import {
  C_DLT_ID,
  C_DLT_LIST_IDX,
  C_DLT_LOAD_ID,
  C_DLT_PARENT_ID,
  C_DLT_ROOT_ID,
  type ColumnSchema,
  type CompleteColumnSchema,
  type DataType,
  digest128,
  isDltName,
  isPuaEncoded,
  type LoadPackage,
  type NamingConvention,
  NormalizeError,
  type Schema,
  type TableSchema,
  type TsdltErrorCode,
} from "@tsdlt/core";
import { type ColumnInfo, columnInfo, encodeAs } from "./coercion.js";
import { JobWriter } from "./job-writer.js";
import { sortedJson } from "./json-text.js";
import { RandomIdPool } from "./random-ids.js";
import { TypeInference } from "./type-inference.js";
import { decodeTyped, isDict, valueType } from "./values.js";

/** Column name used for empty or whitespace-only keys. */
const EMPTY_KEY = "_empty";
/** Key used for the intermediary rows of lists of lists. */
const LIST_KEY = "list";
/** Default nesting budget (`max_nesting`). */
const DEFAULT_MAX_NESTING = 1000;
/** Cached children per key-trie node; beyond it (dynamic keys) names are computed per row. */
const NODE_CHILDREN_LIMIT = 10_000;

/** How a root row gets its `_dlt_id` (dlt's `get_root_row_id_type`). */
type RowIdType = "random" | "key_hash" | "row_hash";

/** One column name of one table, with what normalize knows about the column. */
class Slot {
  readonly name: string;
  /** `"<name>":` — the field prefix in a JSON line. */
  readonly key: string;
  /** The complete column, once it exists. */
  col: ColumnInfo | undefined;
  /** A declared column without a data type (its hints are merged when the type is inferred). */
  declared: ColumnSchema | undefined;
  /** Row stamp and position in the row buffer. */
  stamp = -1;
  index = 0;
  variants: Map<DataType, Slot> | undefined;

  constructor(name: string, column: ColumnSchema | undefined) {
    this.name = name;
    this.key = `${JSON.stringify(name)}:`;
    if (column?.data_type !== undefined) this.col = columnInfo(column as CompleteColumnSchema);
    else this.declared = column;
  }
}

/** A source key path inside the rows of one table. */
class KeyNode {
  /** Normalized key path (fragments joined by `__` give the column / nested table suffix). */
  readonly frags: readonly string[];
  readonly slot: Slot;
  children: Map<string, KeyNode> | undefined;
  /** The nested table of a list found at this path. */
  listTable: TableState | undefined;
  /** True when `preferred_types` makes this path a `json` column. */
  preferredJson: boolean | undefined;

  constructor(frags: readonly string[], slot: Slot) {
    this.frags = frags;
    this.slot = slot;
  }
}

/** Normalized names of the normalizer's own columns. */
interface SystemNames {
  readonly id: string;
  readonly loadId: string;
  readonly parentId: string;
  readonly listIdx: string;
  readonly value: string;
}

/** What normalize tracks for one table during a package. */
export class TableState {
  readonly name: string;
  readonly parentName: string | undefined;
  /** Path fragments the name was built from (the root table name, then list paths). */
  readonly fragments: readonly string[];
  /** Root rows get `_dlt_load_id` and a root row id instead of a parent link. */
  readonly isRoot: boolean;
  readonly slots: Map<string, Slot> = new Map();
  readonly rootNode: KeyNode;
  rows = 0;
  writer: JobWriter | undefined;
  /** The table is in the schema (or was added to it during this package). */
  inSchema: boolean;
  /** Names of columns added or completed by this package. */
  readonly added: Set<string> = new Set();
  /** Names that received only nulls (filtered against the final schema). */
  readonly nullOnly: Set<string> = new Set();
  /** Nesting budget of root rows. */
  maxNesting: number = DEFAULT_MAX_NESTING;
  rowIdType: RowIdType | undefined;
  primaryKey: readonly string[] = [];
  propagation: readonly { readonly from: Slot; readonly to: string }[] | undefined;
  readonly idSlot: Slot;
  readonly loadIdSlot: Slot;
  readonly parentIdSlot: Slot;
  readonly listIdxSlot: Slot;
  readonly valueSlot: Slot;
  private readonly schema: Schema;

  constructor(
    schema: Schema,
    names: SystemNames,
    name: string,
    parentName: string | undefined,
    fragments: readonly string[],
  ) {
    this.schema = schema;
    this.name = name;
    this.parentName = parentName;
    this.fragments = fragments;
    const stored = schema.tables[name];
    this.inSchema = stored !== undefined;
    this.isRoot = parentName === undefined || (stored !== undefined && stored.parent === undefined);
    this.rootNode = new KeyNode([], new Slot("", undefined));
    this.idSlot = this.slot(names.id);
    this.loadIdSlot = this.slot(names.loadId);
    this.parentIdSlot = this.slot(names.parentId);
    this.listIdxSlot = this.slot(names.listIdx);
    this.valueSlot = this.slot(names.value);
  }

  /** The slot of column `name`, created from the schema's column on first use. */
  slot(name: string): Slot {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = new Slot(name, this.schema.tables[this.name]?.columns[name]);
      this.slots.set(name, slot);
    }
    return slot;
  }
}

/** Options of {@link RelationalNormalizer}. */
export interface RelationalNormalizerOptions {
  readonly schema: Schema;
  readonly naming: NamingConvention;
  readonly loadId: string;
  /** Package whose `new_jobs/` receives the job files. */
  readonly output: LoadPackage;
  readonly fileMaxItems: number | undefined;
  /** Destination cap on the nesting budget. */
  readonly maxTableNesting: number | undefined;
}

interface PropagationConfig {
  root?: Record<string, string>;
  tables?: Record<string, Record<string, string>>;
}

/** The merge strategy of a root table, when its write disposition is `merge`. */
function mergeStrategyOf(table: TableSchema): string | undefined {
  if (table.write_disposition !== "merge") return undefined;
  const strategy = table["x-merge-strategy"];
  return typeof strategy === "string" ? strategy : "delete-insert";
}

/** Normalizes the items of one package into job files, evolving `schema`. */
export class RelationalNormalizer {
  private readonly schema: Schema;
  private readonly naming: NamingConvention;
  private readonly loadId: string;
  private readonly output: LoadPackage;
  private readonly fileMaxItems: number | undefined;
  private readonly maxTableNesting: number | undefined;
  private readonly inference: TypeInference;
  private readonly tables = new Map<string, TableState>();
  private readonly randomIds = new RandomIdPool();
  private readonly names: SystemNames;
  private readonly cId: string;
  private readonly cRootId: string;
  private readonly cValue: string;
  // the row being built: parallel arrays of slots and values, deduped by `stamp`
  private rowSlots: Slot[] = [];
  private rowValues: unknown[] = [];
  private rowLength = 0;
  private stamp = 0;
  private readonly stack: unknown[] = [];
  /** When set, rows evolve the schema but are not written (materializing an empty table). */
  private skipWrite = false;
  private fileName = "";
  private line = 0;

  constructor(options: RelationalNormalizerOptions) {
    this.schema = options.schema;
    this.naming = options.naming;
    this.loadId = options.loadId;
    this.output = options.output;
    this.fileMaxItems = options.fileMaxItems;
    this.maxTableNesting = options.maxTableNesting;
    this.inference = new TypeInference(this.schema);
    const n = (s: string): string => this.naming.normalizeIdentifier(s);
    this.names = {
      id: n(C_DLT_ID),
      loadId: n(C_DLT_LOAD_ID),
      parentId: n(C_DLT_PARENT_ID),
      listIdx: n(C_DLT_LIST_IDX),
      value: n("value"),
    };
    this.cId = this.names.id;
    this.cRootId = n(C_DLT_ROOT_ID);
    this.cValue = this.names.value;
    for (const table of Object.values(this.schema.tables)) {
      if (table.parent === undefined) this.ensureRootKeyPropagation(table.name);
    }
  }

  /** Records where the next items come from, for error messages. */
  setPosition(fileName: string, line: number): void {
    this.fileName = fileName;
    this.line = line;
  }

  /** The state of root table `name` (already normalized). */
  rootTable(name: string): TableState {
    const existing = this.tables.get(name);
    if (existing !== undefined) return existing;
    const table = this.tableState(name, undefined, [name]);
    const config = this.schema.normalizers.json.config ?? {};
    let budget = typeof config.max_nesting === "number" ? config.max_nesting : DEFAULT_MAX_NESTING;
    const hinted = this.schema.tables[name]?.["x-normalizer"]?.max_nesting;
    if (typeof hinted === "number") budget = hinted;
    if (this.maxTableNesting !== undefined) budget = Math.min(budget, this.maxTableNesting);
    table.maxNesting = budget;
    if (!table.inSchema && config.root_key_propagation === true) this.ensureRootKeyPropagation(name);
    return table;
  }

  /** Every table that received rows or job files. */
  touchedTables(): TableState[] {
    return [...this.tables.values()].filter((t) => t.writer !== undefined);
  }

  /** Normalizes one extracted item into rows of `root` and its nested tables. */
  normalizeItem(root: TableState, item: unknown): void {
    const dict =
      item !== null && typeof item === "object" && !Array.isArray(item) && isDict(item)
        ? item
        : { [this.cValue]: item };
    this.normalizeRow(root, dict, root.maxNesting, undefined, 0, undefined, true);
  }

  /**
   * Called when a job file produced no rows for `root`. A declared root table gets an empty job file
   * when the file was empty (dlt materializes such tables) or when the table has seen data before
   * (so that `replace` truncates it). A table that never saw data first gets its normalizer columns
   * from an empty row that is not written.
   */
  materializeIfDeclared(root: TableState, emptyFile: boolean): void {
    const stored = this.schema.tables[root.name];
    if (stored === undefined) return;
    const seenData = stored["x-normalizer"]?.["seen-data"] === true;
    if (!emptyFile && !seenData) return;
    if (!seenData) {
      this.skipWrite = true;
      try {
        this.normalizeItem(root, {});
      } finally {
        this.skipWrite = false;
      }
    }
    this.writerOf(root).ensureFile();
  }

  /** Flushes and closes every job file. */
  close(): void {
    for (const table of this.tables.values()) table.writer?.close();
  }

  /** Closes every job file without flushing (the output is being thrown away). */
  abort(): void {
    for (const table of this.tables.values()) table.writer?.abort();
  }

  // ---------------------------------------------------------------- rows

  private normalizeRow(
    table: TableState,
    dict: Record<string, unknown>,
    level: number,
    parentId: string | undefined,
    listIdx: number,
    extend: unknown[] | undefined,
    forceRoot: boolean,
  ): void {
    this.beginRow();
    const lists = this.flatten(table, dict, level);
    if (extend !== undefined) this.applyExtend(table, extend);
    const isRoot = forceRoot || table.isRoot;
    if (isRoot) this.put(table.loadIdSlot, this.loadId);
    let rowId = this.valueOf(table.idSlot);
    if (!rowId) rowId = this.addRowId(table, dict, parentId, listIdx, isRoot);
    const childExtend = this.propagate(table, isRoot, extend);
    this.writeRow(table);
    if (lists !== undefined) {
      const id = String(rowId);
      for (let i = 0; i < lists.length; i += 2) {
        this.normalizeList(lists[i] as TableState, lists[i + 1] as unknown[], level - 1, id, childExtend);
      }
    }
  }

  private normalizeList(
    table: TableState,
    seq: readonly unknown[],
    level: number,
    parentId: string,
    extend: unknown[] | undefined,
  ): void {
    for (let i = 0; i < seq.length; i++) {
      const v = seq[i];
      if (v !== null && typeof v === "object") {
        if (Array.isArray(v)) {
          // a list of lists: an intermediary row whose `list` becomes the next nested table
          this.normalizeRow(table, { [LIST_KEY]: v }, level - 1, parentId, i, extend, false);
          continue;
        }
        if (isDict(v)) {
          this.normalizeRow(table, v, level, parentId, i, extend, false);
          continue;
        }
      }
      this.beginRow();
      this.put(table.valueSlot, v);
      if (extend !== undefined) this.applyExtend(table, extend);
      this.addRowId(table, table.isRoot ? { [this.cValue]: v } : {}, parentId, i, table.isRoot);
      this.writeRow(table);
    }
  }

  /**
   * Flattens nested dicts into the row buffer with dlt's LIFO order (scalars of a dict first, nested
   * dicts afterwards, later siblings first). Returns the lists found, as `[table, list, ...]`.
   */
  private flatten(table: TableState, dict: Record<string, unknown>, level: number): unknown[] | undefined {
    const stack = this.stack;
    let sp = 0;
    stack[sp++] = dict;
    stack[sp++] = level;
    stack[sp++] = table.rootNode;
    let lists: unknown[] | undefined;
    while (sp > 0) {
      const node = stack[--sp] as KeyNode;
      const lvl = stack[--sp] as number;
      const obj = stack[--sp] as Record<string, unknown>;
      for (const key in obj) {
        const v = obj[key];
        const child = this.childNode(table, node, key);
        if (lvl > 0 && v !== null && typeof v === "object") {
          if (Array.isArray(v)) {
            if (!this.keepsJson(child)) {
              lists = this.addList(table, lists, child, v);
              continue;
            }
          } else if (isDict(v) && !this.keepsJson(child)) {
            stack[sp++] = v;
            stack[sp++] = lvl - 1;
            stack[sp++] = child;
            continue;
          }
        }
        this.put(child.slot, v);
      }
    }
    return lists;
  }

  private childNode(table: TableState, node: KeyNode, key: string): KeyNode {
    let child = node.children?.get(key);
    if (child !== undefined) return child;
    const normKey = key.trim().length === 0 ? EMPTY_KEY : this.naming.normalizePath(key);
    const frags = node.frags.length === 0 ? [normKey] : [...node.frags, normKey];
    const name = frags.length === 1 ? normKey : this.naming.makePath(...frags);
    child = new KeyNode(frags, table.slot(name));
    node.children ??= new Map();
    if (node.children.size < NODE_CHILDREN_LIMIT) node.children.set(key, child);
    return child;
  }

  /** A dict/list at this path stays a `json` value (column typed json, or preferred json). */
  private keepsJson(node: KeyNode): boolean {
    const col = node.slot.col;
    if (col !== undefined) return col.type === "json";
    node.preferredJson ??= this.inference.preferredType(node.slot.name) === "json";
    return node.preferredJson;
  }

  private addList(
    table: TableState,
    lists: unknown[] | undefined,
    node: KeyNode,
    list: unknown[],
  ): unknown[] {
    node.listTable ??= this.nestedTable(table, node.frags);
    const out = lists ?? [];
    for (let i = 0; i < out.length; i += 2) {
      if (out[i] === node.listTable) {
        out[i + 1] = list;
        return out;
      }
    }
    out.push(node.listTable, list);
    return out;
  }

  private nestedTable(parent: TableState, frags: readonly string[]): TableState {
    const fragments = [...parent.fragments, ...frags];
    return this.tableState(this.naming.makePath(...fragments), parent.name, fragments);
  }

  private tableState(name: string, parentName: string | undefined, fragments: readonly string[]): TableState {
    let table = this.tables.get(name);
    if (table === undefined) {
      table = new TableState(this.schema, this.names, name, parentName, fragments);
      this.tables.set(name, table);
    }
    return table;
  }

  // ---------------------------------------------------------------- row buffer

  private beginRow(): void {
    this.stamp++;
    this.rowLength = 0;
  }

  private put(slot: Slot, value: unknown): void {
    if (slot.stamp === this.stamp) {
      this.rowValues[slot.index] = value;
      return;
    }
    slot.stamp = this.stamp;
    slot.index = this.rowLength;
    this.rowSlots[this.rowLength] = slot;
    this.rowValues[this.rowLength] = value;
    this.rowLength++;
  }

  private valueOf(slot: Slot): unknown {
    return slot.stamp === this.stamp ? this.rowValues[slot.index] : undefined;
  }

  private applyExtend(table: TableState, extend: readonly unknown[]): void {
    for (let i = 0; i < extend.length; i += 2) this.put(table.slot(extend[i] as string), extend[i + 1]);
  }

  // ---------------------------------------------------------------- row ids and propagation

  private addRowId(
    table: TableState,
    dict: Record<string, unknown>,
    parentId: string | undefined,
    listIdx: number,
    isRoot: boolean,
  ): string {
    let rowId: string;
    if (isRoot) {
      rowId = this.rootRowId(table, dict);
    } else {
      rowId = digest128(`${parentId}_${table.name}_${listIdx}`);
      this.put(table.parentIdSlot, parentId);
      this.put(table.listIdxSlot, listIdx);
    }
    this.put(table.idSlot, rowId);
    return rowId;
  }

  private rootRowId(table: TableState, dict: Record<string, unknown>): string {
    table.rowIdType ??= this.resolveRowIdType(table);
    switch (table.rowIdType) {
      case "row_hash": {
        const content: Record<string, unknown> = {};
        for (const key in dict) if (!key.startsWith("_dlt")) content[key] = dict[key];
        return digest128(sortedJson(content));
      }
      case "key_hash": {
        const key: Record<string, unknown> = {};
        for (const name of table.primaryKey) {
          const slot = table.slot(name);
          if (slot.stamp !== this.stamp) {
            throw this.error(
              "NORMALIZE_FAILED",
              `Primary key column \`${name}\` of table \`${table.name}\` is missing in a row; it is needed to compute the row key (\`_dlt_id\`) for the merge strategy of the table. Send the key in every row.`,
              table.name,
              name,
            );
          }
          key[name] = this.rowValues[slot.index];
        }
        return digest128(sortedJson(key));
      }
      default:
        return this.randomIds.next();
    }
  }

  private resolveRowIdType(table: TableState): RowIdType {
    const stored = this.schema.tables[table.name];
    const strategy = stored === undefined ? undefined : mergeStrategyOf(stored);
    if (stored === undefined || strategy === undefined) return "random";
    if (strategy === "upsert" || strategy === "insert-only") {
      table.primaryKey = Object.values(stored.columns)
        .filter((c) => c.primary_key === true && c.name !== undefined)
        .map((c) => c.name as string);
      return table.primaryKey.length > 0 ? "key_hash" : "random";
    }
    if (strategy === "scd2") {
      const version = Object.values(stored.columns).find((c) => c["x-row-version"] === true)?.name;
      return version === undefined || version === this.cId ? "row_hash" : "random";
    }
    return "random";
  }

  /** Values of this row to copy into all rows of nested tables (`propagation` config). */
  private propagate(
    table: TableState,
    isRoot: boolean,
    extend: unknown[] | undefined,
  ): unknown[] | undefined {
    table.propagation ??= this.resolvePropagation(table, isRoot);
    if (table.propagation.length === 0) return extend;
    let out: unknown[] | undefined;
    for (const { from, to } of table.propagation) {
      if (from.stamp !== this.stamp) continue;
      out ??= extend === undefined ? [] : extend.slice();
      let i = 0;
      while (i < out.length && out[i] !== to) i += 2;
      out[i] = to;
      out[i + 1] = this.rowValues[from.index];
    }
    return out ?? extend;
  }

  private resolvePropagation(table: TableState, isRoot: boolean): { from: Slot; to: string }[] {
    const config = this.schema.normalizers.json.config?.propagation as PropagationConfig | undefined;
    if (config === undefined) return [];
    const mapping: Record<string, string> = {
      ...(isRoot ? config.root : undefined),
      ...config.tables?.[table.name],
    };
    return Object.entries(mapping).map(([from, to]) => ({
      from: table.slot(this.naming.normalizePath(from)),
      to: this.naming.normalizePath(to),
    }));
  }

  /**
   * Adds `{<row key>: _dlt_root_id}` propagation for a root table that needs it (REFERENCE §2.6): a
   * nested table already has a root key, or the merge strategy is delete-insert / upsert /
   * insert-only (unless `root_key_propagation` says otherwise), or `root_key_propagation` is true.
   */
  private ensureRootKeyPropagation(rootName: string): void {
    const config = this.schema.normalizers.json.config;
    const setting = config?.root_key_propagation;
    const root = this.schema.tables[rootName];
    let required = false;
    if (!isDltName(rootName)) {
      if (typeof setting === "boolean") {
        required = setting;
      } else if (root !== undefined) {
        const strategy = mergeStrategyOf(root);
        required = strategy === "delete-insert" || strategy === "upsert" || strategy === "insert-only";
      }
    }
    if (!required && root !== undefined) {
      required = this.schema
        .tableChain(rootName)
        .slice(1)
        .some((t) => Object.values(t.columns).some((c) => c.root_key === true));
    }
    if (!required) return;
    const rowKey = Object.values(root?.columns ?? {}).find((c) => c.row_key === true)?.name ?? this.cId;
    const json = this.schema.normalizers.json;
    json.config ??= {};
    json.config.propagation ??= {};
    const propagation = json.config.propagation as PropagationConfig;
    propagation.tables ??= {};
    propagation.tables[rootName] ??= {};
    const tableMapping = propagation.tables[rootName];
    if (tableMapping[rowKey] !== this.cRootId) tableMapping[rowKey] = this.cRootId;
  }

  // ---------------------------------------------------------------- coercion and writing

  private writeRow(table: TableState): void {
    let line = "{";
    let first = true;
    const slots = this.rowSlots;
    const values = this.rowValues;
    for (let i = 0; i < this.rowLength; i++) {
      const slot = slots[i] as Slot;
      const v = values[i];
      if (v === null || v === undefined) {
        this.handleNull(table, slot);
        continue;
      }
      const field = this.encodeField(table, slot, v);
      line += first ? field : `,${field}`;
      first = false;
    }
    if (this.skipWrite) return;
    this.writerOf(table).write(`${line}}`);
    table.rows++;
  }

  private writerOf(table: TableState): JobWriter {
    this.ensureTableInSchema(table);
    table.writer ??= new JobWriter({
      pkg: this.output,
      tableName: table.name,
      fileMaxItems: this.fileMaxItems,
    });
    return table.writer;
  }

  private encodeField(table: TableState, slot: Slot, raw: unknown): string {
    let v = raw;
    let from: DataType;
    switch (typeof raw) {
      case "string":
        if (isPuaEncoded(raw)) {
          v = decodeTyped(raw);
          from = valueType(v);
        } else {
          if (slot.col?.type === "text") return slot.key + JSON.stringify(raw);
          from = "text";
        }
        break;
      case "number":
        from = Number.isInteger(raw) ? "bigint" : "double";
        break;
      case "boolean":
        from = "bool";
        break;
      default:
        from = valueType(raw);
    }
    const col = slot.col;
    if (col === undefined) return this.encodeNewColumn(table, slot, from, v, false);
    const fragment = encodeAs(col, from, v);
    return fragment === undefined ? this.encodeVariant(table, slot, from, v) : slot.key + fragment;
  }

  /** A value that does not fit its column goes to the variant column `<col>__v_<type>`. */
  private encodeVariant(table: TableState, slot: Slot, from: DataType, v: unknown): string {
    let variant = slot.variants?.get(from);
    if (variant === undefined) {
      let name = this.naming.makePath(slot.name, `v_${from}`);
      if (from === "json") {
        const legacy = this.naming.makePath(slot.name, "v_complex");
        if (this.schema.tables[table.name]?.columns[legacy]?.variant === true) name = legacy;
      }
      variant = table.slot(name);
      slot.variants ??= new Map();
      slot.variants.set(from, variant);
    }
    const col = variant.col;
    if (col === undefined) return this.encodeNewColumn(table, variant, from, v, true);
    const fragment = encodeAs(col, from, v);
    if (fragment === undefined) throw this.cannotCoerce(table, variant, from, col.type);
    return variant.key + fragment;
  }

  /** Infers a new column (or completes a declared one) from its first non-null value. */
  private encodeNewColumn(
    table: TableState,
    slot: Slot,
    from: DataType,
    v: unknown,
    isVariant: boolean,
  ): string {
    const type = this.inference.inferType(v, from, slot.name, isVariant);
    const column = this.newColumn(slot, type, isVariant);
    const fragment = encodeAs(columnInfo(column), from, v);
    if (fragment === undefined) {
      if (isVariant) throw this.cannotCoerce(table, slot, from, type);
      return this.encodeVariant(table, slot, from, v);
    }
    this.addColumn(table, slot, column);
    return slot.key + fragment;
  }

  private newColumn(slot: Slot, type: DataType, isVariant: boolean): CompleteColumnSchema {
    const hints = this.inference.newColumnHints(slot.name);
    const column: CompleteColumnSchema = { name: slot.name, data_type: type, nullable: hints.nullable };
    for (const prop of hints.props) column[prop] = true;
    if (isVariant) column.variant = true;
    if (slot.declared !== undefined) {
      // declared hints win over inferred ones, defaults included (dlt's `merge_column`)
      for (const [key, value] of Object.entries(slot.declared)) {
        if (value !== undefined && key !== "data_type")
          (column as unknown as Record<string, unknown>)[key] = value;
      }
    }
    return column;
  }

  private addColumn(table: TableState, slot: Slot, column: CompleteColumnSchema): void {
    this.ensureTableInSchema(table);
    this.schema.updateTable({ name: table.name, columns: { [slot.name]: column } });
    const stored = this.schema.tables[table.name]?.columns[slot.name] ?? column;
    slot.col = columnInfo(stored as CompleteColumnSchema);
    slot.declared = undefined;
    table.added.add(slot.name);
  }

  private ensureTableInSchema(table: TableState): void {
    if (table.inSchema) return;
    const partial: TableSchema =
      table.parentName === undefined
        ? { name: table.name, columns: {}, write_disposition: "append", resource: table.name }
        : { name: table.name, columns: {}, parent: table.parentName };
    this.schema.updateTable(partial);
    table.inSchema = true;
  }

  private handleNull(table: TableState, slot: Slot): void {
    const col = slot.col;
    if (col !== undefined) {
      if (!col.nullable) throw this.nullError(table, slot);
      return;
    }
    if (slot.declared === undefined && !this.inference.newColumnHints(slot.name).nullable) {
      throw this.nullError(table, slot);
    }
    table.nullOnly.add(slot.name);
  }

  // ---------------------------------------------------------------- errors

  private where(): string {
    return `load \`${this.loadId}\`, file \`${this.fileName}\`, line ${this.line}`;
  }

  private error(code: TsdltErrorCode, message: string, table: string, column: string): NormalizeError {
    return new NormalizeError(`${message} (${this.where()})`, {
      code,
      loadId: this.loadId,
      table,
      column,
      path: this.fileName,
    });
  }

  private nullError(table: TableState, slot: Slot): NormalizeError {
    return this.error(
      "CANNOT_COERCE_NULL",
      `Column \`${slot.name}\` of table \`${table.name}\` is not nullable but received a null value. Send a value for it in every row, or declare the column with \`nullable: true\`.`,
      table.name,
      slot.name,
    );
  }

  private cannotCoerce(table: TableState, slot: Slot, from: DataType, to: DataType): NormalizeError {
    return this.error(
      "CANNOT_COERCE_COLUMN",
      `A \`${from}\` value cannot be coerced into column \`${slot.name}\` of table \`${table.name}\` with data type \`${to}\`, and no further variant column can be created. Clean the data or declare a type that fits all values.`,
      table.name,
      slot.name,
    );
  }
}
