/**
 * `tsdlt config explain`: where each config value comes from, secrets masked. Single keys are read as
 * `dlt.config.get` / `dlt.secrets.get` read them (an exact dotted path). With `--module`, the given
 * modules are imported and every config declared by a source, resource or sink destination in them
 * (`dlt.source(fn, { config })`, ...) is explained field by field, with dlt's section lookup and the
 * pipeline-name prefix of `--pipeline`.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { declaredConfigs, explainConfig } from "@tsdlt/core";
import { CliError, type CliIO, printLine } from "../io.js";

/** Options of {@link configExplainCommand}. */
export interface ConfigExplainOptions {
  /** Read the keys as secrets (env and secrets.toml only). */
  readonly secret?: boolean | undefined;
  /** List every provider and key tried, not only for missing values. */
  readonly verbose?: boolean | undefined;
  /** Modules whose declared configs are explained (paths relative to the current folder). */
  readonly module?: readonly string[] | undefined;
  /** Pipeline name for the prefixed lookups of declared configs. */
  readonly pipeline?: string | undefined;
}

async function importModule(file: string): Promise<void> {
  const path = resolve(file);
  try {
    await import(pathToFileURL(path).href);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const hint =
      code === "ERR_UNKNOWN_FILE_EXTENSION"
        ? " Node cannot import TypeScript here: point `--module` at the compiled `.js` file, or run the CLI under a TypeScript loader (`node --import tsx $(npm root)/.bin/tsdlt ...`)."
        : code === "ERR_MODULE_NOT_FOUND"
          ? " Check the path."
          : "";
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`Cannot import module \`${file}\`: ${reason}.${hint}`, 1);
  }
}

/** Explains single keys and the configs declared in modules; exits 1 when something is missing. */
export async function configExplainCommand(
  keys: readonly string[],
  options: ConfigExplainOptions,
  io: CliIO,
): Promise<void> {
  const modules = options.module ?? [];
  if (keys.length === 0 && modules.length === 0) {
    throw new CliError(
      "`tsdlt config explain` needs config keys (`sources.github.repo_name`) or `--module <file>` declaring sources or destinations with a config.",
      2,
    );
  }
  let missing = false;
  for (const key of keys) {
    const explanation = explainConfig(key, { secret: options.secret === true });
    io.stdout(`${explanation.format({ verbose: options.verbose === true })}\n`);
    missing ||= !explanation.ok || explanation.fields.some((f) => f.origin === "missing");
  }
  if (modules.length > 0) {
    for (const file of modules) await importModule(file);
    const declarations = declaredConfigs();
    if (declarations.length === 0) {
      throw new CliError(
        `No config declared in ${modules.map((m) => `\`${m}\``).join(", ")}: declare one with \`dlt.source(fn, { config: z.object({...}) })\` (or on a resource or \`dlt.destination\`). Sources and resources created inside a source function are declared only when it runs.`,
        1,
      );
    }
    for (const declaration of declarations) {
      const explanation = declaration.explain(
        options.pipeline === undefined ? {} : { pipelineName: options.pipeline },
      );
      printLine(io, `${declaration.kind} \`${declaration.name}\`:`);
      io.stdout(`${explanation.format({ verbose: options.verbose === true })}\n`);
      missing ||= !explanation.ok;
    }
  }
  if (missing) throw new CliError("Some values are missing, misplaced or invalid (see above).", 1);
}
