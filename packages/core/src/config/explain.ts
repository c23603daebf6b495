/**
 * `tsdlt config explain`, as an API: for each field of a spec (or one ad hoc key), which provider and
 * key won, what else was tried, and which files were read — with secrets shown as `***`.
 */
import type { z } from "zod";
import { ConfigAccessor, type ConfigAccessorOptions } from "./accessors.js";
import { formatProviderLocations, formatTrace, type ProviderSummary } from "./config-errors.js";
import { sectionLookupPaths } from "./lookup.js";
import type { ConfigContext } from "./providers.js";
import { isSensitiveKey, REDACTED, redactText } from "./redact.js";
import { type ResolveConfigOptions, type ResolvedField, resolveInternal } from "./resolve.js";
import { configKeyOf } from "./schema-meta.js";

/** Options of {@link explainConfig} for a single key. */
export interface ExplainKeyOptions extends ConfigAccessorOptions {
  /** Read as `secrets.get` (secret-capable providers only). @default false */
  readonly secret?: boolean;
}

/** Options of {@link ConfigExplanation.format}. */
export interface ExplainFormatOptions {
  /** List every (provider, key) tried for every field, not only for missing ones. @default false */
  readonly verbose?: boolean;
}

function summarize(context: ConfigContext): ProviderSummary[] {
  return context.providers.map((p) => ({
    name: p.name,
    supportsSecrets: p.supportsSecrets,
    isEmpty: p.isEmpty,
    locations: p.locations,
  }));
}

/** The provenance of a spec's fields (or one key). Print it with `String(explanation)`. */
export class ConfigExplanation {
  readonly specName: string;
  readonly pipelineName: string | undefined;
  readonly fields: readonly ResolvedField[];
  readonly providers: readonly ProviderSummary[];
  /** Whether the spec resolved without missing, refused or invalid values. */
  readonly ok: boolean;
  /**
   * Where a spec's keys are looked up, most specific first, with `<key>` standing for a field's key
   * (`sources.github.github_source.<key>`, ..., `<key>`); empty for a single key.
   */
  readonly lookupPaths: readonly string[];

  constructor(init: {
    specName: string;
    pipelineName: string | undefined;
    fields: readonly ResolvedField[];
    providers: readonly ProviderSummary[];
    ok: boolean;
    lookupPaths?: readonly string[] | undefined;
  }) {
    this.specName = init.specName;
    this.pipelineName = init.pipelineName;
    this.fields = init.fields;
    this.providers = init.providers;
    this.ok = init.ok;
    this.lookupPaths = init.lookupPaths ?? [];
  }

  /** The field with the given path. */
  field(path: string): ResolvedField | undefined {
    return this.fields.find((f) => f.field === path);
  }

