/**
 * Ad hoc reads, as dlt's `dlt.config` / `dlt.secrets` (REFERENCE §8.1): `config.get("sources.github.repo_name")`.
 * A key is an exact dotted path: no sections are dropped and no pipeline prefix is tried, as in dlt.
 * `secrets` asks only the providers that may hold secrets (env, `secrets.toml`) and registers what it
 * finds for masking.
 *
 * There is deliberately no `config["a.b"]` Proxy form: a property read that throws (dlt's `KeyError`)
 * surprises `console.log`, spreading and `await`, and it cannot be typed; use `get` and `require`.
 */
import type { z } from "zod";
import { autoCast, coerceValue } from "./coerce.js";
import { ConfigFieldMissingError, ConfigValueInvalidError } from "./config-errors.js";
import { type LookupOutcome, lookupField } from "./lookup.js";
import { ConfigContext, setProviderValue } from "./providers.js";
import { REDACTED, redactText, registerSecret } from "./redact.js";

/** Options of {@link ConfigAccessor} reads. */
export interface ConfigAccessorOptions {
  /** Providers to read. @default `ConfigContext.create()` */
  readonly context?: ConfigContext;
}

/** Which accessor: `config` asks all providers, `secrets` only secret-capable ones. */
export type ConfigAccessorKind = "config" | "secrets";

function splitKey(key: string): string[] {
  const parts = key.split(".");
  if (key === "" || parts.some((p) => p === "")) {
    throw new ConfigValueInvalidError({
      specName: "key",
      problems: [
        `\`${key}\` is not a config key; write sections and key joined with dots: \`sources.github.repo_name\`.`,
      ],
      code: "INVALID_ARGUMENT",
    });
  }
  return parts;
}

function registerDeep(value: unknown): void {
  if (typeof value === "string") registerSecret(value);
  else if (Array.isArray(value)) value.forEach(registerDeep);
  else if (typeof value === "object" && value !== null) Object.values(value).forEach(registerDeep);
}

/** `dlt.config` / `dlt.secrets`: reads and in-memory writes of single keys. */
export class ConfigAccessor {
  readonly kind: ConfigAccessorKind;

  constructor(kind: ConfigAccessorKind) {
    this.kind = kind;
  }

  /** The providers asked and the lookup of `key` in them. @internal */
  lookup(
    key: string,
    options: ConfigAccessorOptions = {},
  ): { context: ConfigContext; outcome: LookupOutcome } {
    const path = splitKey(key);
    const context = options.context ?? ConfigContext.create();
    const providers =
      this.kind === "secrets" ? context.providers.filter((p) => p.supportsSecrets) : context.providers;
    const outcome = lookupField(context, [{ paths: [path], secret: () => false }], {
      field: key,
      providers,
      noPipelinePrefix: true,
    });
    if (outcome.found && this.kind === "secrets") registerDeep(outcome.value);
    return { context, outcome };
  }

  /**
   * The value at `key` (`"sources.github.repo_name"`), or `undefined` when no provider holds it.
   * Environment variable strings are cast (`"5"` → 5, `"true"` → true, JSON lists and objects);
   * with a zod `schema` the value is coerced to it and validated.
   */
  get(key: string, options?: ConfigAccessorOptions): unknown;
  get<S extends z.ZodType>(key: string, schema: S, options?: ConfigAccessorOptions): z.output<S> | undefined;
  get(
    key: string,
    schemaOrOptions?: z.ZodType | ConfigAccessorOptions,
    maybeOptions?: ConfigAccessorOptions,
  ): unknown {
    const { schema, options } = splitArgs(schemaOrOptions, maybeOptions);
    const { outcome } = this.lookup(key, options);
    if (!outcome.found) return undefined;
    return this.#convert(key, outcome, schema);
  }

  /** Like {@link get}, but a missing key fails with a {@link ConfigFieldMissingError} listing what was tried. */
  require(key: string, options?: ConfigAccessorOptions): unknown;
  require<S extends z.ZodType>(key: string, schema: S, options?: ConfigAccessorOptions): z.output<S>;
  require(
    key: string,
    schemaOrOptions?: z.ZodType | ConfigAccessorOptions,
    maybeOptions?: ConfigAccessorOptions,
  ): unknown {
    const { schema, options } = splitArgs(schemaOrOptions, maybeOptions);
    const { context, outcome } = this.lookup(key, options);
    if (!outcome.found) {
      throw new ConfigFieldMissingError({
        specName: this.kind,
        missing: [
          {
            field: key,
            secret: this.kind === "secrets",
            traces: outcome.traces,
            suggestedPath: key.split("."),
          },
        ],
        context,
      });
    }
    return this.#convert(key, outcome, schema);
  }

  /**
   * Sets `key` in memory (never written to disk) in `config.toml` (for `config`) or `secrets.toml`
   * (for `secrets`); environment variables still win.
   */
  set(key: string, value: unknown): void {
    const path = splitKey(key);
    if (this.kind === "secrets") registerDeep(value);
    setProviderValue(this.kind === "secrets" ? "secrets.toml" : "config.toml", path, value);
  }

  #convert(key: string, outcome: LookupOutcome, schema: z.ZodType | undefined): unknown {
    if (!schema)
      return outcome.provider === "Environment Variables" ? autoCast(outcome.value) : outcome.value;
    const parsed = schema.safeParse(coerceValue(outcome.value, schema));
    if (!parsed.success) {
      throw new ConfigValueInvalidError({
        specName: this.kind,
        problems: parsed.error.issues.map(
          (issue) =>
            `\`${[key, ...issue.path.map(String)].join(".")}\` (from ${outcome.provider} \`${outcome.providerKey}\`): ${redactText(issue.message)}`,
        ),
      });
    }
    if (this.kind === "secrets") registerDeep(parsed.data);
    return parsed.data;
  }

  /** A display of the value at `key` for logs: `***` for secrets. */
  display(key: string, options?: ConfigAccessorOptions): string | undefined {
    const value = this.get(key, options);
    if (value === undefined) return undefined;
    return this.kind === "secrets" ? REDACTED : redactText(JSON.stringify(value) ?? String(value));
  }
}

function isSchema(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value;
}

function splitArgs(
  schemaOrOptions: z.ZodType | ConfigAccessorOptions | undefined,
  maybeOptions: ConfigAccessorOptions | undefined,
): { schema: z.ZodType | undefined; options: ConfigAccessorOptions | undefined } {
  return isSchema(schemaOrOptions)
    ? { schema: schemaOrOptions, options: maybeOptions }
    : { schema: undefined, options: schemaOrOptions };
}

/** Ad hoc config reads across all providers: `config.get("sources.github.repo_name")`. */
export const config: ConfigAccessor = new ConfigAccessor("config");
/** Ad hoc secret reads (env and `secrets.toml` only): `secrets.get("sources.github.access_token")`. */
export const secrets: ConfigAccessor = new ConfigAccessor("secrets");
