/**
 * The extract stage: runs resources (or a source) and streams their items into an extracted load
 * package (`normalize/extracted/<load_id>/`): typed-jsonl files per table (rotated by item count),
 * the schema with the resources' table hints, the package state, and — when the caller says the
 * pipeline state changed — the `_dlt_pipeline_state` row, so data and cursors commit together.
 *
 * State: the caller passes the `sources` object of its pipeline state document (a copy). Resources
 * read and write it through {@link current} and their incrementals while they run; the caller keeps
 * the copy only when extract succeeds. The result says whether the source's state changed.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import {
  type Collector,
  createLoadId,
  ExtractError,
  formatJobFileName,
  type LoadPackage,
  type LoadPackageStateDoc,
  type Logger,
  type NamingConvention,
  newFileId,
  type PackageStorage,
  PIPELINE_STATE_TABLE_NAME,
  pipelineStateTable,
  type Schema,
  type SourceState,
  silentLogger,
  type TableSchema,
  toTypedJson,
} from "@tsdlt/core";
import { describe } from "./cursor.js";
import { DEFAULT_MAX_PARALLEL_ITEMS, Engine, type NextItemMode, type PipeNode } from "./engine.js";
import { ExtractContracts } from "./extract-contracts.js";
import { hintConflict, tableSchemaFromHints } from "./hints.js";
import { encodeItems } from "./item-encoder.js";
import type { DltResource } from "./resource.js";
import type { DltSource } from "./source.js";

/** Default number of items buffered per table before a write (dlt's `buffer_max_items`). */
export const DEFAULT_BUFFER_MAX_ITEMS = 5000;

/**
 * Default size at which a table's extracted file is closed and a new one started: 32 MiB, so a large
 * extract leaves several files that normalize can spread over its workers.
 */
export const DEFAULT_EXTRACT_FILE_MAX_BYTES: number = 32 * 2 ** 20;

/** Options of {@link extractResources}. */
export interface ExtractOptions {
  /**
   * The resources to extract. Selected ones are written; unselected ones run only when they feed a
   * selected transformer. Transformers find their parent here by name (else use their own `dataFrom`).
   */
  readonly resources: readonly DltResource[];
  /** The schema the resources write into; table hints are merged into it (mutated). */
  readonly schema: Schema;
  /** Naming convention for table and column names in hints. */
  readonly naming: NamingConvention;
  /** Storage of extracted packages (`<working_dir>/normalize`). */
  readonly storage: PackageStorage;
  readonly loadId?: string;
  /**
   * `state.sources` of the pipeline state document, mutated in place while resources run (user
   * state, incremental cursors). Pass a copy and keep it only when extract succeeds. Omitted: a
   * throw-away object (incrementals start from their `initialValue`).
   */
  readonly sources?: Record<string, SourceState>;
  /** Key of the resources' source in {@link ExtractOptions.sources}. @default `schema.name` */
  readonly sourceName?: string;
  /**
   * Called after all resources finished, when the state holds this run's changes; returns the
   * `_dlt_pipeline_state` row to store with the package, or undefined when the state did not change.
   */
  readonly stateRow?: () => Record<string, unknown> | undefined;
  /** Extra fields for `load_package_state.json`. */
  readonly packageState?: Partial<LoadPackageStateDoc> | (() => Partial<LoadPackageStateDoc>);
  readonly bufferMaxItems?: number;
  /** Start a new file after this many items per table. @default no rotation */
  readonly fileMaxItems?: number;
  /** Start a new file for a table once it reaches this many bytes. @default {@link DEFAULT_EXTRACT_FILE_MAX_BYTES} */
  readonly fileMaxBytes?: number;
  /** Receives a counter per table (items written) while resources run. */
  readonly collector?: Collector;
  /**
   * Told of every job file closed while the resources still run, so that a caller can start on the
   * files early (`pipeline.run()` normalizes them while extraction waits on I/O). Files are then also
   * closed by age (see {@link ExtractFileListener.rotateAfterMs}).
   */
  readonly fileListener?: ExtractFileListener;