  /** A readable report: one line per field, then the files each provider read or did not find. */
  format(options: ExplainFormatOptions = {}): string {
    const pipeline = this.pipelineName ? ` (pipeline \`${this.pipelineName}\`)` : "";
    const lines = [`Configuration \`${this.specName}\`${pipeline}:`];
    const width = Math.max(0, ...this.fields.map((f) => f.field.length));
    for (const f of this.fields) {
      const label = f.field.padEnd(width);
      switch (f.origin) {
        case "provider": {
          const where = f.location ? ` (${f.location})` : "";
          lines.push(`  ${label} = ${f.display}  <- ${f.provider} \`${f.providerKey}\`${where}`);
          break;
        }
        case "explicit":
          lines.push(`  ${label} = ${f.display}  <- given in code`);
          break;
        case "default":
          lines.push(`  ${label} = ${f.display}  <- default`);
          break;
        case "unset":
          lines.push(`  ${label}   (not set, optional)`);
          break;
        case "missing":
          lines.push(`  ${label}   MISSING${f.secret ? " (secret)" : ""}; tried in order:`);
          break;
        case "refused":
          lines.push(`  ${label}   REFUSED: secret found in ${f.provider} \`${f.providerKey}\``);
          break;
        case "invalid":
          lines.push(`  ${label}   INVALID: ${f.note ?? ""}`);
          break;
      }
      if (f.origin === "provider" && f.note) lines.push(`  ${" ".repeat(width)}   INVALID: ${f.note}`);
      if (f.origin === "missing" || (options.verbose && f.tried.length > 0)) {
        if (f.origin !== "missing") lines.push(`  ${" ".repeat(width)}   tried in order:`);
        for (const trace of f.tried) lines.push(`      ${formatTrace(trace)}`);
      }
    }
    lines.push(...formatProviderLocations(this.providers));
    if (this.lookupPaths.length > 1) {
      const prefix = this.pipelineName ? ` (each first prefixed with \`${this.pipelineName}.\`)` : "";
      lines.push(`Keys are looked up at${prefix}: ${this.lookupPaths.map((p) => `\`${p}\``).join(" → ")}`);
      const renamed = this.fields
        .map((f) => f.field.split(".")[0] as string)
        .filter((name, i, all) => all.indexOf(name) === i && configKeyOf(name) !== name);
      if (renamed.length > 0) {
        lines.push(
          `  where <key> is the field name in snake_case: ${renamed.map((n) => `${n} → ${configKeyOf(n)}`).join(", ")}`,
        );
      }
    }
    return redactText(lines.join("\n"));
  }

  toString(): string {
    return this.format();
  }

  toJSON(): object {
    return {
      specName: this.specName,
      pipelineName: this.pipelineName,
      ok: this.ok,
      lookupPaths: this.lookupPaths,
      fields: this.fields,
      providers: this.providers,
    };
  }
}

/**
 * Explains where each field of `spec` comes from (resolving it like `resolveConfig`, without
 * throwing on missing or misplaced values), or where one ad hoc `key` comes from.
 *
 * @example
 * ```ts
 * console.log(String(explainConfig(githubSpec, { sections: ["sources", "github", "github_source"] })));
 * // Configuration `github_source` (pipeline `github_with_source_secrets`):
 * //   repo_name    = "dlt-hub/dlt"  <- config.toml `github_with_source_secrets.repo_name` (/p/.dlt/config.toml)
 * //   access_token = ***  <- Environment Variables `SOURCES__GITHUB__ACCESS_TOKEN`
 * ```
 */
export function explainConfig(spec: z.ZodType, options?: ResolveConfigOptions): ConfigExplanation;
export function explainConfig(key: string, options?: ExplainKeyOptions): ConfigExplanation;
export function explainConfig(
  specOrKey: z.ZodType | string,
  options: ResolveConfigOptions | ExplainKeyOptions = {},
): ConfigExplanation {
  if (typeof specOrKey === "string") return explainKey(specOrKey, options as ExplainKeyOptions);
  const resolveOptions = options as ResolveConfigOptions;
  const result = resolveInternal(specOrKey, resolveOptions, true);
  return new ConfigExplanation({
    specName: result.specName,
    pipelineName: result.context.pipelineName,
    fields: result.fields,
    providers: summarize(result.context),
    ok: result.valid,
    lookupPaths: sectionLookupPaths(
      resolveOptions.sections ?? [],
      resolveOptions.embeddedSections ?? [],
      "<key>",
    ).map((p) => p.join(".")),
  });
}

function explainKey(key: string, options: ExplainKeyOptions): ConfigExplanation {
  const accessor = new ConfigAccessor(options.secret ? "secrets" : "config");
  const { context, outcome } = accessor.lookup(key, options);
  const last = key.split(".").pop() ?? key;
  const secret =
    options.secret === true ||
    isSensitiveKey(last) ||
    (outcome.found &&
      outcome.provider !== undefined &&
      outcome.provider !== "config.toml" &&
      outcome.provider !== "Environment Variables");
  const display = !outcome.found
    ? ""
    : secret
      ? REDACTED
      : redactText(
          typeof outcome.value === "string"
            ? JSON.stringify(outcome.value)
            : (JSON.stringify(outcome.value) ?? ""),
        );
  const field: ResolvedField = {
    field: key,
    key,
    secret,
    origin: outcome.found ? "provider" : "missing",
    provider: outcome.provider,
    providerKey: outcome.providerKey,
    location: outcome.location,
    display,
    tried: outcome.traces,
  };
  return new ConfigExplanation({
    specName: key,
    pipelineName: undefined,
    fields: [field],
    providers: summarize(context),
    ok: outcome.found,
  });
}
