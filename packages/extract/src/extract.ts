/**
 * The extract stage: runs resources and streams their items into an extracted load package
 * (`normalize/extracted/<load_id>/`): one typed-jsonl file per table (rotated by item count), the
 * schema with the resources' table hints, and the package state.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import {
  type ColumnSchema,
  createLoadId,
  ExtractError,
  formatJobFileName,
  isTsdltError,
  type LoadPackage,
  type LoadPackageStateDoc,
  type Logger,
  type NamingConvention,
  newFileId,
  type PackageStorage,
  PIPELINE_STATE_TABLE_NAME,
  pipelineStateTable,
  type Schema,
  silentLogger,
  type TableSchema,
} from "@tsdlt/core";
import { encodeItems } from "./item-encoder.js";
import type { ColumnsHint, DltResource } from "./resource.js";

/** Default number of items buffered per table before a write (dlt's `buffer_max_items`). */
export const DEFAULT_BUFFER_MAX_ITEMS = 5000;

/** Options of {@link extractResources}. */
export interface ExtractOptions {
  readonly resources: readonly DltResource[];
  /** The schema the resources write into; table hints are merged into it (mutated). */
  readonly schema: Schema;
  /** Naming convention for table and column names in hints. */
  readonly naming: NamingConvention;
  /** Storage of extracted packages (`<working_dir>/normalize`). */
  readonly storage: PackageStorage;
  readonly loadId?: string;
  /**
   * Called after all resources finished; returns the `_dlt_pipeline_state` row to store with the
   * package when the pipeline state changed, or undefined.
   */
  readonly stateRow?: () => Record<string, unknown> | undefined;
  /** Extra fields for `load_package_state.json`. */
  readonly packageState?: Partial<LoadPackageStateDoc>;
  readonly bufferMaxItems?: number;
  /** Start a new file after this many items per table. @default no rotation */
  readonly fileMaxItems?: number;
  readonly logger?: Logger;
}

/** What one extract produced. */
export interface ExtractResult {
  readonly loadId: string;
  /** The committed extracted package. */
  readonly package: LoadPackage;
  /** Items written per table. */
  readonly itemCounts: Record<string, number>;
  /** Resources that ran. */
  readonly resourceNames: readonly string[];
}

/** Buffered writer of one table's typed-jsonl files. */
class TableWriter {
  readonly table: string;
  readonly #pkg: LoadPackage;
  readonly #bufferMaxItems: number;
  readonly #fileMaxItems: number;
  #buffer: unknown[] = [];
  #fd: number | undefined;
  #itemsInFile = 0;
  count = 0;

  constructor(table: string, pkg: LoadPackage, bufferMaxItems: number, fileMaxItems: number) {
    this.table = table;
    this.#pkg = pkg;
    this.#bufferMaxItems = bufferMaxItems;
    this.#fileMaxItems = fileMaxItems;
  }

  write(items: readonly unknown[], resourceName: string): void {
    for (const item of items) {
      this.#buffer.push(item);
      this.count++;
      if (
        this.#buffer.length >= this.#bufferMaxItems ||
        this.#itemsInFile + this.#buffer.length >= this.#fileMaxItems
      ) {
        this.flush(resourceName);
      }
    }
  }

