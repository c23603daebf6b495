/**
 * The `tsdlt` command line (alias `dlt`), after dlt's CLI (REFERENCE §10). Exit codes: 0 success,
 * 1 failure, 2 usage error. Destructive commands ask for confirmation on a terminal; with `--yes`
 * they do not ask, and without a terminal (CI, pipes) they refuse unless `--yes` is given.
 *
 * `tsdlt pipeline <name> <operation>` puts the pipeline name before the operation, as dlt does;
 * commander wants subcommands first, so {@link normalizePipelineArgv} reorders the words before parsing.
 */
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { isTsdltError } from "@tsdlt/core";
import { type Command, Command as CommanderCommand, CommanderError, Option } from "commander";
import { defaultPipelinesDir } from "tsdlt";
import { configExplainCommand } from "./commands/config.js";
import { deployCommand } from "./commands/deploy.js";
import { dropCommand } from "./commands/drop.js";
import { listPipelines, pipelineInfo } from "./commands/info.js";
import { initCommand, listSources } from "./commands/init.js";
import {
  dropPendingPackagesCommand,
  failedJobsCommand,
  loadPackageCommand,
  syncCommand,
  traceCommand,
} from "./commands/pipeline-ops.js";
import { pipelineSchemaCommand, SCHEMA_FORMATS, schemaFileCommand } from "./commands/schema.js";
import { CliError, type CliIO, printLine, processIO } from "./io.js";
import { attachLocal, type PipelineTarget } from "./pipeline-target.js";
import { startShowServer } from "./show/server.js";

export type { CliIO } from "./io.js";

/** The version of the CLI package. */
export function cliVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("../package.json") as { version: string }).version;
}

/** Operations of `tsdlt pipeline <name> <operation>`. */
export const PIPELINE_OPERATIONS: readonly string[] = Object.freeze([
  "info",
  "show",
  "trace",
  "failed-jobs",
  "load-package",
  "drop",
  "drop-pending-packages",
  "sync",
  "schema",
]);

/** Options of `pipeline` that take a value (so the value is not taken for a pipeline name). */
const VALUE_OPTIONS = new Set([
  "--pipelines-dir",
  "--format",
  "--port",
  "--destination",
  "--dataset-name",
  "--schema",
  "--state-paths",
  "--credentials",
]);
const LIST_FLAGS = new Set(["-l", "--list", "--list-pipelines"]);

/**
 * Rewrites `pipeline [options] <name> [operation] [args…]` into `pipeline <operation> <name> [args…]
 * [options]` (operation `info` by default), and a bare `pipeline` or `pipeline --list` into `pipeline
 * list`. Other commands pass through unchanged.
 */
export function normalizePipelineArgv(argv: readonly string[]): string[] {
  const at = argv.findIndex((t) => !t.startsWith("-"));
  if (at === -1 || argv[at] !== "pipeline") return [...argv];
  const before = argv.slice(0, at);
  const rest = argv.slice(at + 1);
  const positional: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] as string;
    if (token === "--") {
      positional.push(...rest.slice(i + 1));
      break;
    }
    if (token.startsWith("-") && token !== "-") {
      options.push(token);
      if (VALUE_OPTIONS.has(token) && i + 1 < rest.length) options.push(rest[++i] as string);
      continue;
    }
    positional.push(token);
  }
  const help = options.includes("--help") || options.includes("-h");
  const list = options.some((o) => LIST_FLAGS.has(o));
  if (positional.length === 0) {
    if (help && !list) return [...argv];
    return [...before, "pipeline", "list", ...options.filter((o) => !LIST_FLAGS.has(o))];
  }
  if (list) return [...before, "pipeline", "list", ...options.filter((o) => !LIST_FLAGS.has(o))];
  const [name, operation = "info", ...args] = positional as [string, ...string[]];
  return [...before, "pipeline", operation, name, ...args, ...options];
}

interface CommonOptions {
  pipelinesDir?: string;
  verbose: number;
  destination?: string;
  datasetName?: string;
  credentials?: string;
}

function addCommonOptions(command: Command): Command {
  return command
    .option(
      "--pipelines-dir <dir>",
      "pipelines folder (default ~/.dlt/pipelines, or $DLT_DATA_DIR/pipelines)",
    )
    .option("-v, --verbose", "more detail (repeatable)", (_v: string, previous: number) => previous + 1, 0);
}

function target(name: string, options: CommonOptions): PipelineTarget {
  return {
    name,
    pipelinesDir: resolve(options.pipelinesDir ?? defaultPipelinesDir()),
    destination: options.destination,
    datasetName: options.datasetName,
    credentials: options.credentials,
  };
}

