/**
 * `tsdlt pipeline <name> drop [resources…]` (dlt's `DropCommand`): drops the tables of the selected
 * resources (with their nested tables) in the destination and from the schema, resets their resource
 * state (and `--state-paths` in the source state), and stores the new schema and state in the
 * destination, so a later `sync` on another machine does not bring the dropped resources back.
 *
 * How: after confirmation the tables are dropped with `DROP TABLE IF EXISTS` through the
 * destination's SQL client (nested tables first) and the schema's rows in `_dlt_version` are deleted;
 * the schema file and `state.json` are rewritten
 * (schema version bumped, state version bumped); then a run with no data extracts the changed state
 * into a package and loads it, which writes `_dlt_pipeline_state` and the new `_dlt_version` row. If
 * that last load fails, the state is still stored by the next run (its hash differs from the last
 * extracted one). dlt instead drops the tables during that load; the outcome is the same.
 */
import { join } from "node:path";
import {
  bumpStateVersion,
  type PipelineStateDoc,
  type Schema,
  type TableSchema,
  toTypedJson,
  writeFileAtomicSync,
} from "@tsdlt/core";
import { type Pipeline, resource } from "tsdlt";
import { CliError, type CliIO, confirm, printLine, printWarning, pyList } from "../io.js";
import {
  attachLocal,
  attachWithDestination,
  destinationDatasetName,
  type PipelineTarget,
} from "../pipeline-target.js";

/** Options of {@link dropCommand}. */
export interface DropOptions {
  readonly yes?: boolean | undefined;
  readonly dropAll?: boolean | undefined;
  readonly stateOnly?: boolean | undefined;
  readonly statePaths?: readonly string[] | undefined;
  readonly schema?: string | undefined;
}

/** What a drop would change. */
export interface DropPlan {
  readonly schemaName: string;
  readonly resources: string[];
  readonly tables: string[];
  readonly tablesWithData: string[];
  readonly resourceStates: string[];
  readonly statePaths: string[];
}

function resourceOf(schema: Schema, table: TableSchema): string {
  const root = schema.rootTable(table.name);
  return root?.resource ?? root?.name ?? table.name;
}

/** Resource names of the schema's data tables, in table order. */
export function schemaResources(schema: Schema): string[] {
  return [...new Set(schema.dataTables().map((t) => resourceOf(schema, t)))];
}

function matches(pattern: string, name: string): boolean {
  return pattern.startsWith("re:") ? new RegExp(pattern.slice(3)).test(name) : pattern === name;
}