  /** Most deferred calls / async transformer calls running at once. @default {@link DEFAULT_MAX_PARALLEL_ITEMS} */
  readonly maxParallelItems?: number;
  /**
   * How items are taken from several resources (dlt's `[extract] next_item_mode`): `round_robin`
   * runs them side by side (independent REST resources fetch concurrently), `fifo` one after another.
   * @default "round_robin"
   */
  readonly nextItemMode?: NextItemMode;
  readonly logger?: Logger;
}

/** A job file extract closed while its resources still run (in the package's temporary folder). */
export interface ClosedJobFile {
  readonly table: string;
  readonly fileName: string;
  readonly path: string;
}

/** See {@link ExtractOptions.fileListener}. */
export interface ExtractFileListener {
  /**
   * A table's open file is closed at the next batch boundary once it has been open this long, so
   * that slow resources hand over their items in bounded slices of time.
   */
  readonly rotateAfterMs: number;
  /**
   * A file was closed and will not change. Return false to stop closing files by age (the listener
   * has no use for more of them); files are then closed by size only.
   */
  fileClosed(file: ClosedJobFile): boolean;
  /**
   * Awaited before the package is committed (its files move) or discarded (its files are deleted):
   * once it resolves, the listener must not open the reported paths any more.
   */
  beforeCommit(): Promise<void>;
}

/** Options of {@link extractSource}: {@link ExtractOptions} with a source instead of resources. */
export interface ExtractSourceOptions extends Omit<ExtractOptions, "resources" | "sourceName"> {
  readonly source: DltSource;
}

/** What one extract produced. */
export interface ExtractResult {
  readonly loadId: string;
  /** The committed extracted package. */
  readonly package: LoadPackage;
  /** Items written per table. */
  readonly itemCounts: Record<string, number>;
  /** Resources that were extracted (the selected ones), in order. */
  readonly resourceNames: readonly string[];
  /** Tables each extracted resource wrote or declared. */
  readonly resourceTables: Readonly<Record<string, readonly string[]>>;
  /** Key of the source in the state (`sources[sourceName]`). */
  readonly sourceName: string;
  /** True when `sources[sourceName]` differs from what it was before the extract. */
  readonly stateChanged: boolean;
}

/**
 * Items encoded per `JSON.stringify` call. Small enough that the text (about 100 KB for typical rows)
 * is an ordinary young-generation string: V8 puts larger strings straight into the old generation,
 * where each one stays until the next full GC, growing the heap.
 */
const ENCODE_CHUNK_ITEMS = 128;

/**
 * Writer of one table's typed-jsonl files. Every line holds up to `bufferMaxItems` items (one JSON
 * array, dlt's buffered batch). Items are encoded as they arrive, a page at a time, and the text goes
 * straight to the file, so neither the items nor the line are held in memory until the line is full:
 * the items die young and the process stays small however large the batches are.
 */
class TableWriter {
  readonly table: string;
  readonly #pkg: LoadPackage;
  readonly #bufferMaxItems: number;
  readonly #fileMaxItems: number;
  readonly #fileMaxBytes: number;
  #bytesInFile = 0;
  /** Items of the current (unfinished) line. */
  #inLine = 0;
  #fd: number | undefined;
  #itemsInFile = 0;
  /** Name of the open file. */
  #fileName = "";
  /** When the open file was created (`performance.now()`). */
  #openedAt = 0;
  /** Reported when a file is closed while the resources run; cleared when it wants no more. */
  #listener: ExtractFileListener | undefined;
  count = 0;

  constructor(
    table: string,
    pkg: LoadPackage,
    bufferMaxItems: number,
    fileMaxItems: number,
    fileMaxBytes: number,
    listener: ExtractFileListener | undefined,
  ) {
    this.table = table;
    this.#pkg = pkg;
    this.#bufferMaxItems = bufferMaxItems;
    this.#fileMaxItems = fileMaxItems;
    this.#fileMaxBytes = fileMaxBytes;
    this.#listener = listener;
  }

