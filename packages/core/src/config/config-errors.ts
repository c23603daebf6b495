/**
 * Errors of the config library. Messages name the field, list what was tried and say where to put
 * the value; they never contain a value that may be a secret.
 */
import { TsdltError, type TsdltErrorCode } from "../errors.js";
import type { LookupTrace } from "./lookup.js";
import type { ConfigContext, ProviderLocations } from "./providers.js";

/** A config error (missing, misplaced or invalid value, unreadable file). */
export class ConfigError extends TsdltError {
  override name = "ConfigError";
}

/** A required field that no provider held. */
export interface MissingConfigField {
  /** Field path in the spec (`access_token`, `credentials.password`). */
  readonly field: string;
  readonly secret: boolean;
  /** Every (provider, key) tried, in order. */
  readonly traces: readonly LookupTrace[];
  /** The path suggested to the user for this field (`["sources", "github", "access_token"]`). */
  readonly suggestedPath: readonly string[];
}

/** A provider's name and the files it read or did not find. */
export interface ProviderSummary {
  readonly name: string;
  readonly supportsSecrets: boolean;
  readonly isEmpty: boolean;
  readonly locations: ProviderLocations;
}

/** Options of {@link ConfigFieldMissingError}. */
export interface ConfigFieldMissingErrorOptions {
  readonly specName: string;
  readonly missing: readonly MissingConfigField[];
  /** Fields of the spec that did resolve. */
  readonly resolved?: readonly string[];
  readonly context: ConfigContext;
}

function summarize(context: ConfigContext): ProviderSummary[] {
  return context.providers.map((p) => ({
    name: p.name,
    supportsSecrets: p.supportsSecrets,
    isEmpty: p.isEmpty,
    locations: p.locations,
  }));
}

/** The "Provider ... loaded values from / probed but not found" lines of dlt's message. */
export function formatProviderLocations(providers: readonly ProviderSummary[]): string[] {
  const lines: string[] = [];
  for (const p of providers) {
    if (p.locations.loaded.length > 0) {
      lines.push(`Provider \`${p.name}\` loaded values from locations:`);
      for (const file of p.locations.loaded) lines.push(`\t- ${file}`);
    }
    if (p.locations.notFound.length > 0) {
      lines.push(`Provider \`${p.name}\` probed but not found the following locations:`);
      for (const file of p.locations.notFound) lines.push(`\t- ${file}`);
    }
    if (p.isEmpty) {
      lines.push(`WARNING: provider \`${p.name}\` is empty. Locations (i.e., files) are missing or empty.`);
    }
  }
  return lines;
}

/** One trace line: `(provider, key)` plus a note when a value was found but not used. */
export function formatTrace(trace: LookupTrace): string {
  const note = trace.note ? ` found, but ${trace.note}` : "";
  return `(${trace.provider}, ${trace.key})${note}`;
}

function envName(path: readonly string[]): string {
  return path.join("__").toUpperCase();
}

function tomlHint(path: readonly string[]): string {
  const key = path[path.length - 1] ?? "";
  const table = path.slice(0, -1);
  return table.length > 0 ? `\`${key} = ...\` under \`[${table.join(".")}]\`` : `\`${key} = ...\` at the top`;
}

function fixHint(field: MissingConfigField, context: ConfigContext): string {
  const file = field.secret ? "secrets.toml" : "config.toml";
  const where = `${context.settingsDir}/${file}`;
  const kind = field.secret ? " (a secret: never in config.toml)" : "";
  return `  \`${field.field}\`${kind}: set the environment variable \`${envName(field.suggestedPath)}\`, or add ${tomlHint(field.suggestedPath)} in ${where}`;
}

/**
 * Required config fields were found in no provider. The message follows dlt's
 * `ConfigFieldMissingException`: per field, every (provider, key) tried in order; then the files each
 * provider read or did not find; then how to fix it.
 */