function getPath(doc: Record<string, unknown> | undefined, path: string): boolean {
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

/** Selects what to drop (pure; no I/O). */
export function planDrop(
  schema: Schema,
  state: PipelineStateDoc,
  patterns: readonly string[],
  options: DropOptions,
): DropPlan {
  const available = schemaResources(schema);
  const selected = options.dropAll ? available : available.filter((r) => patterns.some((p) => matches(p, r)));
  const tables = options.stateOnly
    ? []
    : schema
        .dataTables()
        .filter((t) => t.parent === undefined && selected.includes(resourceOf(schema, t)))
        .flatMap((root) => schema.tableChain(root.name).map((t) => t.name));
  const sourceState = state.sources?.[schema.name];
  const resourceStates = selected.filter((r) => sourceState?.resources?.[r] !== undefined);
  const statePaths = (options.statePaths ?? []).filter((p) => getPath(sourceState, p));
  return {
    schemaName: schema.name,
    resources: selected,
    tables,
    tablesWithData: tables.filter((t) => schema.getTable(t)?.["x-normalizer"]?.["seen-data"] === true),
    resourceStates,
    statePaths,
  };
}

/** Runs the drop command. */
export async function dropCommand(
  target: PipelineTarget,
  patterns: readonly string[],
  options: DropOptions,
  io: CliIO,
): Promise<void> {
  const local = attachLocal(target);
  const pending = local.listPendingPackages();
  if (pending.extracted.length + pending.normalized.length > 0) {
    throw new CliError(
      `Pipeline ${target.name} has pending load packages: the drop would not be consistent with them. Load them with a run, or delete them with \`tsdlt pipeline ${target.name} drop-pending-packages\`, then drop again.`,
    );
  }
  if (patterns.length === 0 && !options.dropAll && (options.statePaths ?? []).length === 0) {
    throw new CliError("Name the resources to drop, or pass --drop-all or --state-paths.", 2);
  }
  const p: Pipeline = await attachWithDestination(target, local);
  await p.syncDestination();
  const schema = p.defaultSchema;
  if (options.schema !== undefined && options.schema !== schema.name) {
    throw new CliError(
      `Schema ${options.schema} is not the default schema of pipeline ${target.name} (${schema.name}); only the default schema can be dropped from.`,
    );
  }
  const state = p.state;
  const plan = planDrop(schema, state, patterns, options);
  if (plan.tables.length === 0 && plan.resourceStates.length === 0 && plan.statePaths.length === 0) {
    if (patterns.length > 0 && plan.resources.length === 0) {
      printWarning(
        io,
        `Specified resource(s) ${pyList([...patterns])} did not select any resource in schema ${schema.name}. Possible resources are: ${pyList(schemaResources(schema))}`,
      );
    }
    printLine(
      io,
      "Could not select any resources to drop and no resource/source state to reset. Use the command below to inspect the pipeline:",
    );
    printLine(io, `tsdlt pipeline -v ${target.name} info`);
    throw new CliError("Nothing to drop.");
  }
  const datasetName = await destinationDatasetName(p);
  printLine(
    io,
    `About to drop the following data in dataset ${datasetName} in destination ${String(state.destination_type ?? "").replace(/^dlt\.destinations\./, "")}:`,
  );
  printLine(io, `Selected schema: ${plan.schemaName}`);
  printLine(io, `Selected resource(s): ${pyList(plan.resources)}`);
  printLine(io, `Table(s) to drop: ${pyList(plan.tables)}`);
  printLine(io, `\twith data in destination: ${pyList(plan.tablesWithData)}`);
  printLine(io, `Resource(s) state to reset: ${pyList(plan.resourceStates)}`);
  printLine(io, `Source state path(s) to reset: ${pyList(plan.statePaths)}`);
  if (!(await confirm(io, "Do you want to apply these changes?", options))) return;

  // 1. the destination: nested tables first, then the stored versions of the schema (as dlt's
  // `drop_tables(..., delete_schema=True)`): a stored version that still lists the dropped tables would
  // otherwise let a later load of the same resource skip creating them again.
  if (plan.tables.length > 0) {
    await using client = await p.sqlClient();
    for (const table of [...plan.tablesWithData].reverse()) {
      await client.query(`DROP TABLE IF EXISTS ${client.qualifiedTableName(table)}`);
    }
    await client.query(`DELETE FROM ${client.qualifiedTableName("_dlt_version")} WHERE "schema_name" = $1`, [
      schema.name,
    ]);
  }
  printLine(io, `Dropped table(s) ${pyList(plan.tablesWithData)} in dataset ${datasetName}`);

  // 2. the local schema and state
  const newSchema = schema.clone();
  for (const table of plan.tables) delete newSchema.tables[table];
  newSchema.bumpVersion();
  writeFileAtomicSync(
    join(p.workingDir, "schemas", `${newSchema.name}.schema.json`),
    newSchema.toPrettyJson(),
  );
  const sourceState = state.sources?.[schema.name];
  if (sourceState) {
    for (const r of plan.resourceStates) delete sourceState.resources?.[r];
    for (const path of plan.statePaths) deletePath(sourceState, path);
  }
  bumpStateVersion(state);
  writeFileAtomicSync(join(p.workingDir, "state.json"), toTypedJson(state, 2));

  // 3. store schema and state in the destination: a run that extracts no data, only the changed state
  const carrier = resource(
    function* dropStateCarrier(): Generator<never> {
      // yields nothing: the package carries only the pipeline state
    },
    { name: "_dlt_drop_command", tableName: () => "_dlt_drop_command" },
  );
  try {
    await (await attachWithDestination(target)).run(carrier);
  } catch (error) {
    throw new CliError(
      `The tables were dropped and the local schema and state updated, but storing them in the destination failed: ${error instanceof Error ? error.message : String(error)}. The next run of the pipeline stores them.`,
    );
  }
  printLine(
    io,
    `Schema ${newSchema.name} (version ${newSchema.version}) and state (version ${state._state_version}) stored in the destination`,
  );
}