  write(items: readonly unknown[], resourceName: string): void {
    let start = 0;
    while (start < items.length) {
      const room = Math.min(
        this.#bufferMaxItems - this.#inLine,
        this.#fileMaxItems - this.#itemsInFile - this.#inLine,
      );
      const n = Math.max(1, Math.min(room, items.length - start, ENCODE_CHUNK_ITEMS));
      const part = start === 0 && n === items.length ? items : items.slice(start, start + n);
      const json = encodeItems(part, this.table, resourceName);
      // `[a,b]` opens a line as `[a,b`, `[c,d]` continues it as `,<TAB>c,d`; flush() closes it. The
      // tab (JSON whitespace, never unescaped inside a string) lets normalize parse chunk by chunk.
      const text = this.#inLine === 0 ? json.slice(0, -1) : `,\t${json.slice(1, -1)}`;
      this.#bytesInFile += writeSync(this.#open(), text);
      this.#inLine += n;
      this.count += n;
      start += n;
      if (this.#inLine >= this.#bufferMaxItems || this.#itemsInFile + this.#inLine >= this.#fileMaxItems) {
        this.flush();
      }
    }
    const listener = this.#listener;
    if (listener !== undefined && this.#fd !== undefined) {
      if (performance.now() - this.#openedAt >= listener.rotateAfterMs) {
        this.flush();
        this.close();
      }
    }
  }

