/**
 * The relational normalizer (REFERENCE §2): flattens items into rows of a root table and nested
 * tables, infers and coerces column types, evolves the schema in place and hands every row, already
 * rendered as a JSON line or a CSV record, to a per-table {@link JobWriter}.
 *
 * Hot-path design: a row is built in one shared buffer of (slot, value) pairs — no object per row.
 * Keys are resolved through a per-table trie of {@link KeyNode}s that caches the normalized column
 * name for every source key path, so normalizing a key costs one `Map` lookup. A {@link Slot} (one
 * per table column name) carries the column's encoding info and a row stamp that dedupes names
 * (`createdAt` and `created_at` share one column; the later value wins, the first position stays).
 *
 * A value is encoded once into the text of its field (a JSON fragment, or a CSV field) and the slot
 * that receives it (a variant column's slot when the value does not fit). A JSON line is assembled
 * while encoding; a CSV record after the row's new columns were committed, because it depends on the
 * header of the open file: fields usually come in header order and are appended with the commas of
 * the columns in between, and each slot caches its position in the open file's header.
 *
 * Schema contracts (REFERENCE §3.5) are checked when a row brings schema changes: the new columns of
 * a row are collected first and committed to the schema only after the table's contract allowed
 * them, exactly once per row, as dlt does; discarded tables and columns become per-table filters.
 *
 * Row `filters` of the schema's tables (REFERENCE §2.11) remove fields before contracts and types
 * are applied (see `row-filters.ts`).
 */
import { isUtf8 } from "node:buffer";
import {
  C_DLT_ID,
  C_DLT_LIST_IDX,
  C_DLT_LOAD_ID,
  C_DLT_PARENT_ID,
  C_DLT_ROOT_ID,
  type ColumnSchema,
  type CompleteColumnSchema,
  type ContractEntity,
  type DataType,
  EVOLVE_ALL,
  isDltName,
  isPuaEncoded,
  JSON_NORMALIZERS,
  jsonNormalizerModule,
  type LoadPackage,
  type NamingConvention,
  NormalizeError,
  RELATIONAL_NO_COERCION_NORMALIZER,
  RELATIONAL_NORMALIZER,
  type ResolvedContract,
  resolveContract,
  type Schema,
  type SchemaContractMode,
  type TableSchema,
  type TsdltErrorCode,
} from "@tsdlt/core";
import { type ColumnInfo, columnInfo, encodeAs } from "./coercion.js";
import { commas, csvFromJson, csvText } from "./csv-text.js";
import { JobWriter, type NormalizedFileFormat, type WrittenJobFile } from "./job-writer.js";
import { isCanonicalUtcBytes, skipSpace, skipValue } from "./json-bytes.js";
import { jsonOf, sortedJson } from "./json-text.js";
import { RandomIdPool } from "./random-ids.js";
import { RowFilters, type TableRowFilter } from "./row-filters.js";
import {
  copyBytes,
  Encoding,
  FIELD_UNTYPED_NULL,
  RowPlan,
  writeAscii,
  writeCsvContent,
  writeCsvString,
  writeJsonAscii,
} from "./row-plan.js";
import { fastDigest128, nestedRowDigest } from "./shake128.js";
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
/** Row plans learned per table (see `row-plan.ts`); an item is tried against each. */
const MAX_PLANS = 3;
/** Row plans built per table and package at most: a table of ever-changing items stays general. */
const MAX_PLAN_BUILDS = 16;
/** Items of a table that may miss every plan beyond the ones that matched before plans are dropped. */
const PLAN_MISS_ALLOWANCE = 256;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
/** Parts of a planned `csv` record besides its data fields (which are numbered from 0). */
const CSV_LOAD_ID = -1;
const CSV_ID = -2;
const CSV_PARENT_ID = -3;
const CSV_LIST_IDX = -4;
/** The first propagated value; the next ones count down from it. */
const CSV_EXTEND = -5;

/**
 * One schema mutation made by the normalizer, in call order: a table entering the schema, or a column
 * added to (or completed in) a table. Recorded when {@link RelationalNormalizer.recordChanges} is on,
 * so that a worker's changes can be replayed on another copy of the schema.
 */
export type SchemaChange =
  | { readonly kind: "table"; readonly table: TableSchema }
  | {
      readonly kind: "column";
      readonly table: string;
      /** The column passed to `Schema.updateTable`. */
      readonly column: CompleteColumnSchema;
      /** The column as stored afterwards. */
      readonly stored: ColumnSchema;
    };

/** What a {@link RelationalNormalizer} did since its last {@link RelationalNormalizer.takeFileReport}. */
export interface NormalizerFileReport {
  /** Schema mutations, in call order. */
  readonly changes: SchemaChange[];
  /** `[table, column]` pairs that received a null while the column had no data type. */
  readonly nulls: [string, string][];
  /** Tables first seen (table states created), in order, with their parent table (null for roots). */
  readonly tablesCreated: [string, string | null][];
  /** Tables that have job files (touched), with the rows written since the last report. */
  readonly rows: Record<string, number>;
  /**
   * What was written to job files since the last report: per file, the byte range and the rows. A
   * file continues across reports (it stays open) until it rotates or the normalizer closes.
   */
  readonly outputs: JobFileSegment[];
}

/** Bytes `[start, end)` of a job file, holding `rows` rows, written for one report. */
export interface JobFileSegment {
  readonly table: string;
  readonly fileName: string;
  readonly start: number;
  readonly end: number;
  readonly rows: number;
}

/** How a root row gets its `_dlt_id` (dlt's `get_root_row_id_type`). */
type RowIdType = "random" | "key_hash" | "row_hash";

/** Marks a row value removed by a `discard_value` filter. */
const DROPPED: unique symbol = Symbol("dropped");

/** What a contract filter does with data of a column it rejected. */
type FilterMode = Exclude<SchemaContractMode, "evolve" | "freeze">;

/** A column a row would add, held back until the table's contract allowed it. */
interface PendingColumn {
  slot: Slot;
  column: CompleteColumnSchema;
  isVariant: boolean;
  /** The value's natural type, for messages. */
  from: DataType;
  /** For a variant: the column the value did not fit. */
  base: Slot | undefined;
}

/** The outcome of committing a row's new columns: keep the row, drop it, or encode it again. */
type Verdict = "keep" | "drop-row" | "reencode";

/** One column name of one table, with what normalize knows about the column. */
class Slot {
  readonly name: string;
  /** `"<name>":` — the field prefix in a JSON line. */
  readonly key: string;
  /** `,"<name>":` — the prefix of a field that is not the first of its line. */
  readonly sepKey: string;
  /** The complete column, once it exists. */
  col: ColumnInfo | undefined;
  /** A declared column without a data type (its hints are merged when the type is inferred). */
  declared: ColumnSchema | undefined;
  /** Row stamp and position in the row buffer. */
  stamp = -1;
  index = 0;
  variants: Map<DataType, Slot> | undefined;
  /** The source key when it normalizes to no name at all (such a slot cannot take a value). */
  invalidKey: string | undefined;
  /** True when the table's row `filters` remove this field (resolved on first use). */
  rowFiltered: boolean | undefined;
  /** `csv`: the column's position in the header of the file with this generation (see `JobWriter`). */
  csvGeneration = -1;
  csvPosition = -1;

  constructor(name: string, column: ColumnSchema | undefined) {
    this.name = name;
    this.key = `${JSON.stringify(name)}:`;
    this.sepKey = `,${this.key}`;
    if (column?.data_type !== undefined) this.col = columnInfo(column as CompleteColumnSchema);
    else this.declared = column;
  }
}

