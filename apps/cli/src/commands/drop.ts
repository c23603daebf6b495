/**
 * `tsdlt pipeline <name> drop [resources…]` (dlt's `DropCommand`): drops the tables of the selected
 * resources (with their nested tables) in the destination and from the schema, resets their resource
 * state (and `--state-paths` in the source state), and stores the new schema and state in the
 * destination, so a later `sync` on another machine does not bring the dropped resources back.
 *
 * How: the selection (`planDrop`, shared with `refresh`) is shown and confirmed, then
 * `dropResources()` runs the pipeline once with no data: its package carries the new schema and state
 * and lists the tables to drop, which the load stage drops right before it stores them — in the load
 * transaction on DuckDB and Postgres, so the tables go only together with the new state. If that
 * load fails, the package stays pending and the next run of the pipeline finishes the drop.
 */
import {
  type DropPlan,
  type DropSelection,
  dropResources,
  type Pipeline,
  planDrop,
  schemaResources,
} from "tsdlt";
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

/** The drop selection of the command's arguments. */
function selectionOf(patterns: readonly string[], options: DropOptions): DropSelection {
  return {
    resources: patterns,
    dropAll: options.dropAll === true,
    stateOnly: options.stateOnly === true,
    statePaths: options.statePaths ?? [],
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
  const selection = selectionOf(patterns, options);
  const plan: DropPlan = planDrop(schema, state.sources, selection);
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

  try {
    await dropResources(p, selection);
  } catch (error) {
    throw new CliError(
      `Dropping failed: ${error instanceof Error ? error.message : String(error)}. The local schema and state are updated; a package left pending (see \`tsdlt pipeline ${target.name} info\`) is finished, tables dropped, by the next run of the pipeline.`,
    );
  }
  printLine(io, `Dropped table(s) ${pyList(plan.tablesWithData)} in dataset ${datasetName}`);
  printLine(
    io,
    `Schema ${p.defaultSchema.name} (version ${p.defaultSchema.version}) and state (version ${p.state._state_version}) stored in the destination`,
  );
}
