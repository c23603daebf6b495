/**
 * `tsdlt pipeline <name>` operations on the working folder: `trace`, `failed-jobs`, `load-package`,
 * `drop-pending-packages` and `sync`.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_FILES, parseJobFileName } from "@tsdlt/core";
import { pipeline as createPipeline, formatElapsed, type LoadJobInfo, type LoadPackageInfo } from "tsdlt";
import { stringify } from "yaml";
import { CliError, type CliIO, confirm, printLine, printWarning } from "../io.js";
import {
  attachLocal,
  attachWithDestination,
  cliDestination,
  type PipelineTarget,
} from "../pipeline-target.js";

/** Prints the last run's trace. */
export function traceCommand(target: PipelineTarget, io: CliIO): void {
  const trace = attachLocal(target).lastTrace;
  if (!trace || trace.steps.length === 0) {
    printWarning(io, "Pipeline does not have last run trace.");
    return;
  }
  printLine(io, trace.toString());
}

function jobPath(pkg: LoadPackageInfo, job: LoadJobInfo): string {
  return join(pkg.packagePath, job.state, job.fileName);
}

/** Lists failed jobs of completed and normalized packages. */
export function failedJobsCommand(target: PipelineTarget, verbose: number, io: CliIO): void {
  const p = attachLocal(target);
  for (const loadId of [...p.listCompletedPackages(), ...p.listPendingPackages().normalized]) {
    printLine(io, `Checking failed jobs in load id '${loadId}'`);
    const info = p.getLoadPackageInfo(loadId);
    const failed = info?.jobs.filter((j) => j.state === "failed_jobs") ?? [];
    if (!info || failed.length === 0) {
      printLine(io, "No failed jobs found");
      continue;
    }
    for (const job of failed) {
      printLine(io, `JOB: ${job.jobId}(${job.tableName})`);
      printLine(io, `JOB file type: ${parseJobFileName(job.fileName).fileFormat}`);
      printLine(io, `JOB file path: ${jobPath(info, job)}`);
      if (verbose > 0) printLine(io, jobText(info, job, verbose));
      printLine(io, job.failedMessage ?? "");
      printLine(io);
    }
  }
}

/** humanize's `naturalsize(n, binary=True, gnu=True)`: `512B`, `2.0K`, `1.5M`. */
export function naturalSize(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const suffixes = "KMGTPEZY";
  for (let i = 0; i < suffixes.length; i++) {
    const unit = 1024 ** (i + 2);
    if (bytes < unit || i === suffixes.length - 1)
      return `${((1024 * bytes) / unit).toFixed(1)}${suffixes[i]}`;
  }
  return `${bytes}B`;
}

/** dlt's `LoadJobInfo.asstr()`. The job's elapsed time is not recorded (printed as `---`). */
function jobText(pkg: LoadPackageInfo, job: LoadJobInfo, verbose: number): string {
  const path = jobPath(pkg, job);
  const created = existsSync(path) ? statSync(path).mtime.toISOString() : "---";
  let text =
    `Job: ${job.jobId}, table: ${job.tableName} in ${job.state}. ` +
    `File type: ${parseJobFileName(job.fileName).fileFormat}, size: ${naturalSize(job.fileSize)}. ` +
    `Started on: ${created} and completed in ${formatElapsed(undefined)}.`;
  if (job.failedMessage !== undefined) {
    text += "\nThe job FAILED TERMINALLY and cannot be restored.";
    if (verbose > 0) text += `\n${job.failedMessage}`;
  }
  return text;
}

function readJson(file: string): unknown {
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
}