export class ConfigFieldMissingError extends ConfigError {
  override name = "ConfigFieldMissingError";
  readonly specName: string;
  /** Paths of the missing fields. */
  readonly fields: readonly string[];
  /** Per missing field, the (provider, key) pairs tried in order. */
  readonly traces: Readonly<Record<string, readonly LookupTrace[]>>;
  readonly providers: readonly ProviderSummary[];

  constructor(options: ConfigFieldMissingErrorOptions) {
    const providers = summarize(options.context);
    const names = options.missing.map((m) => `\`${m.field}\``).join(", ");
    const lines = [
      `[tsdlt] [config] Missing ${options.missing.length} field(s) in configuration \`${options.specName}\`: ${names}`,
    ];
    for (const m of options.missing) {
      lines.push(`for field \`${m.field}\` the following (config provider, key) were tried in order:`);
      for (const trace of m.traces) lines.push(`  ${formatTrace(trace)}`);
    }
    if (options.resolved && options.resolved.length > 0) {
      lines.push(
        `NOTE: following fields in \`${options.specName}\` got resolved: ${options.resolved.map((f) => `\`${f}\``).join(", ")}`,
      );
    }
    lines.push(...formatProviderLocations(providers));
    lines.push("To fix it, for each missing field:");
    for (const m of options.missing) lines.push(fixHint(m, options.context));
    super(lines.join("\n"), { code: "CONFIG_FIELD_MISSING", pipelineName: options.context.pipelineName });
    this.specName = options.specName;
    this.fields = options.missing.map((m) => m.field);
    this.traces = Object.fromEntries(options.missing.map((m) => [m.field, m.traces]));
    this.providers = providers;
  }
}

/** Options of {@link ConfigValueNotSecretError}. */
export interface ConfigValueNotSecretErrorOptions {
  readonly field: string;
  readonly provider: string;
  readonly key: string;
  readonly location?: string | undefined;
  /** The full path that matched (with the pipeline prefix when it had one). */
  readonly path: readonly string[];
  readonly context: ConfigContext;
}

/** A secret was found in a provider that may not hold secrets (`config.toml`). */
export class ConfigValueNotSecretError extends ConfigError {
  override name = "ConfigValueNotSecretError";
  readonly field: string;
  readonly provider: string;
  readonly key: string;

  constructor(options: ConfigValueNotSecretErrorOptions) {
    const where = options.location ? ` (${options.location})` : "";
    super(
      `[tsdlt] [config] Secret \`${options.field}\` was found in ${options.provider} under \`${options.key}\`${where}, but ${options.provider} may not hold secrets. Move it to ${options.context.settingsDir}/secrets.toml under the same key, or set the environment variable \`${envName(options.path)}\`, and remove it from ${options.provider}.`,
      { code: "CONFIG_VALUE_NOT_SECRET", path: options.location, pipelineName: options.context.pipelineName },
    );
    this.field = options.field;
    this.provider = options.provider;
    this.key = options.key;
  }
}

/** Options of {@link ConfigValueInvalidError}. */
export interface ConfigValueInvalidErrorOptions {
  readonly specName: string;
  /** One line per problem: field, where the value came from, and why it is invalid (no values). */
  readonly problems: readonly string[];
  readonly pipelineName?: string | undefined;
  readonly code?: TsdltErrorCode;
  readonly cause?: unknown;
}

/** A config value was found but cannot be parsed or fails the spec's validation. */
export class ConfigValueInvalidError extends ConfigError {
  override name = "ConfigValueInvalidError";
  readonly specName: string;
  readonly problems: readonly string[];

  constructor(options: ConfigValueInvalidErrorOptions) {
    super(
      `[tsdlt] [config] Invalid value(s) in configuration \`${options.specName}\`:\n${options.problems.map((p) => `  ${p}`).join("\n")}`,
      {
        code: options.code ?? "CONFIG_VALUE_INVALID",
        pipelineName: options.pipelineName,
        cause: options.cause,
      },
    );
    this.specName = options.specName;
    this.problems = options.problems;
  }
}
