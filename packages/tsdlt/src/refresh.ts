/**
 * Dropping resources (dlt's `prepare_drop_resources` and `prepare_refresh_source`): which tables of a
 * schema and which parts of a source's state belong to some resources, and how a `refresh` run resets
 * them. Shared by `pipeline({ refresh })` / `run(data, { refresh })` and `tsdlt pipeline <name> drop`.
 *
 * Refresh modes (applied to the source being extracted, before its resources run):
 * - `drop_sources`: every table of the source's schema is dropped (in the schema and the destination),
 *   the source's state is wiped (its keys and every resource's state), and the schema starts over.
 * - `drop_resources`: the tables and resource state of the resources extracted in this run (selected
 *   ones and the parents their transformers read) are dropped; the source-level state stays.
 * - `drop_data`: the same resources' tables are emptied and their resource state (incremental
 *   cursors) is reset; the schema keeps its tables.
 *
 * Nothing touches the destination here: the tables go into the load package (`dropped_tables` /
 * `truncated_tables`), and the load stage drops or empties them right before it loads the package's
 * rows — inside the load transaction where the destination has one — so a failed run never leaves the
 * tables dropped without the new data; the next run finishes the package.
 */
import { type Schema, type SourceState, type TableSchema, TsdltError } from "@tsdlt/core";
import { type DltResource, resource } from "@tsdlt/extract";
import type { Pipeline, RunOptions } from "./pipeline.js";
import type { LoadInfo } from "./step-info.js";

/** Refresh modes of dlt (REFERENCE §6.6). */
export const REFRESH_MODES = ["drop_sources", "drop_resources", "drop_data"] as const;
/** A refresh mode: `drop_sources`, `drop_resources` or `drop_data`. */
export type RefreshMode = (typeof REFRESH_MODES)[number];

/** What to drop: resources by name or pattern, or all of them, and paths of the source state. */
export interface DropSelection {
  /** Resource names, or patterns `re:<regex>` matched from the start of the name. */
  readonly resources?: readonly string[];
  /** Select every resource (overrides `resources`). @default false */
  readonly dropAll?: boolean;
  /** Reset state only: no table is selected for dropping. @default false */
  readonly stateOnly?: boolean;
  /** Dotted paths in the source state to delete; `*` deletes every key except `resources`. */
  readonly statePaths?: readonly string[];
}

/** What a drop changes in one schema and the state of its source (dlt's drop info). */
export interface DropPlan {
  readonly schemaName: string;
  /** Resources whose tables are selected, in table order. */
  readonly resources: string[];
  /** Tables to remove from the schema, nested tables before their parents. */
  readonly tables: string[];
  /** Of {@link DropPlan.tables}, those that received data, so exist in the destination. */
  readonly tablesWithData: string[];
  /** Resources whose state (in `sources.<schema>.resources`) is reset. */
  readonly resourceStates: string[];
  /** Paths of the source state that are deleted. */
  readonly statePaths: string[];
}

/** True when `name` matches a resource `pattern` (exact, or `re:` regex anchored at the start). */
function matches(pattern: string, name: string): boolean {
  return pattern.startsWith("re:") ? new RegExp(pattern.slice(3), "y").test(name) : pattern === name;
}

/** The resource of a table: its root table's `resource` hint, else the root's name. */
function resourceOf(schema: Schema, table: TableSchema): string {
  const root = schema.rootTable(table.name);
  return root?.resource ?? root?.name ?? table.name;
}

/** Resource names of the schema's data tables, in table order. */
export function schemaResources(schema: Schema): string[] {
  return [...new Set(schema.dataTables().map((t) => resourceOf(schema, t)))];
}

