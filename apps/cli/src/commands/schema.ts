/** `tsdlt schema <file>` and `tsdlt pipeline <name> schema`: print a schema as YAML or JSON. */
import { existsSync, readFileSync } from "node:fs";
import { Schema } from "@tsdlt/core";
import { stringify } from "yaml";
import { CliError, type CliIO, printLine } from "../io.js";
import { attachLocal, type PipelineTarget } from "../pipeline-target.js";

/** Output formats of the schema commands. */
export const SCHEMA_FORMATS: readonly string[] = Object.freeze(["yaml", "json"]);

/** Options of the schema commands. */
export interface SchemaFormatOptions {
  readonly format: string;
  readonly removeDefaults: boolean;
}

/** A schema as text: YAML (dlt's `to_pretty_yaml`) or indented JSON; `removeDefaults` drops default hints. */
export function renderSchema(schema: Schema, options: SchemaFormatOptions): string {
  const doc = schema.toDict({ removeDefaults: options.removeDefaults });
  if (options.format === "json") return JSON.stringify(doc, null, 2);
  return options.removeDefaults
    ? schema.toPrettyYaml().trimEnd()
    : stringify(doc, { lineWidth: 0 }).trimEnd();
}

/** Reads a schema file (`.json`, `.yaml`/`.yml`) and prints it in `format`. */
export function schemaFileCommand(file: string, options: SchemaFormatOptions, io: CliIO): void {
  if (!existsSync(file)) throw new CliError(`Schema file ${file} not found.`);
  let schema: Schema;
  try {
    schema = Schema.fromText(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CliError(
      `Schema file ${file} is not a valid schema: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  printLine(io, renderSchema(schema, options));
}

/** Prints the default schema of a pipeline. */
export function pipelineSchemaCommand(target: PipelineTarget, options: SchemaFormatOptions, io: CliIO): void {
  const pipeline = attachLocal(target);
  printLine(io, `Found schema with name ${pipeline.defaultSchemaName}`);
  printLine(io, renderSchema(pipeline.defaultSchema, options));
}
