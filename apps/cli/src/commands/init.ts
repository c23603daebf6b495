/**
 * `tsdlt init <source> <destination>`: scaffolds a runnable TypeScript project in the current folder
 * from the templates shipped in this package (`templates/`): `<source>_pipeline.ts`, `package.json`,
 * `tsconfig.json`, `.gitignore` and `.env.example`. `github` and `rest_api` are templates of their
 * own; any other source name gets the REST API starter under that name (dlt's generic template).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError, type CliIO, confirm, printLine } from "../io.js";

/** Where the templates are (next to `dist/` and `src/`). */
export const TEMPLATES_DIR: string = fileURLToPath(new URL("../../templates/", import.meta.url));

/** Destinations a generated project can name, with the package that provides them. */
export const INIT_DESTINATIONS: Readonly<Record<string, string | undefined>> = Object.freeze({
  duckdb: undefined,
  postgres: "@tsdlt/destination-postgres",
  filesystem: "@tsdlt/destination-filesystem",
});

interface TemplateInfo {
  readonly description: string;
  readonly secrets: readonly string[];
}

function templates(): Record<string, TemplateInfo> {
  return JSON.parse(readFileSync(join(TEMPLATES_DIR, "templates.json"), "utf8")) as Record<
    string,
    TemplateInfo
  >;
}

/** Prints the templates. */
export function listSources(io: CliIO): void {
  printLine(io, "Available templates:");
  for (const [name, info] of Object.entries(templates())) printLine(io, `${name}: ${info.description}`);
  printLine(io, "Any other source name gets the rest_api starter under that name.");
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** Options of {@link initCommand}. */
export interface InitOptions {
  /** Folder to write into. @default the current folder */
  readonly dir?: string | undefined;
  readonly yes?: boolean | undefined;
  /** Version range of `tsdlt` in the generated `package.json`. */
  readonly tsdltVersion: string;
}

/** Writes the project; returns the files written. */
export async function initCommand(
  source: string,
  destination: string,
  options: InitOptions,
  io: CliIO,
): Promise<string[]> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(source)) {
    throw new CliError(
      `Source name \`${source}\` is not valid: use letters, digits and underscores, starting with a letter.`,
      2,
    );
  }
  if (!(destination in INIT_DESTINATIONS)) {
    throw new CliError(
      `Destination \`${destination}\` is not known. Use one of: ${Object.keys(INIT_DESTINATIONS).join(", ")}.`,
      2,
    );
  }
  const all = templates();
  const templateName = source in all ? source : "rest_api";
  const info = all[templateName] as TemplateInfo;
  const dir = resolve(options.dir ?? process.cwd());
  const upper = source.toUpperCase();
  const destUpper = destination.toUpperCase();
  const destinationPackage = INIT_DESTINATIONS[destination];
  const dependencies = [
    `    "tsdlt": "${options.tsdltVersion}"`,
    ...(destinationPackage ? [`    "${destinationPackage}": "${options.tsdltVersion}"`] : []),
  ].join(",\n");
  const secrets = [
    ...info.secrets.map((s) => fill(s, { SOURCE: upper })),
    ...(destination === "duckdb" ? [] : [`DESTINATION__${destUpper}__CREDENTIALS`]),
  ];
  const values: Record<string, string> = {
    source,
    SOURCE: upper,
    destination,
    package_name: `${source.replaceAll("_", "-").toLowerCase()}-pipeline`,
    dependencies,
    destination_options:
      destination === "duckdb" ? "" : `\n  credentials: process.env.DESTINATION__${destUpper}__CREDENTIALS,`,
    env_lines: secrets.map((s) => `${s}=`).join("\n"),
  };
  const files: [string, string][] = [
    [`${source}_pipeline.ts`, join(templateName, "pipeline.ts.tmpl")],
    ["package.json", join("common", "package.json.tmpl")],
    ["tsconfig.json", join("common", "tsconfig.json.tmpl")],
    [".gitignore", join("common", "gitignore.tmpl")],
    [".env.example", join("common", "env.example.tmpl")],
  ];
  const existing = files.map(([name]) => name).filter((name) => existsSync(join(dir, name)));
  if (
    existing.length > 0 &&
    !(await confirm(io, `${existing.join(", ")} already exist in ${dir}. Overwrite?`, options))
  ) {
    return [];
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, template] of files) {
    writeFileSync(join(dir, name), fill(readFileSync(join(TEMPLATES_DIR, template), "utf8"), values));
  }
  printLine(io, `Your new pipeline ${source} is ready to be customized!`);
  printLine(io, `* Review and change how tsdlt loads your data in ${source}_pipeline.ts`);
  if (secrets.length > 0) {
    printLine(io, `* Set these environment variables (listed in .env.example): ${secrets.join(", ")}`);
  }
  printLine(io, `* Install the dependencies and run the pipeline: npm install && npm start`);
  printLine(io, `* Inspect the result: tsdlt pipeline ${source}_pipeline info`);
  return files.map(([name]) => join(dir, name));
}