function hasPath(doc: Record<string, unknown> | undefined, path: string): boolean {
  let node: unknown = doc;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

function deletePath(doc: Record<string, unknown>, path: string): void {
  const keys = path.split(".");
  const last = keys.pop() as string;
  let node: unknown = doc;
  for (const key of keys) node = (node as Record<string, unknown>)[key];
  delete (node as Record<string, unknown>)[last];
}

/**
 * Selects what to drop in `schema` and in the state of its source (`sources[schema.name]`); pure.
 * Tables: every root table of a selected resource with its nested tables. Resource state: every
 * resource in the source state whose name is selected, whether or not it has tables.
 */
export function planDrop(
  schema: Schema,
  sources: Readonly<Record<string, SourceState>> | undefined,
  selection: DropSelection,
): DropPlan {
  const patterns = selection.dropAll ? ["re:"] : (selection.resources ?? []);
  const selected = (name: string): boolean => patterns.some((p) => matches(p, name));
  const roots = schema.dataTables().filter((t) => t.parent === undefined && selected(resourceOf(schema, t)));
  // like dlt: each root with its nested tables, the whole list reversed (children before parents)
  const chains = roots.flatMap((root) => schema.tableChain(root.name)).reverse();
  const tables = selection.stateOnly ? [] : chains.map((t) => t.name);
  const sourceState = sources?.[schema.name];
  const statePaths = (selection.statePaths ?? []).flatMap((path) =>
    path === "*"
      ? Object.keys(sourceState ?? {}).filter((key) => key !== "resources")
      : hasPath(sourceState, path)
        ? [path]
        : [],
  );
  return {
    schemaName: schema.name,
    resources: selection.stateOnly ? [] : [...new Set(roots.map((t) => resourceOf(schema, t)))],
    tables,
    tablesWithData: tables.filter((t) => schema.getTable(t)?.["x-normalizer"]?.["seen-data"] === true),
    resourceStates: Object.keys(sourceState?.resources ?? {}).filter(selected),
    statePaths: [...new Set(statePaths)],
  };
}

/** Removes the plan's tables from `schema` (bumping its version when it changed). */
function dropPlannedTables(schema: Schema, plan: DropPlan): void {
  for (const table of plan.tables) delete schema.tables[table];
  schema.bumpVersion();
}

/** Resets the plan's resource states and deletes its state paths in `sources` (mutated). */
function resetPlannedState(sources: Record<string, SourceState> | undefined, plan: DropPlan): void {
  const sourceState = sources?.[plan.schemaName];
  if (!sourceState) return;
  for (const resource of plan.resourceStates) delete sourceState.resources?.[resource];
  for (const path of plan.statePaths) deletePath(sourceState, path);
}

/**
 * Names of the resources an extract runs (dlt's `source.resources.extracted`): the selected ones and
 * every parent their transformers read from.
 */
function extractedResourceNames(resources: readonly DltResource[]): string[] {
  const names = new Set<string>();
  for (const resource of resources) {
    if (!resource.selected) continue;
    for (let r: DltResource | undefined = resource; r !== undefined; r = r.parent) names.add(r.name);
  }
  return [...names];
}

/** What a drop or a refresh decided for one extract. */
export interface DropOutcome {
  /** The schema to extract into: the same object (tables dropped), or a new one for `drop_sources`. */
  readonly schema: Schema;
  /** Entries for the load package state: the tables the load stage drops or empties. */
  readonly packageState: { dropped_tables?: TableSchema[]; truncated_tables?: TableSchema[] };
  readonly plan: DropPlan;
}

/**
 * Applies `selection` to `schema` and `sources` (both working copies, changed): resets the selected
 * state, and either removes the selected tables from the schema and lists those with data as
 * `dropped_tables`, or (`emptyOnly`) keeps the schema and lists them as `truncated_tables`.
 */
function applyDrop(
  schema: Schema,
  sources: Record<string, SourceState>,
  selection: DropSelection,
  emptyOnly: boolean,
): DropOutcome {
  const plan = planDrop(schema, sources, selection);
  resetPlannedState(sources, plan);
  const modified = plan.tablesWithData.map((name) => structuredClone(schema.getTable(name) as TableSchema));
  if (emptyOnly) {
    return { schema, plan, packageState: modified.length > 0 ? { truncated_tables: modified } : {} };
  }
  dropPlannedTables(schema, plan);
  return { schema, plan, packageState: modified.length > 0 ? { dropped_tables: modified } : {} };
}

/** Options of {@link refreshSource}. */
interface RefreshSourceOptions {
  readonly mode: RefreshMode;
  /** The pipeline's schema of the source (a working copy: it is changed). */
  readonly schema: Schema;
  /** `state.sources` of the pipeline state being extracted (a working copy: it is changed). */
  readonly sources: Record<string, SourceState>;
  /** Resources the extract runs ({@link extractedResourceNames}); unused for `drop_sources`. */
  readonly resourceNames: readonly string[];
  /** A new, empty schema of the same name (for `drop_sources`, which starts the schema over). */
  readonly freshSchema: () => Schema;
}

/**
 * Applies a refresh mode to the source about to be extracted (dlt's `prepare_refresh_source`): resets
 * its state in `sources`, drops tables from the schema (or replaces the schema for `drop_sources`),
 * and returns the tables the load must drop (`drop_sources`, `drop_resources`) or empty
 * (`drop_data`) — those that hold data in the destination.
 */
function refreshSource(options: RefreshSourceOptions): DropOutcome {
  const { mode, schema, sources } = options;
  if (!(REFRESH_MODES as readonly unknown[]).includes(mode)) {
    throw new TsdltError(
      `\`refresh\` must be one of ${REFRESH_MODES.map((m) => `\`${m}\``).join(", ")}; got ${JSON.stringify(mode)}.`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  if (mode === "drop_sources") {
    const outcome = applyDrop(schema, sources, { dropAll: true, statePaths: ["*"] }, false);
    return { ...outcome, schema: options.freshSchema() };
  }
  return applyDrop(schema, sources, { resources: options.resourceNames }, mode === "drop_data");
}

/**
 * The run option by which {@link dropResources} hands its selection to the extract step (a symbol:
 * it never collides with user options, and `checkOptions` does not see it).
 */
const DROP_SELECTION: unique symbol = Symbol("tsdlt.dropSelection");

/** Options carrying a {@link DROP_SELECTION}. */
type WithDropSelection = { readonly [DROP_SELECTION]?: DropSelection };

/** Options of {@link refreshForExtract}. */
export interface RefreshForExtractOptions {
  /** The run or extract options (they may carry a {@link DROP_SELECTION}). */
  readonly options: object;
  /** The refresh mode of this run (its own, else the pipeline's). */
  readonly refresh: RefreshMode | undefined;
  readonly schema: Schema;
  readonly sources: Record<string, SourceState>;
  /** The resources the extract runs. */
  readonly resources: readonly DltResource[];
  readonly freshSchema: () => Schema;
}

/**
 * What the extract about to run must drop: the {@link DROP_SELECTION} of {@link dropResources} when
 * given, else the refresh mode's (see {@link refreshSource}); undefined when neither applies.
 */
export function refreshForExtract(options: RefreshForExtractOptions): DropOutcome | undefined {
  const selection = (options.options as WithDropSelection)[DROP_SELECTION];
  if (selection !== undefined) return applyDrop(options.schema, options.sources, selection, false);
  if (options.refresh === undefined) return undefined;
  return refreshSource({
    mode: options.refresh,
    schema: options.schema,
    sources: options.sources,
    resourceNames: extractedResourceNames(options.resources),
    freshSchema: options.freshSchema,
  });
}

/**
 * Drops resources from the pipeline's default schema, state and destination (dlt's
 * `helpers.drop` / `tsdlt pipeline <name> drop`): the selected tables leave the schema, their
 * resource state (and `statePaths` of the source state) is reset, and a run stores the new schema and
 * state with a package that drops the tables in the destination as it loads — in the load
 * transaction where the destination has one. When that load fails, the package stays pending and the
 * next run of the pipeline finishes the drop.
 *
 * @example
 * ```ts
 * await dlt.dropResources(pipeline, { resources: ["users"] });
 * ```
 */
export async function dropResources(pipeline: Pipeline, selection: DropSelection): Promise<LoadInfo> {
  const carrier = resource(
    function* dropCarrier(): Generator<never> {
      // yields nothing: the package carries the new state and the tables to drop
    },
    { name: "_dlt_drop_command", tableName: () => "_dlt_drop_command" },
  );
  return pipeline.run(carrier, { [DROP_SELECTION]: selection } as RunOptions);
}