/** Builds the commander program. */
function program(io: CliIO): Command {
  let nonInteractive = false;
  const ioNow = (): CliIO => (nonInteractive ? { ...io, interactive: false } : io);
  const root = new CommanderCommand("tsdlt")
    .description("tsdlt — the data load tool for TypeScript. Inspects, manages and deploys pipelines.")
    .version(`tsdlt ${cliVersion()}`, "--version", "print the version")
    .option("--non-interactive", "never ask: confirmations are refused unless --yes is given")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError()
    .enablePositionalOptions()
    .hook("preAction", (command) => {
      nonInteractive = command.opts().nonInteractive === true;
    });

  // --- schema <file>
  root
    .command("schema")
    .description("load a schema file (.json, .yaml) and print it, optionally converted")
    .argument("<file>", "schema file")
    .addOption(new Option("--format <format>", "output format").choices(SCHEMA_FORMATS).default("yaml"))
    .option("--remove-defaults", "omit default hint values", false)
    .action((file: string, options: { format: string; removeDefaults: boolean }) => {
      schemaFileCommand(file, options, ioNow());
    });

  // --- pipeline
  const pipeline = root
    .command("pipeline")
    .description("inspect and manage pipelines in the pipelines folder")
    .usage("[options] [name] [operation] [args...]")
    .enablePositionalOptions()
    .helpCommand(false)
    .option("-l, --list-pipelines", "list the pipelines (also: --list)")
    .addOption(new Option("--list").hideHelp())
    .configureHelp({
      subcommandTerm: (cmd) => {
        const args = cmd.registeredArguments
          .slice(1)
          .map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}${a.variadic ? "..." : ""}]`));
        return ["<name>", cmd.name(), ...args].join(" ");
      },
    })
    .addHelpText(
      "after",
      "\nWith a name and no operation, `info` runs; with no name, the pipelines are listed.\nExamples:\n  tsdlt pipeline --list\n  tsdlt pipeline -v github_issues_incremental info\n  tsdlt pipeline quick_start show",
    );
  addCommonOptions(pipeline);

  addCommonOptions(
    pipeline
      .command("list", { hidden: true })
      .description("list the pipelines")
      .action((options: CommonOptions) => {
        listPipelines(resolve(options.pipelinesDir ?? defaultPipelinesDir()), options.verbose, ioNow());
      }),
  );

  const operation = (name: string, description: string): Command => {
    const command = pipeline.command(name).description(description).argument("<name>", "pipeline name");
    command.configureHelp({
      commandUsage: (cmd) => {
        const args = cmd.registeredArguments
          .slice(1)
          .map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}${a.variadic ? "..." : ""}]`));
        return ["tsdlt pipeline <name>", cmd.name(), "[options]", ...args].join(" ");
      },
    });
    return addCommonOptions(command);
  };

  operation("info", "show the pipeline's state, schemas, packages, last run and destination tables").action(
    async (name: string, options: CommonOptions) =>
      pipelineInfo(target(name, options), options.verbose, ioNow()),
  );

  operation("show", "start a local web app to browse the pipeline's tables, packages, state and data")
    .option("--port <port>", "port to listen on (default: a free port)", (v: string) => {
      const port = Number(v);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be 0..65535; got ${v}.`, 2);
      return port;
    })
    .action(async (name: string, options: CommonOptions & { port?: number }) => {
      const t = target(name, options);
      attachLocal(t); // fails before listening when there is no such pipeline
      const server = await startShowServer({
        target: t,
        ...(options.port === undefined ? {} : { port: options.port }),
      });
      const out = ioNow();
      printLine(out, `Pipeline ${name} data browser running at ${server.url}`);
      printLine(out, "Press Ctrl+C to stop.");
      await new Promise<void>((done) => {
        process.once("SIGINT", done);
        process.once("SIGTERM", done);
      });
      await server.close();
    });

  operation("trace", "print the trace of the last run").action((name: string, options: CommonOptions) =>
    traceCommand(target(name, options), ioNow()),
  );

  operation("failed-jobs", "list the failed jobs of completed and normalized packages").action(
    (name: string, options: CommonOptions) =>
      failedJobsCommand(target(name, options), options.verbose, ioNow()),
  );

  operation("load-package", "describe a load package (default: the most recent)")
    .argument("[load-id]", "load id")
    .action((name: string, loadId: string | undefined, options: CommonOptions) =>
      loadPackageCommand(target(name, options), loadId, options.verbose, ioNow()),
    );

  operation("drop", "drop resources' tables and state in the destination and the schema")
    .argument("[resources...]", "resource names, or `re:<regex>`")
    .option("--drop-all", "select all resources", false)
    .option("--state-only", "reset resource state only; keep the tables", false)
    .option(
      "--state-paths <path>",
      "also delete this dotted path in the source state (repeatable)",
      (v: string, previous: string[]) => [...previous, v],
      [] as string[],
    )
    .option("--schema <name>", "schema to drop from (default: the default schema)")
    .option("--destination <name>", "destination, when not the one in the pipeline state")
    .option("--dataset-name <name>", "dataset, when not the one in the pipeline state")
    .option("--credentials <value>", "destination credentials (e.g. the DuckDB file)")
    .option("-y, --yes", "do not ask for confirmation")
    .action(
      async (
        name: string,
        resources: string[],
        options: CommonOptions & {
          dropAll: boolean;
          stateOnly: boolean;
          statePaths: string[];
          schema?: string;
          yes?: boolean;
        },
      ) => dropCommand(target(name, options), resources, options, ioNow()),
    );

  operation("drop-pending-packages", "delete packages waiting to be normalized or loaded")
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (name: string, options: CommonOptions & { yes?: boolean }) =>
      dropPendingPackagesCommand(target(name, options), options, ioNow()),
    );

  operation("sync", "drop the local state and restore state and schemas from the destination")
    .option("--destination <name>", "destination to restore from, when there is no local pipeline")
    .option("--dataset-name <name>", "dataset to restore from")
    .option("--credentials <value>", "destination credentials (e.g. the DuckDB file)")
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (name: string, options: CommonOptions & { yes?: boolean }) =>
      syncCommand(target(name, options), options, ioNow()),
    );

  operation("schema", "print the pipeline's default schema")
    .addOption(new Option("--format <format>", "output format").choices(SCHEMA_FORMATS).default("yaml"))
    .option("--remove-defaults", "omit default hint values", false)
    .action((name: string, options: CommonOptions & { format: string; removeDefaults: boolean }) =>
      pipelineSchemaCommand(target(name, options), options, ioNow()),
    );

  // --- init
  root
    .command("init")
    .description("create a new TypeScript pipeline project in the current folder from a template")
    .argument("[source]", "template or source name (github, rest_api, or any name for the REST API starter)")
    .argument("[destination]", "destination: duckdb, postgres or filesystem")
    .option("-l, --list-sources", "list the templates")
    .option("-y, --yes", "overwrite existing files without asking")
    .action(
      async (
        source: string | undefined,
        destination: string | undefined,
        options: { listSources?: boolean; yes?: boolean },
      ) => {
        if (options.listSources) return listSources(ioNow());
        if (!source || !destination) {
          throw new CliError(
            "`tsdlt init` needs a source and a destination, e.g. `tsdlt init github duckdb`.",
            2,
          );
        }
        await initCommand(
          source,
          destination,
          { yes: options.yes, tsdltVersion: `^${cliVersion()}` },
          ioNow(),
        );
      },
    );

  // --- config explain
  root
    .command("config")
    .description("inspect configuration and secrets")
    .command("explain")
    .description(
      "show, for each key or each field of a declared config, the value found and which provider and key it came from (secrets masked)",
    )
    .argument("[keys...]", "config keys such as sources.github.repo_name or destination.postgres.credentials")
    .option("--secret", "read the keys as secrets (env and secrets.toml only)", false)
    .option(
      "-m, --module <files...>",
      "import these modules and explain the config of every source, resource and destination they declare",
    )
    .option("-p, --pipeline <name>", "pipeline name whose prefixed keys are looked up first (with --module)")
    .option("-v, --verbose", "list every provider and key tried, not only for missing values", false)
    .action(
      (
        keys: string[],
        options: { secret: boolean; verbose: boolean; module?: string[]; pipeline?: string },
      ) => configExplainCommand(keys, options, ioNow()),
    );

  // --- deploy
  root
    .command("deploy")
    .description("create a deployment of a pipeline script (a scheduled GitHub Actions workflow)")
    .argument("<script>", "the pipeline script, e.g. github_pipeline.ts")
    .argument("<method>", "deployment method: github-action")
    .requiredOption("--schedule <cron>", 'when to run, as a cron expression, e.g. "*/30 * * * *"')
    .option("--run-manually", "allow running the workflow from the Actions tab (always on)", true)
    .option("--run-on-push", "also run on every push to main", false)
    .option("-y, --yes", "overwrite an existing workflow without asking")
    .action(
      async (
        script: string,
        method: string,
        options: { schedule: string; runManually: boolean; runOnPush: boolean; yes?: boolean },
      ) => {
        await deployCommand(script, method, options, ioNow());
      },
    );

  return root;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  try {
    await program(io).parseAsync(normalizePipelineArgv(argv), { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.version" || error.code === "commander.helpDisplayed") return 0;
      if (error.code === "commander.help") return error.exitCode === 0 ? 0 : 2;
      if (error.code === "commander.executeSubCommandAsync") return 1;
      return 2;
    }
    if (error instanceof CliError) {
      io.stderr(`${error.exitCode === 2 ? "error: " : ""}${error.message}\n`);
      return error.exitCode;
    }
    io.stderr(
      `${isTsdltError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