/** Prints a load package (default: the most recent one). */
export function loadPackageCommand(
  target: PipelineTarget,
  loadId: string | undefined,
  verbose: number,
  io: CliIO,
): void {
  const p = attachLocal(target);
  let id = loadId;
  if (id === undefined) {
    const pending = p.listPendingPackages();
    for (const ids of [pending.extracted, pending.normalized, p.listCompletedPackages()]) {
      if (ids.length > 0) {
        id = [...ids].sort((a, b) => Number(a) - Number(b)).at(-1);
        break;
      }
    }
    if (id === undefined) throw new CliError("There are no load packages for that pipeline");
  }
  const info = p.getLoadPackageInfo(id);
  if (!info) throw new CliError(`Load package ${id} not found in pipeline ${target.name}.`);
  const completedFile = join(info.packagePath, PACKAGE_FILES.completed);
  const completedAt = existsSync(completedFile) ? statSync(completedFile).mtime.toISOString() : undefined;
  const update = (readJson(join(info.packagePath, PACKAGE_FILES.appliedSchemaUpdates)) ??
    readJson(join(info.packagePath, PACKAGE_FILES.schemaUpdates)) ??
    {}) as Record<string, unknown>;
  const updatedTables = Object.keys(update);
  printLine(io, `Package ${id} found in ${info.packagePath}`);
  printLine(
    io,
    `The package with load id ${id} for schema ${info.schemaName} is in ${info.state.toUpperCase()} state. ` +
      `It updated schema for ${updatedTables.length} tables. ` +
      `${completedAt ? `The package was ${info.state.toUpperCase()} at ${completedAt}` : "The package is NOT YET LOADED to the destination"}.`,
  );
  printLine(io, "Jobs details:");
  printLine(io, info.jobs.map((j) => jobText(info, j, verbose)).join("\n"));
  if (updatedTables.length > 0) {
    if (verbose === 0) printLine(io, "Add -v option to see schema update. Note that it could be large.");
    else {
      printLine(io, "Schema update:");
      printLine(io, stringify({ tables: update }, { lineWidth: 0 }).trimEnd());
    }
  }
}

/** Deletes extracted and normalized packages after confirmation. */
export async function dropPendingPackagesCommand(
  target: PipelineTarget,
  options: { yes?: boolean | undefined },
  io: CliIO,
): Promise<void> {
  const p = attachLocal(target);
  const { extracted, normalized } = p.listPendingPackages();
  if (extracted.length + normalized.length === 0) {
    printLine(io, "No pending packages found");
    return;
  }
  if (extracted.length > 0) {
    printLine(
      io,
      `Has ${extracted.length} extracted packages ready to be normalized with following load ids:`,
    );
    for (const id of extracted) printLine(io, id);
  }
  if (normalized.length > 0) {
    printLine(io, `Has ${normalized.length} normalized packages ready to be loaded with following load ids:`);
    for (const id of normalized) printLine(io, id);
    const partial = normalized.some((id) =>
      p.getLoadPackageInfo(id)?.jobs.some((j) => j.state === "completed_jobs" || j.state === "started_jobs"),
    );
    if (partial)
      printLine(io, "This pipeline has partially loaded packages. Data in destination may be modified.");
  }
  if (!(await confirm(io, "Delete the above packages?", options))) return;
  await p.dropPendingPackages({ withPartialLoads: true });
  printLine(io, "Pending packages deleted");
}

/** Options of {@link syncCommand}. */
export interface SyncOptions {
  readonly yes?: boolean | undefined;
}

/**
 * Drops the local working folder and restores state and schemas from the destination. The last run's
 * trace is kept: it is where the CLI finds the destination (e.g. the DuckDB file) later. Without a
 * local pipeline, `--destination` (and `--dataset-name`, `--credentials`) say where to restore from.
 */
export async function syncCommand(target: PipelineTarget, options: SyncOptions, io: CliIO): Promise<void> {
  const localExists = existsSync(join(target.pipelinesDir, target.name, "state.json"));
  if (!localExists && target.destination === undefined) {
    throw new CliError(
      `Pipeline ${target.name} was not found in ${target.pipelinesDir}. Pass --destination (and --dataset-name, --credentials) to restore it from a destination.`,
    );
  }
  if (
    !(await confirm(
      io,
      "About to drop the local state of the pipeline and reset all the schemas. The destination state, data and schemas are left intact. Proceed?",
      options,
    ))
  ) {
    return;
  }
  const p = localExists
    ? await attachWithDestination(target)
    : createPipeline({
        pipelineName: target.name,
        pipelinesDir: target.pipelinesDir,
        destination: await cliDestination(target.destination as string, { credentials: target.credentials }),
        ...(target.datasetName === undefined ? {} : { datasetName: target.datasetName }),
        ...(target.credentials === undefined ? {} : { credentials: target.credentials }),
      });
  const traceFile = join(p.workingDir, "trace.json");
  const trace = existsSync(traceFile) ? readFileSync(traceFile) : undefined;
  printLine(io, "Dropping local state");
  p.drop();
  if (trace) writeFileSync(traceFile, trace);
  printLine(io, "Restoring from destination");
  await p.syncDestination();
  const state = p.state;
  if ((state.schema_names ?? []).length === 0) {
    printWarning(
      io,
      `No state of pipeline ${target.name} was found in dataset ${p.datasetName} of the destination.`,
    );
    return;
  }
  printLine(
    io,
    `Restored state version ${state._state_version} and schema(s) ${(state.schema_names ?? []).join(", ")} of dataset ${state.dataset_name ?? p.datasetName}`,
  );
}
