/** `tsdlt pipeline --list` and `tsdlt pipeline <name> info`. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type PipelineStateDoc, Schema } from "@tsdlt/core";
import type { Pipeline } from "tsdlt";
import { type CliIO, formatValue, printLine } from "../io.js";
import {
  attachLocal,
  attachWithDestination,
  lastLoadLocation,
  type PipelineTarget,
} from "../pipeline-target.js";

/** Lists the pipelines in a pipelines folder. */
export function listPipelines(pipelinesDir: string, verbose: number, io: CliIO): void {
  const names = existsSync(pipelinesDir)
    ? readdirSync(pipelinesDir).filter((n) => existsSync(join(pipelinesDir, n, "state.json")))
    : [];
  if (names.length === 0) {
    printLine(io, `No pipelines found in ${pipelinesDir}`);
    return;
  }
  printLine(io, `${names.length} pipelines found in ${pipelinesDir}`);
  for (const n of names) {
    const when = statSync(join(pipelinesDir, n, "state.json")).mtime.toISOString();
    printLine(io, verbose > 0 ? `${n} (last run: ${when})` : n);
  }
}

/** Prints what is in the working folder and the destination of a pipeline. */
export async function pipelineInfo(target: PipelineTarget, verbose: number, io: CliIO): Promise<void> {
  const { name, pipelinesDir } = target;
  const pipeline: Pipeline = attachLocal(target);
  const state: PipelineStateDoc = pipeline.state;
  printLine(io, `Found pipeline ${name} in ${pipelinesDir}`);
  printLine(io, "Synchronized state:");
  for (const [key, value] of Object.entries(state)) {
    if (key === "_local" || key === "sources") continue;
    printLine(io, `${key}: ${formatValue(value)}`);
  }
  if (verbose > 0) printLine(io, `sources:\n${JSON.stringify(state.sources ?? {}, null, 2)}`);
  else printLine(io, `sources: ${Object.keys(state.sources ?? {}).length} source(s), add -v to see them`);
  printLine(io);
  printLine(io, "Local state:");
  for (const [key, value] of Object.entries(state._local)) printLine(io, `${key}: ${formatValue(value)}`);
  printLine(io);

  for (const schemaName of state.schema_names ?? []) {
    const file = join(pipeline.workingDir, "schemas", `${schemaName}.schema.json`);
    if (!existsSync(file)) continue;
    const schema = Schema.fromDict(JSON.parse(readFileSync(file, "utf8")));
    printLine(io, `Resources in schema: ${schemaName}`);
    const byResource = new Map<string, string[]>();
    for (const table of schema.dataTables()) {
      const root = schema.rootTable(table.name);
      const resourceName = root?.resource ?? root?.name ?? table.name;
      byResource.set(resourceName, [...(byResource.get(resourceName) ?? []), table.name]);
    }
    for (const [resourceName, tables] of byResource) {
      const slots = Object.keys(state.sources?.[schemaName]?.resources?.[resourceName] ?? {}).length;
      printLine(io, `${resourceName} with ${tables.length} table(s) and ${slots} resource state slot(s)`);
      for (const tableName of tables) {
        const table = schema.getTable(tableName);
        const columns = Object.values(table?.columns ?? {}).filter((c) => c.data_type !== undefined);
        const seen = table?.["x-normalizer"]?.["seen-data"] ? "received data" : "no data yet";
        printLine(io, `  ${tableName}: ${columns.length} column(s), ${seen}`);
        if (verbose > 0)
          for (const c of columns)
            printLine(io, `    ${c.name}: ${c.data_type}${c.nullable === false ? " not null" : ""}`);
      }
    }
    printLine(io);
  }

  const pending = pipeline.listPendingPackages();
  const completed = pipeline.listCompletedPackages();
  printLine(io, "Working dir content:");
  const pendingCount = pending.extracted.length + pending.normalized.length;
  if (pendingCount === 0) printLine(io, "Has 0 pending load packages");
  else {
    printLine(io, `Has ${pendingCount} pending load packages`);
    for (const id of pending.extracted) printLine(io, `  ${id} (extracted, waiting for normalize)`);
    for (const id of pending.normalized) printLine(io, `  ${id} (normalized, waiting for load)`);
  }
  printLine(io, `Has ${completed.length} completed load packages`);
  if (verbose > 0) for (const id of completed) printLine(io, `  ${id}`);
  printLine(io);

  const trace = pipeline.lastTrace;
  const lastLoad = trace?.lastLoadInfo as
    | {
        destination_name?: string;
        destination_displayable_credentials?: string;
        dataset_name?: string;
        loads_ids?: string[];
        finished_at?: string;
      }
    | undefined;
  if (trace) {
    printLine(io, `Last run started at ${trace.startedAt} and ${trace.failed ? "FAILED" : "COMPLETED"}`);
    const failedStep = trace.steps.find((s) => s.exception !== undefined);
    if (failedStep) printLine(io, `Failed due to: ${failedStep.exception}`);
  }
  if (lastLoad) {
    printLine(
      io,
      `Last load: ${lastLoad.loads_ids?.join(", ") || "no packages"} to destination ${lastLoad.destination_name} at ${lastLoad.destination_displayable_credentials}, dataset ${lastLoad.dataset_name}, finished at ${lastLoad.finished_at}`,
    );
  }
  if (!state.destination_type) {
    printLine(io, "No destination known yet.");
    return;
  }
  if (!lastLoadLocation(pipeline) && target.credentials === undefined) {
    printLine(io, "No completed load yet: the destination was not inspected.");
    return;
  }
  let inspected: Pipeline;
  try {
    inspected = await attachWithDestination(target, pipeline);
  } catch (error) {
    printLine(io, error instanceof Error ? error.message : String(error));
    return;
  }
  try {
    await using client = await inspected.sqlClient();
    const loads = await client.query(
      `SELECT load_id, status, inserted_at FROM ${client.qualifiedTableName("_dlt_loads")} ORDER BY load_id`,
    );
    printLine(
      io,
      `Destination dataset ${client.datasetName ?? inspected.datasetName}: ${loads.length} completed load(s)`,
    );
    const last = loads.at(-1);
    if (last)
      printLine(io, `  last completed load ${formatValue(last.load_id)} at ${formatValue(last.inserted_at)}`);
    for (const table of pipeline.defaultSchema.dataTables(true)) {
      const [row] = await client.query(`SELECT count(*) AS n FROM ${client.qualifiedTableName(table.name)}`);
      printLine(io, `  ${table.name}: ${formatValue(row?.n)} row(s)`);
    }
  } catch (error) {
    printLine(
      io,
      `Destination could not be inspected: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