  /** Opens the current file, creating it when none is open; returns its descriptor. */
  #open(): number {
    if (this.#fd === undefined) {
      this.#fileName = formatJobFileName({
        tableName: this.table,
        fileId: newFileId(),
        retryCount: 0,
        fileFormat: "typed-jsonl",
        compressed: false,
      });
      this.#fd = openSync(this.#pkg.jobPath("new_jobs", this.#fileName), "w");
      this.#openedAt = performance.now();
    }
    return this.#fd;
  }

  /**
   * Writes an empty job file when the table received no items, so that loading a `replace` table
   * with no new rows still empties it (dlt's `_write_empty_files`).
   */
  writeEmptyFileIfNoItems(): void {
    if (this.count === 0) this.#open();
  }

  /** Ends the open line; rotates the file when it is full. */
  flush(): void {
    if (this.#inLine === 0) return;
    this.#bytesInFile += writeSync(this.#open(), "]\n");
    this.#itemsInFile += this.#inLine;
    this.#inLine = 0;
    if (this.#itemsInFile >= this.#fileMaxItems || this.#bytesInFile >= this.#fileMaxBytes) this.close();
  }

  /** Closes the open file; while the resources run, the listener is told (unless `final`). */
  close(final = false): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
    this.#itemsInFile = 0;
    this.#bytesInFile = 0;
    const listener = this.#listener;
    if (listener === undefined || final || this.#inLine > 0) return;
    const fileName = this.#fileName;
    const keep = listener.fileClosed({
      table: this.table,
      fileName,
      path: this.#pkg.jobPath("new_jobs", fileName),
    });
    if (!keep) this.#listener = undefined;
  }
}

function snapshot(value: unknown): string {
  return value === undefined ? "" : toTypedJson(value);
}

/**
 * Applies a source's schema-level options to `schema`: `maxTableNesting` → normalizer config
 * `max_nesting`, `rootKey` → `root_key_propagation`, `schemaContract` → `settings.schema_contract`.
 */
export function applySourceSettings(source: DltSource, schema: Schema): void {
  if (source.maxTableNesting !== undefined || source.rootKey !== undefined) {
    const config = { ...schema.normalizers.json.config };
    if (source.maxTableNesting !== undefined) config.max_nesting = source.maxTableNesting;
    if (source.rootKey !== undefined) config.root_key_propagation = source.rootKey;
    schema.normalizers.json = { ...schema.normalizers.json, config };
  }
  if (source.schemaContract !== undefined) schema.settings.schema_contract = source.schemaContract;
}

/**
 * Extracts a {@link DltSource}: waits for an async source function, applies the source's schema
 * options to `schema` (which should be the schema named {@link DltSource.name}), and extracts its
 * resources with the state kept under `sources[source.name]`.
 */
export async function extractSource(options: ExtractSourceOptions): Promise<ExtractResult> {
  const { source, ...rest } = options;
  await source.resolve();
  applySourceSettings(source, options.schema);
  return extractResources({ ...rest, resources: Object.values(source.resources), sourceName: source.name });
}

/**
 * Runs `resources` and writes their items into a new extracted package. On failure nothing is
 * committed: the temporary package is removed and the error is rethrown (an {@link ExtractError}
 * naming the resource; user errors are wrapped with code `EXTRACT_RESOURCE_FAILED`). The `sources`
 * state object has been mutated by then: discard it.
 */
export async function extractResources(options: ExtractOptions): Promise<ExtractResult> {
  const logger = options.logger ?? silentLogger;
  const loadId = options.loadId ?? createLoadId();
  const { naming, schema, storage } = options;
  const sources = options.sources ?? {};
  const sourceName = options.sourceName ?? schema.name;
  const before = snapshot(sources[sourceName]);
  const writers = new Map<string, TableWriter>();
  const bufferMaxItems = options.bufferMaxItems ?? DEFAULT_BUFFER_MAX_ITEMS;
  const fileMaxItems = options.fileMaxItems ?? Number.POSITIVE_INFINITY;
  const fileMaxBytes = options.fileMaxBytes ?? DEFAULT_EXTRACT_FILE_MAX_BYTES;
  const collector = options.collector;
  /** Per table: the resource that first declared it in this extract and its hints. */
  const declared = new Map<string, { resource: string; table: TableSchema }>();
  /** Per node: tables it declared. */
  const nodeTables = new Map<PipeNode, Set<string>>();
  const contracts = new ExtractContracts(schema);

  const writerFor = (table: string, pkg: LoadPackage): TableWriter => {
    let writer = writers.get(table);
    if (!writer) {
      writer = new TableWriter(table, pkg, bufferMaxItems, fileMaxItems, fileMaxBytes, options.fileListener);
      writers.set(table, writer);
    }
    return writer;
  };

  /** Declares `table` for `node` (once); false when its schema contract discarded it (drop the items). */
  const declare = (node: PipeNode, table: string, withItems: boolean): boolean => {
    let tables = nodeTables.get(node);
    if (tables === undefined) {
      tables = new Set();
      nodeTables.set(node, tables);
    }
    if (tables.has(table)) return !contracts.isDiscarded(table);
    const resource = node.resource;
    const hint = tableSchemaFromHints(
      resource.hints,
      table,
      resource.name,
      naming,
      node.incremental?.cursorColumn,
    );
    const first = declared.get(table);
    if (first !== undefined && first.resource !== resource.name) {
      const conflict = hintConflict(first.table, hint);
      if (conflict !== undefined) {
        const [what, a, b] = conflict;
        throw new ExtractError(
          `Resources \`${first.resource}\` and \`${resource.name}\` both load table \`${table}\` with different hints: ${what} is ${a} in \`${first.resource}\` but ${b} in \`${resource.name}\`. Give them the same hints or different table names (tableName).`,
          { code: "INVALID_ARGUMENT", table },
        );
      }
    } else if (first === undefined) {
      declared.set(table, { resource: resource.name, table: hint });
    }
    const verdict = contracts.check(hint, resource.name, withItems);
    if (verdict.kind === "defer") return true;
    tables.add(table);
    if (verdict.kind === "discard") return false;
    schema.updateTable(verdict.table);
    return true;
  };

  const tableOf = (node: PipeNode, item: unknown): string => {
    const hint = node.resource.hints.tableName;
    if (typeof hint !== "function") return naming.normalizeTablesPath(hint ?? node.resource.name);
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new ExtractError(
        `Resource \`${node.resource.name}\` yielded ${describe(item)} as an item, but its tableName function needs objects to pick a table. Yield objects (rows), or pages (arrays) of objects.`,
        { code: "EXTRACT_INVALID_DATA" },
      );
    }
    const name = hint(item as Record<string, unknown>);
    if (typeof name !== "string" || name === "") {
      throw new ExtractError(
        `Resource \`${node.resource.name}\`: its tableName function returned ${describe(name)} for ${describe(item)}; it must return a table name.`,
        { code: "EXTRACT_INVALID_DATA" },
      );
    }
    return naming.normalizeTablesPath(name);
  };

  const pkg = storage.createTempPackage(loadId);
  const engine = new Engine({
    state: { sources, sourceName, persistent: true },
    logger,
    maxParallelItems: options.maxParallelItems ?? DEFAULT_MAX_PARALLEL_ITEMS,
    nextItemMode: options.nextItemMode ?? "round_robin",
    hooks: {
      write(node, page) {
        const name = node.resource.name;
        if (typeof node.resource.hints.tableName !== "function") {
          const table = tableOf(node, undefined);
          if (!declare(node, table, true)) return;
          writerFor(table, pkg).write(page, name);
          collector?.update(table, { inc: page.length });
          return;
        }
        for (const item of page) {
          const table = tableOf(node, item);
          if (!declare(node, table, true)) continue;
          writerFor(table, pkg).write([item], name);
          collector?.update(table, { inc: 1 });
        }
      },
      incrementalBound(node) {
        // the cursor column of tables declared before the incremental was bound gets its hint now
        const column = node.incremental?.cursorColumn;
        const tables = nodeTables.get(node);
        if (column === undefined || tables === undefined) return;
        const name = naming.normalizePath(column);
        for (const table of tables) {
          if (contracts.isDiscarded(table)) continue;
          schema.updateTable({ name: table, columns: { [name]: { name, incremental: true } } });
        }
      },
    },
  });

  try {
    engine.plan(options.resources);
    const extracted = engine.writingNodes;
    // static tables are declared up front: a resource that yields nothing still hints its table
    for (const node of extracted) {
      if (typeof node.resource.hints.tableName !== "function") declare(node, tableOf(node, undefined), false);
    }
    for (const node of extracted) logger.debug(`extracting resource ${node.resource.name}`);
    await engine.run();
    for (const writer of writers.values()) writer.flush();
    // a replace resource that yielded nothing still replaces its table's rows (with none), but only
    // for tables that already hold data; new tables are not created empty
    for (const node of extracted) {
      if (typeof node.resource.hints.tableName === "function") continue;
      const table = tableOf(node, undefined);
      const stored = schema.getTable(table);
      if (stored?.write_disposition === "replace" && stored["x-normalizer"]?.["seen-data"] === true) {
        writerFor(table, pkg).writeEmptyFileIfNoItems();
      }
    }
    const stateRow = options.stateRow?.();
    if (stateRow) {
      schema.updateTable(pipelineStateTable());
      const writer = writerFor(PIPELINE_STATE_TABLE_NAME, pkg);
      writer.write([stateRow], PIPELINE_STATE_TABLE_NAME);
      writer.flush();
    }
    for (const writer of writers.values()) writer.close(true);
    await options.fileListener?.beforeCommit();

    schema.bumpVersion();
    pkg.writeSchemaDoc(schema.toDict());
    const packageState =
      typeof options.packageState === "function" ? options.packageState() : options.packageState;
    pkg.writeState({ created_at: new Date(), ...packageState });
    const committed = storage.commitPackage(pkg, "extracted");
    const itemCounts: Record<string, number> = {};
    for (const [table, writer] of writers) itemCounts[table] = writer.count;
    const resourceTables: Record<string, readonly string[]> = {};
    for (const node of extracted)
      resourceTables[node.resource.name] = [...(nodeTables.get(node) ?? [])].filter(
        (table) => !contracts.isDiscarded(table),
      );
    return {
      loadId,
      package: committed,
      itemCounts,
      resourceNames: extracted.map((n) => n.resource.name),
      resourceTables,
      sourceName,
      stateChanged: snapshot(sources[sourceName]) !== before,
    };
  } catch (error) {
    for (const writer of writers.values()) writer.close(true);
    await options.fileListener?.beforeCommit();
    storage.discardTempPackage(pkg);
    throw error;
  }
}
