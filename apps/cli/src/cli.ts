/**
 * The `tsdlt` command line (alias `dlt`). Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { isTsdltError, type PipelineStateDoc, Schema } from "@tsdlt/core";
import { Command, CommanderError } from "commander";
import { attach, defaultPipelinesDir, destinations, type Pipeline } from "tsdlt";

/** Where the CLI writes; injectable for tests. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** The version of the CLI package. */
export function cliVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("../package.json") as { version: string }).version;
}

function printLine(io: CliIO, line = ""): void {
  io.stdout(`${line}\n`);
}

function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "None";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Prefix of the displayable location of DuckDB destinations (`duckdb:///` + absolute path). */
const DUCKDB_LOCATION_PREFIX = "duckdb:///";

/** Prints what is in the working folder and the destination of a pipeline. */
async function pipelineInfo(name: string, pipelinesDir: string, verbose: number, io: CliIO): Promise<void> {
  const pipeline: Pipeline = attach({ pipelineName: name, pipelinesDir });
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
  // The destination is inspected where the last load put the data. DuckDB files are opened only when
  // they exist: opening a missing file would create an empty database.
  const location = lastLoad?.destination_displayable_credentials;
  let inspected: Pipeline = pipeline;
  if (location?.startsWith(DUCKDB_LOCATION_PREFIX)) {
    const file = location.slice(DUCKDB_LOCATION_PREFIX.length);
    if (!existsSync(file)) {
      printLine(io, `Destination database ${file} not found.`);
      return;
    }
    inspected = attach({
      pipelineName: name,
      pipelinesDir,
      destination: destinations.duckdb({ credentials: file }),
    });
  } else if (!location) {
    printLine(io, "No completed load yet: the destination was not inspected.");
    return;
  }
  try {
    await using client = await inspected.sqlClient();
    const loads = await client.query(
      `SELECT load_id, status, inserted_at FROM ${client.qualifiedTableName("_dlt_loads")} ORDER BY load_id`,
    );
    printLine(io, `Destination dataset ${inspected.datasetName}: ${loads.length} completed load(s)`);
    const last = loads.at(-1);
    if (last)
      printLine(io, `  last completed load ${formatValue(last.load_id)} at ${formatValue(last.inserted_at)}`);
    const schema = pipeline.defaultSchema;
    for (const table of schema.dataTables(true)) {
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

/** Lists the pipelines in a pipelines folder. */
function listPipelines(pipelinesDir: string, verbose: number, io: CliIO): void {
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

/** Builds the commander program. */
function program(io: CliIO): Command {
  const root = new Command("tsdlt")
    .description("tsdlt — the data load tool for TypeScript")
    .version(`tsdlt ${cliVersion()}`, "--version", "print the version")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError();

  root
    .command("pipeline")
    .description("inspect pipelines in the pipelines folder")
    .argument("[name]", "pipeline name")
    .argument("[operation]", "operation: info", "info")
    .option("-l, --list-pipelines", "list pipelines")
    .option("--pipelines-dir <dir>", "pipelines folder (default ~/.dlt/pipelines or $DLT_DATA_DIR/pipelines)")
    .option("-v, --verbose", "more detail (repeatable)", (_v: string, prev: number) => prev + 1, 0)
    .exitOverride()
    .action(
      async (
        name: string | undefined,
        operation: string,
        opts: { listPipelines?: boolean; pipelinesDir?: string; verbose: number },
      ) => {
        const dir = resolve(opts.pipelinesDir ?? defaultPipelinesDir());
        if (opts.listPipelines || !name) return listPipelines(dir, opts.verbose, io);
        if (operation !== "info") {
          throw new CommanderError(
            2,
            "tsdlt.usage",
            `Unknown pipeline operation \`${operation}\`. Available: info.`,
          );
        }
        await pipelineInfo(name, dir, opts.verbose, io);
      },
    );
  return root;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  try {
    await program(io).parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.version" ||
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.help"
      ) {
        return 0;
      }
      if (error.code === "tsdlt.usage") io.stderr(`error: ${error.message}\n`);
      return 2;
    }
    io.stderr(
      `${isTsdltError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