/** A source key path inside the rows of one table. */
class KeyNode {
  /** Normalized key path (fragments joined by the separator give the column name). */
  readonly frags: readonly string[];
  readonly slot: Slot;
  /** The key as a table identifier, the last fragment of a nested table's path ("" when blank). */
  readonly listFrag: string;
  children: Map<string, KeyNode> | undefined;
  /** The nested table of a list found at this path. */
  listTable: TableState | undefined;
  /** True when `preferred_types` makes this path a `json` column. */
  preferredJson: boolean | undefined;

  constructor(frags: readonly string[], slot: Slot, listFrag: string) {
    this.frags = frags;
    this.slot = slot;
    this.listFrag = listFrag;
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
  /** `_<name>_`: the middle of the hashed text of a nested row's `_dlt_id`. */
  readonly idInfix: string;
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
  /** The table has a complete column (it is not "new" for schema contracts). */
  hasCompleteColumn: boolean;
  /** Columns evolve regardless of the contract (a root table new in this package). */
  readonly evolveColumnsOnce: boolean;
  /** The schema contract of the table, resolved on the first schema change. */
  contract: ResolvedContract | undefined;
  /** Set when the contract discarded the table: its rows (and their nested rows) are dropped. */
  discarded = false;
  /** Columns the contract rejected, and what to do with their data. */
  filters: Map<Slot, FilterMode> | undefined;
  /** The row `filters` that apply to this table's rows (null: none; undefined: not resolved yet). */
  rowFilter: TableRowFilter | null | undefined;
  rowIdType: RowIdType | undefined;
  primaryKey: readonly string[] = [];
  propagation: readonly { readonly from: Slot; readonly to: string }[] | undefined;
  /** Row plans learned from this table's items (see `row-plan.ts`), most recent first. */
  plans: RowPlan<Slot, TableState>[] = [];
  planBuilds = 0;
  planHits = 0;
  planMisses = 0;
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
    this.idInfix = `_${name}_`;
    this.parentName = parentName;
    this.fragments = fragments;
    const stored = schema.tables[name];
    this.inSchema = stored !== undefined;
    this.isRoot = parentName === undefined || (stored !== undefined && stored.parent === undefined);
    this.hasCompleteColumn =
      stored !== undefined && Object.values(stored.columns).some((c) => c.data_type !== undefined);
    // dlt's extract flags a new root table with `evolve-columns-once` when its contract does not let
    // columns evolve; a root table without complete columns at the start of the package is that table
    this.evolveColumnsOnce =
      stored?.["x-normalizer"]?.["evolve-columns-once"] === true ||
      (parentName === undefined && !this.hasCompleteColumn);
    this.rootNode = new KeyNode([], new Slot("", undefined), "");
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
  readonly fileMaxBytes?: number | undefined;
  /** Format of the job files. @default "jsonl" */
  readonly fileFormat?: NormalizedFileFormat;
  /** Destination cap on the nesting budget. */
  readonly maxTableNesting: number | undefined;
  /**
   * Scan items that look like the ones before them as bytes (`row-plan.ts`) instead of parsing them:
   * the same output, faster. Off only to compare the two paths. @default true
   */
  readonly plannedRows?: boolean;
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
  private readonly fileMaxBytes: number | undefined;
  private readonly fileFormat: NormalizedFileFormat;
  /** The job files are `csv` (else `jsonl`). */
  private readonly csv: boolean;
  private readonly maxTableNesting: number | undefined;
  private readonly inference: TypeInference;
  private readonly tables = new Map<string, TableState>();
  private readonly randomIds = new RandomIdPool();
  private readonly names: SystemNames;
  /** The schema's row `filters`, when any table has them. */
  private rowFilters: RowFilters | undefined;
  /** `relational_no_coercion`: a value of another type than its column's always goes to a variant. */
  private readonly noCoercion: boolean;
  private readonly cId: string;
  private readonly cRootId: string;
  private readonly cValue: string;
  // the row being built: parallel arrays of slots and values, deduped by `stamp`
  private rowSlots: Slot[] = [];
  private rowValues: unknown[] = [];
  private rowLength = 0;
  private stamp = 0;
  /** The slot that receives the field last encoded (the column's, or a variant's). */
  private target: Slot = new Slot("", undefined);
  /** `csv`: the encoded fields of the row, in row order: target slots and field texts. */
  private readonly csvSlots: Slot[] = [];
  private readonly csvTexts: string[] = [];
  private csvLength = 0;
  /** `csv`: the row's fields (indexes) in header order, when they came out of order. */
  private readonly csvOrder: number[] = [];
  private readonly stack: unknown[] = [];
  /** When set, rows evolve the schema but are not written (materializing an empty table). */
  private skipWrite = false;
  /** New columns of the row being encoded (`pendingCount` of `pending` are in use). */
  private readonly pending: PendingColumn[] = [];
  private pendingCount = 0;
  /** Set while encoding when a `discard_row` filter hit a value of the row. */
  private dropRow = false;
  /** Items may take the planned-row fast path (jsonl output, coercing normalizer, not switched off). */
  private readonly planned: boolean;
  /** Where a planned row is assembled before it is handed to its writer. */
  private scratch: Buffer = Buffer.allocUnsafe(64 * 1024);
  /** Parses the line being normalized whole (reports it when it is not valid JSON). */
  private lineParser: (() => unknown) | undefined;
  /** Normalizes a key into a column name fragment (a path unless `use_break_path_on_normalize` is false). */
  private readonly normalizeKey: (key: string) => string;
  /** Normalizes a key into a nested table name fragment. */
  private readonly normalizeTableKey: (key: string) => string;
  private fileName = "";
  private line = 0;
  /** Set by {@link RelationalNormalizer.recordChanges}: what changed since the last report. */
  /** Parents of tables met first elsewhere (see {@link recordChanges}). */
  private knownParents: Map<string, string | undefined> | undefined;
  private log:
    | {
        changes: SchemaChange[];
        nulls: [string, string][];
        nullSlots: Set<Slot>;
        tablesCreated: [string, string | null][];
        rowsAtReport: Map<TableState, number>;
        /** Per table: closed files already reported, and how far the open file was reported. */
        filesAtReport: Map<TableState, { closed: number; fileName: string; bytes: number; rows: number }>;
      }
    | undefined;

  constructor(options: RelationalNormalizerOptions) {
    this.schema = options.schema;
    this.naming = options.naming;
    this.loadId = options.loadId;
    this.output = options.output;
    this.fileMaxItems = options.fileMaxItems;
    this.fileMaxBytes = options.fileMaxBytes;
    this.fileFormat = options.fileFormat ?? "jsonl";
    this.csv = this.fileFormat === "csv";
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
    const naming = this.naming;
    const breakPaths = this.schema.normalizers.use_break_path_on_normalize !== false;
    this.normalizeKey = breakPaths ? (k) => naming.normalizePath(k) : (k) => naming.normalizeIdentifier(k);
    this.normalizeTableKey = breakPaths
      ? (k) => naming.normalizeTablesPath(k)
      : (k) => naming.normalizeTableIdentifier(k);
    for (const table of Object.values(this.schema.tables)) {
      if (table.parent === undefined) this.ensureRootKeyPropagation(table.name);
    }
    this.rowFilters = RowFilters.fromSchema(this.schema, this.naming);
    this.noCoercion = this.jsonModule() === RELATIONAL_NO_COERCION_NORMALIZER;
    this.planned = options.plannedRows !== false && !this.noCoercion;
  }

  /** The schema's json normalizer module, which must be one tsdlt implements. */
  private jsonModule(): string {
    const module = jsonNormalizerModule(this.schema.normalizers.json?.module ?? RELATIONAL_NORMALIZER);
    if (!JSON_NORMALIZERS.includes(module)) {
      throw new NormalizeError(
        `Schema \`${this.schema.name}\` names the json normalizer \`${module}\` (\`normalizers.json.module\`), which tsdlt does not implement. Use ${JSON_NORMALIZERS.map((m) => `\`${m}\``).join(" or ")}.`,
        { code: "NOT_IMPLEMENTED", loadId: this.loadId },
      );
    }
    return module;
  }

  /** Records where the next items come from, for error messages. */
  setPosition(fileName: string, line: number): void {
    this.fileName = fileName;
    this.line = line;
  }

  /**
   * Adds the definition of a table that was declared after this normalizer was created (a table the
   * extract of a streamed package declared later, see `StreamingNormalizer`), as if it had been in the
   * schema from the start. Returns false, changing nothing, when the normalizer already knows a table
   * of that name (it met it as a nested table, or it was in the schema).
   */
  adoptTable(table: TableSchema): boolean {
    if (this.tables.has(table.name) || this.schema.tables[table.name] !== undefined) return false;
    this.schema.tables[table.name] = table;
    if (table.parent === undefined) this.ensureRootKeyPropagation(table.name);
    if ((table.filters?.excludes ?? []).length > 0) {
      this.rowFilters = RowFilters.fromSchema(this.schema, this.naming);
    }
    return true;
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

  /**
   * Starts recording schema changes, nulls of untyped columns, new tables, rows and job files, to be
   * collected with {@link takeFileReport} (used to normalize files in worker threads). `knownTables`
   * gives the parent of tables that files normalized elsewhere met first: a table is what its first
   * occurrence made it (a nested table name can be reached from two parents).
   */
  recordChanges(knownTables: readonly (readonly [string, string | null])[] = []): void {
    this.knownParents = new Map(knownTables.map(([name, parent]) => [name, parent ?? undefined]));
    this.log = {
      changes: [],
      nulls: [],
      nullSlots: new Set(),
      tablesCreated: [],
      rowsAtReport: new Map(),
      filesAtReport: new Map(),
    };
  }

  /**
   * Returns what happened since the last report, with the rows written so far flushed to the job
   * files (which stay open: the next file continues them). Requires {@link recordChanges}.
   */
  takeFileReport(): NormalizerFileReport {
    const log = this.log;
    if (log === undefined) throw new Error("takeFileReport() needs recordChanges()");
    const rows: Record<string, number> = {};
    const outputs: JobFileSegment[] = [];
    for (const table of this.tables.values()) {
      const writer = table.writer;
      if (writer === undefined) continue;
      writer.flushBuffer();
      rows[table.name] = table.rows - (log.rowsAtReport.get(table) ?? 0);
      log.rowsAtReport.set(table, table.rows);
      const last = log.filesAtReport.get(table) ?? { closed: 0, fileName: "", bytes: 0, rows: 0 };
      const segment = (fileName: string, bytes: number, fileRows: number): void => {
        const continued = fileName === last.fileName;
        outputs.push({
          table: table.name,
          fileName,
          start: continued ? last.bytes : 0,
          end: bytes,
          rows: fileRows - (continued ? last.rows : 0),
        });
      };
      for (let i = last.closed; i < writer.files.length; i++) {
        const file = writer.files[i] as WrittenJobFile;
        segment(file.fileName, file.bytes, file.rows);
      }
      const open = writer.openFile;
      if (open !== undefined) segment(open.fileName, open.bytes, open.rows);
      log.filesAtReport.set(table, {
        closed: writer.files.length,
        fileName: open?.fileName ?? "",
        bytes: open?.bytes ?? 0,
        rows: open?.rows ?? 0,
      });
    }
    const report: NormalizerFileReport = {
      changes: log.changes,
      nulls: log.nulls,
      tablesCreated: log.tablesCreated,
      rows,
      outputs,
    };
    log.changes = [];
    log.nulls = [];
    log.nullSlots.clear();
    log.tablesCreated = [];
    return report;
  }

  /** Closes every job file without flushing (the output is being thrown away). */
  abort(): void {
    for (const table of this.tables.values()) table.writer?.abort();
  }

  // ---------------------------------------------------------------- planned rows (row-plan.ts)

  /** True when the lines of `root`'s job files go through {@link normalizeLine}. */
  plansRows(root: TableState): boolean {
    return this.planned && (root.plans.length > 0 || root.planBuilds < MAX_PLAN_BUILDS);
  }

  /**
   * Normalizes one line of an extracted job file: a JSON array of items, or one item. An item that
   * follows one of the table's row plans is scanned as bytes; the others are parsed one by one (and
   * teach the table a plan). `parse` parses the whole line, reporting it when it is not valid JSON.
   */
  normalizeLine(root: TableState, b: Buffer, parse: (text: string) => unknown): void {
    const end = b.length;
    const parseLine = (): unknown => parse(b.toString("utf8"));
    if (!isUtf8(b)) {
      this.normalizeItems(root, parseLine(), 0);
      return;
    }
    this.lineParser = parseLine;
    try {
      const level = root.maxNesting;
      const batch = b[0] === OPEN_BRACKET;
      let p = batch ? skipSpace(b, 1, end) : 0;
      if (batch && b[p] === CLOSE_BRACKET) {
        if (skipSpace(b, p + 1, end) !== end) parseLine();
        return;
      }
      for (let index = 0; ; index++) {
        let next = this.plannedRow(root, b, p, end, level, undefined, 0, undefined);
        if (next < 0) {
          next = skipValue(b, p, end);
          const item = next < 0 ? undefined : parseOrUndefined(b.toString("utf8", p, next));
          if (item === undefined) {
            this.normalizeItems(root, parseLine(), index);
            return;
          }
          this.normalizeItem(root, item);
          if (item !== null && typeof item === "object" && isDict(item)) {
            this.learnPlan(root, item, level, undefined, true);
          }
        }
        p = skipSpace(b, next, end);
        if (!batch) {
          if (p !== end) this.normalizeItems(root, parseLine(), index + 1);
          return;
        }
        if (b[p] === COMMA) {
          p = skipSpace(b, p + 1, end);
          continue;
        }
        if (b[p] !== CLOSE_BRACKET || skipSpace(b, p + 1, end) !== end) {
          this.normalizeItems(root, parseLine(), index + 1);
        }
        return;
      }
    } finally {
      this.lineParser = undefined;
    }
  }

  /** Normalizes the items of a parsed line (an array of items, or one item) from `from` on. */
  private normalizeItems(root: TableState, batch: unknown, from: number): void {
    if (!Array.isArray(batch)) {
      if (from === 0) this.normalizeItem(root, batch);
      return;
    }
    for (let i = from; i < batch.length; i++) this.normalizeItem(root, batch[i]);
  }

  /**
   * Writes the object at `p` as a row of `table` (and its lists as nested rows) when it follows one
   * of the table's plans; returns the index after it, or -1 (nothing written).
   */
  private plannedRow(
    table: TableState,
    b: Buffer,
    p: number,
    end: number,
    level: number,
    parentId: string | undefined,
    listIdx: number,
    extend: unknown[] | undefined,
  ): number {
    const plans = table.plans;
    if (plans.length === 0 || b[p] !== OPEN_BRACE || !this.canPlan(table)) return -1;
    for (const plan of plans) {
      if (plan.level !== level || !plan.acceptsExtend(extend)) continue;
      const next = plan.scan(b, p, end);
      if (next >= 0) {
        table.planHits++;
        this.writePlanned(table, plan, b, level, parentId, listIdx, extend);
        return next;
      }
    }
    table.planMisses++;
    if (table.planMisses > table.planHits + PLAN_MISS_ALLOWANCE) {
      // the table's items keep changing: plans cost more than they save
      table.plans = [];
      table.planBuilds = MAX_PLAN_BUILDS;
    }
    return -1;
  }

  /** Assembles and writes the row a plan scanned, then its nested rows. */
  private writePlanned(
    table: TableState,
    plan: RowPlan<Slot, TableState>,
    b: Buffer,
    level: number,
    parentId: string | undefined,
    listIdx: number,
    extend: unknown[] | undefined,
  ): void {
    const isRoot = parentId === undefined;
    const rowId = isRoot
      ? this.randomIds.next()
      : nestedRowDigest(parentId as string, table.idInfix, listIdx);
    const writer = this.writerOf(table);
    const length = this.csv
      ? this.plannedCsvRecord(table, plan, writer, b, parentId, listIdx, rowId, extend)
      : this.plannedJsonLine(table, plan, b, parentId, listIdx, rowId, extend);
    writer.writeBytes(this.scratch, length);
    table.rows++;
    const lists = plan.listTables;
    if (lists.length === 0) return;
    let childExtend = extend;
    if (plan.propagateTo.length > 0) {
      const out = extend === undefined ? [] : extend.slice();
      for (const to of plan.propagateTo) setPropagated(out, to, rowId);
      childExtend = out;
    }
    // the lists' bytes were found by the scan; their items become rows of the nested tables now
    for (let l = 0; l < lists.length; l++) {
      this.normalizePlannedList(
        lists[l] as TableState,
        b,
        plan.listStarts[l] as number,
        plan.listEnds[l] as number,
        level - 1,
        rowId,
        childExtend,
      );
    }
  }

  /** A scratch buffer of at least `size` bytes. */
  private scratchOf(size: number): Buffer {
    if (size > this.scratch.length)
      this.scratch = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
    return this.scratch;
  }

  /** Assembles the JSON line of a planned row in the scratch buffer; returns its length. */
  private plannedJsonLine(
    table: TableState,
    plan: RowPlan<Slot, TableState>,
    b: Buffer,
    parentId: string | undefined,
    listIdx: number,
    rowId: string,
    extend: unknown[] | undefined,
  ): number {
    const isRoot = parentId === undefined;
    const { starts, ends, texts, fieldKeys } = plan;
    const fields = starts.length;
    let size = plan.fixedBytes + rowId.length + 32;
    for (let f = 0; f < fields; f++) {
      const start = starts[f] as number;
      if (start < 0) continue;
      const text = texts[f];
      size +=
        (fieldKeys[f] as Uint8Array).length +
        (text === undefined ? (ends[f] as number) - start : text.length * 3);
    }
    // (a JSON string takes at most 6 bytes per character: `\uXXXX`)
    if (extend !== undefined)
      for (let i = 1; i < extend.length; i += 2) size += (extend[i] as string).length * 6;
    if (!isRoot) size += (parentId as string).length * 6;
    const out = this.scratchOf(size);
    let o = 0;
    const runs = plan.runs;
    for (let r = 0; r < runs.length; r += 2) {
      const first = runs[r] as number;
      const last = runs[r + 1] as number;
      if (last > first) {
        // a run of fields copied from the item as one block, when every value is there as it is
        let whole = true;
        for (let f = first; f <= last && whole; f++)
          whole = (starts[f] as number) >= 0 && texts[f] === undefined;
        if (whole) {
          out[o++] = COMMA;
          o = copyBytes(
            out,
            o,
            b,
            (starts[first] as number) - (plan.headLengths[first] as number),
            ends[last] as number,
          );
          continue;
        }
      }
      for (let f = first; f <= last; f++) {
        const start = starts[f] as number;
        if (start < 0) {
          if (start === FIELD_UNTYPED_NULL) this.handleNull(table, plan.slots[f] as Slot);
          continue;
        }
        const key = fieldKeys[f] as Uint8Array;
        o = copyBytes(out, o, key, 0, key.length);
        const text = texts[f];
        if (text === undefined) o = copyBytes(out, o, b, start, ends[f] as number);
        else o += out.write(text, o, "utf8");
      }
    }
    if (extend !== undefined) {
      for (let i = 0; i < plan.extendKeys.length; i++) {
        const key = plan.extendKeys[i] as Uint8Array;
        o = copyBytes(out, o, key, 0, key.length);
        o += out.write(jsonString(extend[2 * i + 1] as string), o, "utf8");
      }
    }
    if (isRoot) {
      const field = plan.loadIdField;
      o = copyBytes(out, o, field, 0, field.length);
    } else {
      let key = plan.parentIdKey;
      o = copyBytes(out, o, key, 0, key.length);
      const end = writeJsonAscii(out, o, parentId as string);
      o = end >= 0 ? end : o + out.write(jsonString(parentId as string), o, "utf8");
      key = plan.listIdxKey;
      o = copyBytes(out, o, key, 0, key.length);
      o = writeAscii(out, o, String(listIdx));
    }
    const idKey = plan.idKey;
    o = copyBytes(out, o, idKey, 0, idKey.length);
    out[o++] = 0x22;
    o = writeAscii(out, o, rowId);
    out[o++] = 0x22;
    out[o++] = 0x7d; // }
    out[0] = OPEN_BRACE; // the first field's comma
    return o;
  }

  /**
   * Assembles the `csv` record of a planned row in the scratch buffer; returns its length. The fields
   * go in the header order of the open file (cached per file in the plan); a row with a value for a
   * column the header lacks starts a new file first, as {@link csvRecord} does.
   */
  private plannedCsvRecord(
    table: TableState,
    plan: RowPlan<Slot, TableState>,
    writer: JobWriter,
    b: Buffer,
    parentId: string | undefined,
    listIdx: number,
    rowId: string,
    extend: unknown[] | undefined,
  ): number {
    const { starts, ends, texts, encodings, cols } = plan;
    writer.ensureOpen();
    if (plan.csvGeneration !== writer.generation || !this.csvHeaderHolds(plan)) {
      this.csvPlanOrder(table, plan, writer, parentId === undefined);
      if (!this.csvHeaderHolds(plan)) {
        writer.rotate();
        this.csvPlanOrder(table, plan, writer, parentId === undefined);
      }
    }
    const width = writer.columnCount;
    let size = width + 64 + rowId.length + (parentId?.length ?? 0) + plan.csvLoadId.length;
    for (let f = 0; f < starts.length; f++) {
      const start = starts[f] as number;
      if (start >= 0) size += (texts[f]?.length ?? (ends[f] as number) - start) * 6 + 2;
    }
    if (extend !== undefined)
      for (let i = 1; i < extend.length; i += 2) size += (extend[i] as string).length * 6 + 2;
    const out = this.scratchOf(size);
    const parts = plan.csvParts;
    const positions = plan.csvPositions;
    let o = 0;
    let last = -1;
    for (let f = 0; f < starts.length; f++) {
      if (starts[f] === FIELD_UNTYPED_NULL) this.handleNull(table, plan.slots[f] as Slot);
    }
    for (let k = 0; k < parts.length; k++) {
      const part = parts[k] as number;
      if (part >= 0 && (starts[part] as number) < 0) continue;
      const position = positions[k] as number;
      for (let c = last < 0 ? position : position - last; c > 0; c--) out[o++] = COMMA;
      last = position;
      if (part >= 0) {
        const text = texts[part];
        if (text !== undefined) {
          o += out.write(csvFromJson((cols[part] as ColumnInfo).type, text), o, "utf8");
          continue;
        }
        const start = starts[part] as number;
        const end = ends[part] as number;
        const encoding = encodings[part];
        if (encoding === Encoding.text) o = writeCsvContent(out, o, b, start + 1, end - 1);
        else if (encoding === Encoding.timestampUtc) o = copyBytes(out, o, b, start + 1, end - 1);
        else o = copyBytes(out, o, b, start, end);
      } else if (part === CSV_LOAD_ID) {
        o = copyBytes(out, o, plan.csvLoadId, 0, plan.csvLoadId.length);
      } else if (part === CSV_ID) {
        o = writeCsvString(out, o, rowId);
      } else if (part === CSV_PARENT_ID) {
        o = writeCsvString(out, o, parentId as string);
      } else if (part === CSV_LIST_IDX) {
        o = writeAscii(out, o, String(listIdx));
      } else {
        o = writeCsvString(out, o, (extend as unknown[])[2 * (CSV_EXTEND - part) + 1] as string);
      }
    }
    for (let c = width - 1 - Math.max(last, 0); c > 0; c--) out[o++] = COMMA;
    return o;
  }

  /** False when a value of the scanned row has no column in the header of the open file. */
  private csvHeaderHolds(plan: RowPlan<Slot, TableState>): boolean {
    const missing = plan.csvMissing;
    for (let i = 0; i < missing.length; i++) {
      const part = missing[i] as number;
      if (part < 0 || (plan.starts[part] as number) >= 0) return false;
    }
    return true;
  }

  /** Orders the parts of a planned row by their position in the header of `writer`'s open file. */
  private csvPlanOrder(
    table: TableState,
    plan: RowPlan<Slot, TableState>,
    writer: JobWriter,
    isRoot: boolean,
  ): void {
    const found: [number, number][] = [];
    const missing: number[] = [];
    const place = (part: number, slot: Slot): void => {
      const position = writer.positionOf(slot.name);
      if (position >= 0) found.push([position, part]);
      // a column without a data type only ever gets nulls in a planned row: it has no place
      else if (part < 0 || slot.col !== undefined) missing.push(part);
    };
    for (let f = 0; f < plan.slots.length; f++) place(f, plan.slots[f] as Slot);
    for (let i = 0; i < plan.extendNames.length; i++) {
      place(CSV_EXTEND - i, table.slot(plan.extendNames[i] as string));
    }
    if (isRoot) {
      place(CSV_LOAD_ID, table.loadIdSlot);
    } else {
      place(CSV_PARENT_ID, table.parentIdSlot);
      place(CSV_LIST_IDX, table.listIdxSlot);
    }
    place(CSV_ID, table.idSlot);
    found.sort((x, y) => x[0] - y[0]);
    plan.csvPositions = Int32Array.from(found, ([position]) => position);
    plan.csvParts = Int32Array.from(found, ([, part]) => part);
    plan.csvMissing = Int32Array.from(missing);
    plan.csvGeneration = writer.generation;
  }

  /** Normalizes the list at bytes `[start, end)` into rows of nested table `table`. */
  private normalizePlannedList(
    table: TableState,
    b: Buffer,
    start: number,
    end: number,
    level: number,
    parentId: string,
    extend: unknown[] | undefined,
  ): void {
    let p = skipSpace(b, start + 1, end);
    if (b[p] === CLOSE_BRACKET) return;
    for (let index = 0; ; index++) {
      let next = table.isRoot ? -1 : this.plannedRow(table, b, p, end, level, parentId, index, extend);
      if (next < 0) {
        next = skipValue(b, p, end);
        const item = next < 0 ? undefined : parseOrUndefined(b.toString("utf8", p, next));
        if (item === undefined) this.malformedLine();
        this.normalizeListItem(table, item, index, level, parentId, extend);
      }
      p = skipSpace(b, next, end);
      if (b[p] === COMMA) {
        p = skipSpace(b, p + 1, end);
        continue;
      }
      if (b[p] !== CLOSE_BRACKET) this.malformedLine();
      return;
    }
  }

  /** Reports the line being normalized as invalid JSON (its bytes did not scan as JSON). */
  private malformedLine(): never {
    this.lineParser?.();
    throw new Error(`tsdlt's row scanner could not read a line that parses as JSON (${this.where()})`);
  }

  /** The table's rows are written as they are (no filters or contract drops to apply). */
  private canPlan(table: TableState): boolean {
    if (table.discarded || table.filters !== undefined || this.skipWrite) return false;
    if (this.rowFilters === undefined) return true;
    table.rowFilter ??= this.rowFilters.forTable(table.name) ?? null;
    return table.rowFilter === null;
  }

  /** After `dict` went the general way: learns a plan from it, unless the table has learned enough. */
  private learnPlan(
    table: TableState,
    dict: Record<string, unknown>,
    level: number,
    extend: unknown[] | undefined,
    isRoot: boolean,
  ): void {
    if (!this.planned || table.planBuilds >= MAX_PLAN_BUILDS) return;
    table.planBuilds++;
    const plan = this.buildPlan(table, dict, level, extend, isRoot);
    if (plan === undefined) return;
    table.plans.unshift(plan);
    if (table.plans.length > MAX_PLANS) table.plans.pop();
  }

  /**
   * The plan of rows like `dict` (just normalized the general way), walking it as {@link flatten}
   * does; undefined when such rows need the general path anyway.
   */
  private buildPlan(
    table: TableState,
    dict: Record<string, unknown>,
    level: number,
    extend: unknown[] | undefined,
    isRoot: boolean,
  ): RowPlan<Slot, TableState> | undefined {
    if (!this.canPlan(table) || table.idSlot.col?.type !== "text") return undefined;
    if (isRoot) {
      if (table.loadIdSlot.col?.type !== "text") return undefined;
      table.rowIdType ??= this.resolveRowIdType(table);
      if (table.rowIdType !== "random") return undefined;
    } else if (table.parentIdSlot.col?.type !== "text" || table.listIdxSlot.col?.type !== "bigint") {
      return undefined;
    }
    const used = new Set<Slot>([table.idSlot, table.loadIdSlot, table.parentIdSlot, table.listIdxSlot]);
    table.propagation ??= this.resolvePropagation(table, isRoot);
    const propagateTo: string[] = [];
    for (const { from, to } of table.propagation) {
      if (from !== table.idSlot) return undefined;
      propagateTo.push(to);
    }
    const extendNames: string[] = [];
    const extendKeys: Uint8Array[] = [];
    if (extend !== undefined) {
      for (let i = 0; i < extend.length; i += 2) {
        const slot = table.slot(extend[i] as string);
        if (typeof extend[i + 1] !== "string" || slot.col?.type !== "text" || used.has(slot))
          return undefined;
        used.add(slot);
        extendNames.push(slot.name);
        extendKeys.push(Buffer.from(slot.sepKey, "utf8"));
      }
    }
    const plan = new RowPlan<Slot, TableState>(level, extendNames, propagateTo, {
      extendKeys,
      loadIdField: Buffer.from(`${table.loadIdSlot.sepKey}${jsonString(this.loadId)}`, "utf8"),
      csvLoadId: Buffer.from(csvText(this.loadId), "utf8"),
      parentIdKey: Buffer.from(table.parentIdSlot.sepKey, "utf8"),
      listIdxKey: Buffer.from(table.listIdxSlot.sepKey, "utf8"),
      idKey: Buffer.from(table.idSlot.sepKey, "utf8"),
    });
    const stack: unknown[] = [dict, level, table.rootNode, plan.root];
    while (stack.length > 0) {
      const planned = stack.pop() as RowPlan<Slot, TableState>["root"];
      const node = stack.pop() as KeyNode;
      const lvl = stack.pop() as number;
      const obj = stack.pop() as Record<string, unknown>;
      for (const key in obj) {
        // integer-like keys are enumerated before the others, not in the order of the JSON text
        if (ARRAY_INDEX.test(key)) return undefined;
        const v = obj[key];
        const child = this.childNode(table, node, key);
        if (lvl > 0 && v !== null && typeof v === "object") {
          if (Array.isArray(v)) {
            if (!this.keepsJson(child)) {
              const listTable = this.listTableOf(table, child);
              if (plan.listTables.includes(listTable)) return undefined;
              planned.addList(key, plan.addListTable(listTable));
              continue;
            }
          } else if (isDict(v) && !this.keepsJson(child)) {
            stack.push(v, lvl - 1, child, planned.addDict(key));
            continue;
          }
        }
        const slot = child.slot;
        if (v !== null && typeof v === "object") return undefined;
        if (slot.invalidKey !== undefined || isDltName(slot.name) || used.has(slot)) return undefined;
        used.add(slot);
        planned.addLeaf(key, plan.addField(slot, slot.sepKey, slot.col));
      }
    }
    plan.seal();
    return plan;
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
    // a row dropped by a schema contract takes its nested rows with it
    if (!this.writeRow(table)) return;
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
    for (let i = 0; i < seq.length; i++) this.normalizeListItem(table, seq[i], i, level, parentId, extend);
  }

  /** Normalizes item `i` of a list into a row of nested table `table`. */
  private normalizeListItem(
    table: TableState,
    v: unknown,
    i: number,
    level: number,
    parentId: string,
    extend: unknown[] | undefined,
  ): void {
    if (v !== null && typeof v === "object") {
      if (Array.isArray(v)) {
        // a list of lists: an intermediary row whose `list` becomes the next nested table
        this.normalizeRow(table, { [LIST_KEY]: v }, level - 1, parentId, i, extend, false);
        return;
      }
      if (isDict(v)) {
        this.normalizeRow(table, v, level, parentId, i, extend, false);
        if (!table.isRoot) this.learnPlan(table, v, level, extend, false);
        return;
      }
    }
    this.beginRow();
    this.put(table.valueSlot, v);
    if (extend !== undefined) this.applyExtend(table, extend);
    this.addRowId(table, table.isRoot ? { [this.cValue]: v } : {}, parentId, i, table.isRoot);
    this.writeRow(table);
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
    const blank = key.trim().length === 0;
    // empty and whitespace-only keys are `_empty` columns; a key whose path has no fragment left
    // (`__`) names no column of its own and lands on its parent's (dlt), or nowhere at the top level
    const normKey = blank ? EMPTY_KEY : this.tryNormalize(this.normalizeKey, key);
    const frags = node.frags.length === 0 ? [normKey] : [...node.frags, normKey];
    const name = frags.length === 1 ? normKey : this.naming.makePath(...frags);
    const listFrag = blank ? "" : this.tryNormalize(this.normalizeTableKey, key);
    child = new KeyNode(frags, table.slot(name), listFrag);
    if (name.length === 0) child.slot.invalidKey = key;
    node.children ??= new Map();
    if (node.children.size < NODE_CHILDREN_LIMIT) node.children.set(key, child);
    return child;
  }

  /** `normalize(key)`, or "" when the key has no identifier left (a path of blank fragments). */
  private tryNormalize(normalize: (key: string) => string, key: string): string {
    try {
      return normalize(key);
    } catch (error) {
      if (error instanceof Error && (error as { code?: string }).code === "IDENTIFIER_INVALID") return "";
      throw error;
    }
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
    this.listTableOf(table, node);
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

  /** The nested table of the lists found at `node` of `table`'s rows. */
  private listTableOf(table: TableState, node: KeyNode): TableState {
    node.listTable ??= this.nestedTable(table, [...node.frags.slice(0, -1), node.listFrag]);
    return node.listTable;
  }

  private nestedTable(parent: TableState, frags: readonly string[]): TableState {
    const fragments = [...parent.fragments, ...frags];
    return this.tableState(this.naming.makePath(...fragments), parent.name, fragments);
  }

  private tableState(name: string, parentName: string | undefined, fragments: readonly string[]): TableState {
    let table = this.tables.get(name);
    if (table === undefined) {
      const known = this.knownParents;
      const parent = known?.has(name) ? known.get(name) : parentName;
      table = new TableState(this.schema, this.names, name, parent, fragments);
      this.tables.set(name, table);
      this.log?.tablesCreated.push([name, parent ?? null]);
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
      rowId = nestedRowDigest(parentId as string, table.idInfix, listIdx);
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
        return fastDigest128(sortedJson(content));
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
        return fastDigest128(sortedJson(key));
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
      setPropagated(out, to, this.rowValues[from.index]);
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

  /**
   * Encodes the row in the buffer as a JSON line and writes it. New columns are committed after the
   * table's schema contract allowed them. Returns false when the row was dropped (by the contract:
   * its nested rows are dropped too).
   */
  private writeRow(table: TableState): boolean {
    if (table.discarded) return false;
    if (this.rowFilters !== undefined) {
      table.rowFilter ??= this.rowFilters.forTable(table.name) ?? null;
      if (table.rowFilter !== null && !this.applyRowFilter(table.rowFilter)) return false;
    }
    if (table.filters !== undefined && !this.applyFilters(table)) return false;
    let line = this.encodeRow(table);
    if (this.pendingCount > 0) {
      const verdict = this.commitPending(table);
      if (verdict === "drop-row") return false;
      if (verdict === "reencode") {
        if (!this.applyFilters(table)) return false;
        line = this.encodeRow(table);
      }
    }
    if (this.dropRow) return false;
    if (this.skipWrite) return true;
    const writer = this.writerOf(table);
    writer.write(this.csv ? this.csvRecord(table, writer) : line);
    table.rows++;
    return true;
  }

  /**
   * Encodes the row buffer: returns the JSON line, or (`csv`) keeps the fields for
   * {@link csvRecord} and returns "". New columns go to `pending`.
   */
  private encodeRow(table: TableState): string {
    this.dropRow = false;
    const csv = this.csv;
    let line = "{";
    let first = true;
    let fields = 0;
    const slots = this.rowSlots;
    const values = this.rowValues;
    for (let i = 0; i < this.rowLength; i++) {
      const slot = slots[i] as Slot;
      const v = values[i];
      if (v === null || v === undefined) {
        this.handleNull(table, slot);
        continue;
      }
      if (v === DROPPED) continue;
      const text = this.encodeField(table, slot, v);
      if (text.length === 0) continue;
      if (csv) {
        this.csvSlots[fields] = this.target;
        this.csvTexts[fields] = text;
        fields++;
      } else {
        line += first ? this.target.key : this.target.sepKey;
        line += text;
        first = false;
      }
    }
    this.csvLength = fields;
    return csv ? "" : `${line}}`;
  }

  /**
   * The encoded row as a record of the open `csv` file, whose header is fixed: when the row has a
   * column the header lacks, the writer starts a new file (whose header has every complete column of
   * the table, the row's new ones committed by now).
   */
  private csvRecord(table: TableState, writer: JobWriter): string {
    writer.ensureOpen();
    const record = this.csvFields(writer);
    if (record !== undefined) return record;
    writer.rotate();
    const retried = this.csvFields(writer);
    if (retried !== undefined) return retried;
    throw this.error(
      "NORMALIZE_FAILED",
      `A row of table \`${table.name}\` has a column that is not among the table's complete columns, so it has no place in the header of the csv job file. This is a bug in tsdlt's normalizer; normalize with \`fileFormat: "jsonl"\` to go on.`,
      table.name,
      undefined,
    );
  }

  /**
   * Joins the fields kept by {@link encodeRow} in the header order of the open file, with empty fields
   * (NULL) for the columns the row does not have; undefined when a field's column is not in the header.
   * Fields usually come in header order. Otherwise (a column that became complete after the table's
   * first rows is at the end of the header but in the middle of a row, like `closed_at` that was null
   * at first) they are insertion-sorted by position, and of two fields of one column the later wins,
   * as in JSON.
   */
  private csvFields(writer: JobWriter): string | undefined {
    const generation = writer.generation;
    const slots = this.csvSlots;
    const count = this.csvLength;
    const order = this.csvOrder;
    let inOrder = true;
    for (let i = 0; i < count; i++) {
      const slot = slots[i] as Slot;
      if (slot.csvGeneration !== generation) {
        slot.csvPosition = writer.positionOf(slot.name);
        slot.csvGeneration = generation;
      }
      const position = slot.csvPosition;
      if (position < 0) return undefined;
      let j = i;
      while (j > 0 && (slots[order[j - 1] as number] as Slot).csvPosition > position) {
        order[j] = order[j - 1] as number;
        j--;
      }
      order[j] = i;
      if (j < i || (i > 0 && (slots[order[i - 1] as number] as Slot).csvPosition === position))
        inOrder = false;
    }
    const texts = this.csvTexts;
    let record = "";
    let last = -1;
    for (let k = 0; k < count; k++) {
      const i = inOrder ? k : (order[k] as number);
      const position = (slots[i] as Slot).csvPosition;
      // the same column again: the later field (next in the stable order) wins
      if (!inOrder && k + 1 < count && (slots[order[k + 1] as number] as Slot).csvPosition === position) {
        continue;
      }
      record += commas(last < 0 ? position : position - last);
      record += texts[i] as string;
      last = position;
    }
    return record + commas(writer.columnCount - 1 - Math.max(last, 0));
  }

  /**
   * Removes the fields the table's row `filters` exclude from the row buffer (REFERENCE §2.11).
   * Returns false when no field is left: the row and its nested rows are dropped.
   */
  private applyRowFilter(filter: TableRowFilter): boolean {
    const slots = this.rowSlots;
    let kept = 0;
    for (let i = 0; i < this.rowLength; i++) {
      const slot = slots[i] as Slot;
      slot.rowFiltered ??= filter.excludes(slot.name);
      if (slot.rowFiltered) this.rowValues[i] = DROPPED;
      else kept++;
    }
    return kept > 0;
  }

  /**
   * Applies the table's contract filters to the row buffer (dlt checks the names present in the
   * row, null values included): false when a `discard_row` column is present.
   */
  private applyFilters(table: TableState): boolean {
    const filters = table.filters;
    if (filters === undefined) return true;
    const slots = this.rowSlots;
    for (let i = 0; i < this.rowLength; i++) {
      // a field removed by the row filters is not in the row
      if (this.rowValues[i] === DROPPED) continue;
      const mode = filters.get(slots[i] as Slot);
      if (mode === "discard_row") return false;
      if (mode === "discard_value") this.rowValues[i] = DROPPED;
    }
    return true;
  }

  /**
   * Checks the row's new columns against the table's schema contract (dlt's
   * `apply_schema_contract`) and commits the allowed ones to the schema.
   */
  private commitPending(table: TableState): Verdict {
    const count = this.pendingCount;
    this.pendingCount = 0;
    let verdict: Verdict = "keep";
    table.contract ??= resolveContract(this.schema, table.name, table.parentName);
    const contract = table.contract;
    if (contract !== EVOLVE_ALL) {
      const isNew = !table.hasCompleteColumn;
      if (isNew && contract.tables !== "evolve") {
        if (contract.tables === "freeze") throw this.contractViolation(table, "tables", this.pending[0]);
        table.discarded = true;
        return "drop-row";
      }
      const columnMode = isNew || table.evolveColumnsOnce ? "evolve" : contract.columns;
      const dataMode = contract.data_type;
      for (let i = 0; i < count; i++) {
        const p = this.pending[i] as PendingColumn;
        // dlt's own columns may always be added
        if (isDltName(p.slot.name)) continue;
        const entity: ContractEntity = p.isVariant ? "data_type" : "columns";
        const mode = p.isVariant ? dataMode : columnMode;
        if (mode === "evolve") continue;
        if (mode === "freeze") throw this.contractViolation(table, entity, p);
        table.filters ??= new Map();
        table.filters.set(p.slot, mode);
        verdict = "reencode";
      }
    }
    for (let i = 0; i < count; i++) {
      const p = this.pending[i] as PendingColumn;
      if (table.filters?.has(p.slot) !== true) this.addColumn(table, p.slot, p.column);
    }
    return verdict;
  }

  private addPending(
    slot: Slot,
    column: CompleteColumnSchema,
    isVariant: boolean,
    from: DataType,
    base: Slot | undefined,
  ): void {
    const i = this.pendingCount++;
    const p = this.pending[i];
    if (p === undefined) {
      this.pending[i] = { slot, column, isVariant, from, base };
    } else {
      p.slot = slot;
      p.column = column;
      p.isVariant = isVariant;
      p.from = from;
      p.base = base;
    }
  }

  private writerOf(table: TableState): JobWriter {
    this.ensureTableInSchema(table);
    table.writer ??= new JobWriter({
      pkg: this.output,
      tableName: table.name,
      fileFormat: this.fileFormat,
      columns: this.csv ? () => this.completeColumnNames(table) : undefined,
      // a worker's files are reported: the main thread removes the ones left without rows
      dropEmptyOnRotate: this.log === undefined,
      fileMaxItems: this.fileMaxItems,
      fileMaxBytes: this.fileMaxBytes,
    });
    return table.writer;
  }

  /** The table's complete columns (with a data type), in schema order: a `csv` file's header. */
  private completeColumnNames(table: TableState): string[] {
    const names: string[] = [];
    const columns = this.schema.tables[table.name]?.columns ?? {};
    for (const name in columns) if (columns[name]?.data_type !== undefined) names.push(name);
    return names;
  }

  /**
   * The text of the field of value `raw` for column `slot`: a JSON fragment (`jsonl`) or a CSV field,
   * "" when a contract filter dropped it. Sets {@link target} to the slot that receives it.
   */
  private encodeField(table: TableState, slot: Slot, raw: unknown): string {
    let v = raw;
    let from: DataType;
    switch (typeof raw) {
      case "string":
        if (isPuaEncoded(raw)) {
          v = decodeTyped(raw);
          from = valueType(v);
        } else {
          const col = slot.col;
          if (col !== undefined) {
            if (col.type === "text") {
              this.target = slot;
              return this.csv ? csvText(raw) : jsonString(raw);
            }
            // fast path: already the canonical UTC form a timestamp column writes
            if (col.type === "timestamp" && col.timezone && !this.noCoercion && isCanonicalUtc(raw)) {
              this.target = slot;
              return this.csv ? raw : `"${raw}"`;
            }
          }
          from = "text";
        }
        break;
      case "number": {
        // fast paths: a number into a column of its kind renders as the number itself
        const col = slot.col;
        if (col !== undefined) {
          if (col.type === "bigint" && Number.isSafeInteger(raw)) {
            this.target = slot;
            return String(raw);
          }
          // (an integer in a double column is a coercion: `relational_no_coercion` makes it a variant)
          if (col.type === "double" && Number.isFinite(raw) && !(this.noCoercion && Number.isInteger(raw))) {
            this.target = slot;
            return String(raw);
          }
        }
        from = Number.isInteger(raw) ? "bigint" : "double";
        break;
      }
      case "boolean":
        if (slot.col?.type === "bool") {
          this.target = slot;
          return raw ? "true" : "false";
        }
        from = "bool";
        break;
      default:
        from = valueType(raw);
    }
    const col = slot.col;
    if (col === undefined) return this.encodeNewColumn(table, slot, from, v);
    if (this.noCoercion && from !== col.type) return this.encodeVariant(table, slot, from, v);
    const fragment = encodeAs(col, from, v);
    if (fragment === undefined) {
      if (from === "bigint" && col.type === "bigint") throw this.outOfInt64(table, slot, v);
      return this.encodeVariant(table, slot, from, v);
    }
    this.target = slot;
    return this.csv ? csvFromJson(col.type, fragment) : fragment;
  }

  /**
   * A value that does not fit its column goes to the variant column `<col>__v_<type>`. Returns ""
   * when a contract filter drops the value (or the row: `dropRow`).
   */
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
    const filter = table.filters?.get(variant);
    if (filter !== undefined) {
      if (filter === "discard_row") this.dropRow = true;
      return "";
    }
    const col = variant.col;
    if (col === undefined) return this.encodeNewColumn(table, variant, from, v, slot);
    const fragment = this.noCoercion && from !== col.type ? undefined : encodeAs(col, from, v);
    if (fragment === undefined) {
      if (from === "bigint" && col.type === "bigint") throw this.outOfInt64(table, variant, v);
      throw this.cannotCoerce(table, variant, from, col.type, v);
    }
    this.target = variant;
    return this.csv ? csvFromJson(col.type, fragment) : fragment;
  }

  /**
   * Infers a new column (or completes a declared one) from its first non-null value; `base` is the
   * column a variant is made for. The column is committed after the row (see {@link commitPending}).
   */
  private encodeNewColumn(
    table: TableState,
    slot: Slot,
    from: DataType,
    v: unknown,
    base: Slot | undefined = undefined,
  ): string {
    if (slot.invalidKey !== undefined) throw this.invalidKey(table, slot.invalidKey);
    const isVariant = base !== undefined;
    const type = this.inference.inferType(v, from, slot.name, isVariant);
    const column = this.newColumn(slot, type, isVariant);
    const fragment = this.noCoercion && from !== type ? undefined : encodeAs(columnInfo(column), from, v);
    if (fragment === undefined) {
      if (from === "bigint" && type === "bigint") throw this.outOfInt64(table, slot, v);
      if (isVariant) throw this.cannotCoerce(table, slot, from, type, v);
      return this.encodeVariant(table, slot, from, v);
    }
    this.addPending(slot, column, isVariant, from, base);
    this.target = slot;
    return this.csv ? csvFromJson(type, fragment) : fragment;
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
    const logged = this.log === undefined ? undefined : structuredClone(column);
    this.schema.updateTable({ name: table.name, columns: { [slot.name]: column } });
    const stored = this.schema.tables[table.name]?.columns[slot.name] ?? column;
    if (logged !== undefined) {
      this.log?.changes.push({
        kind: "column",
        table: table.name,
        column: logged,
        stored: structuredClone(stored),
      });
    }
    slot.col = columnInfo(stored as CompleteColumnSchema);
    slot.declared = undefined;
    table.added.add(slot.name);
    table.hasCompleteColumn = true;
  }

  private ensureTableInSchema(table: TableState): void {
    if (table.inSchema) return;
    const partial: TableSchema =
      table.parentName === undefined
        ? { name: table.name, columns: {}, write_disposition: "append", resource: table.name }
        : { name: table.name, columns: {}, parent: table.parentName };
    this.log?.changes.push({ kind: "table", table: structuredClone(partial) });
    this.schema.updateTable(partial);
    table.inSchema = true;
  }

  private handleNull(table: TableState, slot: Slot): void {
    if (slot.invalidKey !== undefined) throw this.invalidKey(table, slot.invalidKey);
    const col = slot.col;
    if (col !== undefined) {
      if (!col.nullable) throw this.nullError(table, slot);
      return;
    }
    if (slot.declared === undefined && !this.inference.newColumnHints(slot.name).nullable) {
      throw this.nullError(table, slot);
    }
    table.nullOnly.add(slot.name);
    const log = this.log;
    if (log !== undefined && !log.nullSlots.has(slot)) {
      log.nullSlots.add(slot);
      log.nulls.push([table.name, slot.name]);
    }
  }

  // ---------------------------------------------------------------- errors

  private where(): string {
    return `load \`${this.loadId}\`, file \`${this.fileName}\`, line ${this.line}`;
  }

  private error(
    code: TsdltErrorCode,
    message: string,
    table: string,
    column: string | undefined,
  ): NormalizeError {
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

  private cannotCoerce(
    table: TableState,
    slot: Slot,
    from: DataType,
    to: DataType,
    v: unknown,
  ): NormalizeError {
    return this.error(
      "CANNOT_COERCE_COLUMN",
      `The \`${from}\` value ${preview(v)} cannot be coerced into column \`${slot.name}\` of table \`${table.name}\` with data type \`${to}\`, and no further variant column can be created. The load package is not loaded. Clean the data or declare a type that fits all values.`,
      table.name,
      slot.name,
    );
  }

  /** An integer beyond int64 for a `bigint` column: no type of the value fits, so no variant helps. */
  private outOfInt64(table: TableState, slot: Slot, v: unknown): NormalizeError {
    return this.error(
      "CANNOT_COERCE_COLUMN",
      `The integer ${preview(v)} for column \`${slot.name}\` of table \`${table.name}\` is outside the range of data type \`bigint\` (64-bit: -9223372036854775808 to 9223372036854775807), so no destination can store it. The load package is not loaded. Declare the column as \`decimal\`, \`wei\`, \`double\` or \`text\` (the \`columns\` hint), or, for a new column, add the \`large_integer\` detection to the schema's settings.`,
      table.name,
      slot.name,
    );
  }

  private invalidKey(table: TableState, key: string): NormalizeError {
    return this.error(
      "IDENTIFIER_INVALID",
      `The key ${JSON.stringify(key)} of a row of table \`${table.name}\` normalizes to no column name (it has no fragment left between the \`${this.naming.pathSeparator}\` separators). Rename the key before it reaches the pipeline.`,
      table.name,
      key,
    );
  }

  /** A `freeze` contract violation, naming the table, column, entity, mode and the value's type. */
  private contractViolation(
    table: TableState,
    entity: ContractEntity,
    p: PendingColumn | undefined,
  ): NormalizeError {
    const fix =
      "Declare the change up front (e.g. with the `columns` hint), or relax the contract with `schemaContract` (`evolve`, or `discard_value` / `discard_row` to drop such data).";
    let message: string;
    let column: string | undefined;
    if (entity === "tables") {
      const first =
        p === undefined ? "" : ` (its first row has a \`${p.from}\` value in column \`${p.slot.name}\`)`;
      message = `Can't add table \`${table.name}\`: the schema contract has mode \`freeze\` for \`tables\`, and a row arrived for this new table${first}. ${fix}`;
    } else if (entity === "columns" && p !== undefined) {
      column = p.slot.name;
      message = `Can't add column \`${column}\` to table \`${table.name}\`: the schema contract has mode \`freeze\` for \`columns\`, and a row brought a \`${p.from}\` value for this new column. ${fix}`;
    } else {
      column = p?.slot.name;
      const base = p?.base;
      const existing = base?.col === undefined ? "" : ` (\`${base.col.type}\`)`;
      message = `Can't add variant column \`${column}\` to table \`${table.name}\`: a \`${p?.from}\` value does not fit column \`${base?.name}\`${existing}, and the schema contract has mode \`freeze\` for \`data_type\`. ${fix}`;
    }
    return this.error("SCHEMA_CONTRACT_VIOLATION", message, table.name, column);
  }
}

/** Characters `JSON.stringify` escapes in a string (lone surrogates too; paired ones go the slow way). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters JSON.stringify escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(s)`, without copying strings that need no escapes. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * Sets the propagated value of column `to` in `extend` (`[column, value, ...]`, the values a row hands
 * to the rows of its nested tables), replacing the one an outer row handed down.
 */
function setPropagated(extend: unknown[], to: string, value: unknown): void {
  let i = 0;
  while (i < extend.length && extend[i] !== to) i += 2;
  extend[i] = to;
  extend[i + 1] = value;
}

/** A key V8 enumerates as an array index (before the other keys of an object). */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** `JSON.parse(text)`, or undefined when the text is not JSON. */
function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short rendering of a value for error messages (JSON, at most 80 characters). */
function preview(v: unknown): string {
  const text = jsonOf(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Room for the characters of a candidate canonical timestamp. */
const utcText = new Uint8Array(27);

/**
 * True for `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z` with valid fields: the exact text a timezone-aware
 * timestamp column writes, so it can be copied without parsing.
 */
function isCanonicalUtc(s: string): boolean {
  const len = s.length;
  if (len < 20 || len > 27) return false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return false;
    utcText[i] = c;
  }
  return isCanonicalUtcBytes(utcText, 0, len);
}