  flush(resourceName: string): void {
    if (this.#buffer.length === 0) return;
    const line = `${encodeItems(this.#buffer, this.table, resourceName)}\n`;
    if (this.#fd === undefined) {
      const name = formatJobFileName({
        tableName: this.table,
        fileId: newFileId(),
        retryCount: 0,
        fileFormat: "typed-jsonl",
        compressed: false,
      });
      this.#fd = openSync(this.#pkg.jobPath("new_jobs", name), "w");
    }
    writeSync(this.#fd, line);
    this.#itemsInFile += this.#buffer.length;
    this.#buffer = [];
    if (this.#itemsInFile >= this.#fileMaxItems) this.close();
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#itemsInFile = 0;
  }
}

/** Normalizes a columns hint into named, normalized column schemas. */
function columnsFromHint(
  hint: ColumnsHint | undefined,
  naming: NamingConvention,
): Record<string, ColumnSchema> {
  const out: Record<string, ColumnSchema> = {};
  if (!hint) return out;
  const list = Array.isArray(hint)
    ? (hint as readonly (ColumnSchema & { name: string })[])
    : Object.entries(hint as Record<string, ColumnSchema>).map(([name, c]) => ({ ...c, name }));
  for (const column of list) {
    const name = naming.normalizePath(column.name);
    out[name] = { ...column, name };
  }
  return out;
}

function keyList(key: string | readonly string[] | undefined): readonly string[] {
  if (key === undefined) return [];
  return typeof key === "string" ? [key] : key;
}

/** The table hint a resource contributes to the schema for `table`. */
function tableHint(resource: DltResource, table: string, naming: NamingConvention): TableSchema {
  const { hints } = resource;
  const columns = columnsFromHint(hints.columns, naming);
  for (const key of keyList(hints.primaryKey)) {
    const name = naming.normalizePath(key);
    columns[name] = { name, ...columns[name], primary_key: true, nullable: false };
  }
  for (const key of keyList(hints.mergeKey)) {
    const name = naming.normalizePath(key);
    columns[name] = { name, ...columns[name], merge_key: true };
  }
  const partial: TableSchema = {
    name: table,
    columns,
    write_disposition: hints.writeDisposition ?? "append",
    resource: resource.name,
  };
  if (hints.maxTableNesting !== undefined) partial["x-normalizer"] = { max_nesting: hints.maxTableNesting };
  return partial;
}

/**
 * Runs `resources` one after another and writes their items into a new extracted package. On
 * failure nothing is committed: the temporary package is removed and the error is rethrown
 * (wrapped in an {@link ExtractError} naming the resource when it came from user code).
 */
export async function extractResources(options: ExtractOptions): Promise<ExtractResult> {
  const logger = options.logger ?? silentLogger;
  const loadId = options.loadId ?? createLoadId();
  const { naming, schema, storage } = options;
  const pkg = storage.createTempPackage(loadId);
  const writers = new Map<string, TableWriter>();
  const bufferMaxItems = options.bufferMaxItems ?? DEFAULT_BUFFER_MAX_ITEMS;
  const fileMaxItems = options.fileMaxItems ?? Number.POSITIVE_INFINITY;
  const hinted = new Set<string>();

  const writerFor = (table: string): TableWriter => {
    let writer = writers.get(table);
    if (!writer) {
      writer = new TableWriter(table, pkg, bufferMaxItems, fileMaxItems);
      writers.set(table, writer);
    }
    return writer;
  };

  try {
    const resources = options.resources.filter((r) => r.selected);
    for (const resource of resources) {
      const staticName = resource.hints.tableName;
      if (typeof staticName !== "function") {
        const table = naming.normalizeTablesPath(staticName ?? resource.name);
        schema.updateTable(tableHint(resource, table, naming));
        hinted.add(table);
      }
      logger.debug(`extracting resource ${resource.name}`);
      try {
        for await (const page of resource.pages()) {
          if (typeof staticName === "function") {
            for (const item of page) {
              const table = naming.normalizeTablesPath(staticName(item as Record<string, unknown>));
              if (!hinted.has(table)) {
                schema.updateTable(tableHint(resource, table, naming));
                hinted.add(table);
              }
              writerFor(table).write([item], resource.name);
            }
          } else {
            writerFor(naming.normalizeTablesPath(staticName ?? resource.name)).write(page, resource.name);
          }
        }
        for (const writer of writers.values()) writer.flush(resource.name);
      } catch (error) {
        // Our own errors (unstorable data, a consumed generator) already name the resource; anything
        // else came from user code, tsdlt errors raised inside the generator included.
        if (error instanceof ExtractError || (isTsdltError(error) && error.name === "ExtractError"))
          throw error;
        throw new ExtractError(
          `Resource \`${resource.name}\` failed while it was extracted: ${(error as Error)?.message ?? String(error)}`,
          { code: "EXTRACT_RESOURCE_FAILED", cause: error },
        );
      }
    }

    const stateRow = options.stateRow?.();
    if (stateRow) {
      schema.updateTable(pipelineStateTable());
      const writer = writerFor(PIPELINE_STATE_TABLE_NAME);
      writer.write([stateRow], PIPELINE_STATE_TABLE_NAME);
      writer.flush(PIPELINE_STATE_TABLE_NAME);
    }
    for (const writer of writers.values()) writer.close();

    schema.bumpVersion();
    pkg.writeSchemaDoc(schema.toDict());
    pkg.writeState({ created_at: new Date(), ...options.packageState });
    const committed = storage.commitPackage(pkg, "extracted");
    const itemCounts: Record<string, number> = {};
    for (const [table, writer] of writers) itemCounts[table] = writer.count;
    return { loadId, package: committed, itemCounts, resourceNames: resources.map((r) => r.name) };
  } catch (error) {
    for (const writer of writers.values()) writer.close();
    storage.discardTempPackage(pkg);
    throw error;
  }
}
