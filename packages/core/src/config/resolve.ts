/**
 * Resolves a config spec (a zod object schema) from, in order: explicit arguments; environment
 * variables; `secrets.toml`; `config.toml` (project `.dlt/`, then global); registered providers; the
 * schema's defaults (REFERENCE §8.1–8.3). Every field records where it came from, for
 * {@link explainConfig} and for messages.
 *
 * Object-typed fields are embedded sections (dlt's embedded configurations, e.g. `credentials`):
 * their fields are looked up under the field's key, and the object may also be given whole — as a
 * TOML table or, for credentials, as a native value such as a connection string.
 */
import type { z } from "zod";
import { coerceValue } from "./coerce.js";
import {
  ConfigFieldMissingError,
  ConfigValueInvalidError,
  ConfigValueNotSecretError,
  type MissingConfigField,
} from "./config-errors.js";
import { type LookupProbe, type LookupTrace, lookupField, sectionLookupPaths } from "./lookup.js";
import { ConfigContext } from "./providers.js";
import { REDACTED, redactText, registerSecret } from "./redact.js";
import {
  acceptsUndefined,
  configKeyOf,
  objectShape,
  type UnwrappedSchema,
  unwrapSchema,
} from "./schema-meta.js";

/** An explicit value: objects (credentials, embedded sections) may be partial. */
export type ExplicitValue<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { readonly [K in keyof T]?: T[K] | undefined }
    : T;

/** An explicit field: objects (credentials, embedded sections) may be partial or their native string. */
export type ExplicitField<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? ExplicitValue<T> | string
    : T;

/** Explicit values for a spec: any field may be given; credentials also as their native string. */
export type ExplicitConfig<S extends z.ZodType> = {
  readonly [K in keyof z.input<S>]?: ExplicitField<z.input<S>[K]> | undefined;
};

/** Options of {@link resolveConfig}. */
export interface ResolveConfigOptions<S extends z.ZodType = z.ZodType> {
  /**
   * Sections of the spec, most general first: `["sources", "github", "github_source"]`,
   * `["destination", "postgres"]`, `["pipelines", "<name>"]`. Dropped from the right during lookup.
   * @default []
   */
  readonly sections?: readonly string[];
  /** Sections kept while `sections` are dropped (e.g. `["data_writer"]`). @default [] */
  readonly embeddedSections?: readonly string[];
  /** Values given in code; they always win. `undefined` fields are looked up. */
  readonly explicit?: ExplicitConfig<S>;
  /** Name shown in messages. @default the last section, else `configuration` */
  readonly specName?: string;
  /** Providers to use. @default `ConfigContext.create()` (current env, project and global folders) */
  readonly context?: ConfigContext;
  /**
   * Pipeline name for prefixed lookups (`<PIPELINE>__SOURCES__...` first); `null` for none.
   * @default the context's (the active pipeline's) name
   */
  readonly pipelineName?: string | null;
}

/** Where a resolved field's value came from. */
export type FieldOrigin = "explicit" | "provider" | "default" | "unset" | "missing" | "refused" | "invalid";

/** Provenance of one field. Never holds a secret's value. */
export interface ResolvedField {
  /** Field path in the spec (schema keys): `access_token`, `credentials.password`. */
  readonly field: string;
  /** The config key path users write, most specific first (`sources.github.github_source.access_token`). */
  readonly key: string;
  readonly secret: boolean;
  readonly origin: FieldOrigin;
  /** Provider that won (`Environment Variables`, `secrets.toml`, `config.toml`, ...). */
  readonly provider?: string | undefined;
  /** The key in the provider's spelling (`SOURCES__GITHUB__ACCESS_TOKEN`). */
  readonly providerKey?: string | undefined;
  /** The file the value came from. */
  readonly location?: string | undefined;
  /** The value for display: secrets as `***`, URLs without passwords. */
  readonly display: string;
  /** Every (provider, key) tried, in order (empty for explicit values). */
  readonly tried: readonly LookupTrace[];
  /** For `refused`: why. */
  readonly note?: string | undefined;
}

/** A resolved spec with the provenance of each field. */
export interface ResolvedConfig<T> {
  readonly value: T;
  readonly specName: string;
  readonly fields: readonly ResolvedField[];
  readonly context: ConfigContext;
}

interface WholeProbe {
  readonly paths: readonly (readonly string[])[];
  /** Config keys from the whole value down to the current level. */
  readonly below: readonly string[];
  readonly meta: UnwrappedSchema;
  /** Field path of the embedded object, for messages. */
  readonly field: string;
}

interface Level {
  readonly sections: readonly string[];
  readonly embedded: readonly string[];
  readonly fieldPath: readonly string[];
  readonly wholes: readonly WholeProbe[];
}

interface LeafRecord {
  readonly fieldPath: readonly string[];
  readonly schema: z.ZodType;
  readonly secret: boolean;
  readonly key: string;
  readonly suggestedPath: readonly string[];
  origin: FieldOrigin;
  raw?: unknown;
  provider?: string | undefined;
  providerKey?: string | undefined;
  location?: string | undefined;
  tried: readonly LookupTrace[];
  note?: string | undefined;
  /** The embedded objects (field paths) that contain this leaf. */
  readonly parents: readonly string[];
}

interface WalkState {
  readonly context: ConfigContext;
  readonly specName: string;
  readonly collect: boolean;
  readonly leaves: LeafRecord[];
  /** Optional embedded objects: field path → schema. */
  readonly optionalObjects: Map<string, z.ZodType>;
  readonly nativeCache: Map<string, Record<string, unknown>>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date)
    return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Reads a field from a table given with config keys (snake_case) or schema keys. */
function pick(table: unknown, path: readonly string[], schemaKeys?: readonly string[]): unknown {
  let current = table;
  for (let i = 0; i < path.length; i++) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    const record = current as Record<string, unknown>;
    const key = path[i] as string;
    const alt = schemaKeys?.[i];
    current = Object.hasOwn(record, key)
      ? record[key]
      : alt !== undefined && Object.hasOwn(record, alt)
        ? record[alt]
        : undefined;
  }
  return current;
}

function parseNativeValue(
  state: WalkState,
  meta: UnwrappedSchema,
  value: string,
  where: string,
): Record<string, unknown> {
  const cached = state.nativeCache.get(value);
  if (cached) return cached;
  const name = meta.specName ?? "configuration";
  if (!meta.parseNative) {
    throw new ConfigValueInvalidError({
      specName: state.specName,
      problems: [
        `${where}: a string was given, but \`${name}\` must be given field by field (a TOML table).`,
      ],
      pipelineName: state.context.pipelineName,
    });
  }
  let fields: Record<string, unknown>;
  try {
    fields = meta.parseNative(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigValueInvalidError({
      specName: state.specName,
      problems: [`${where}: not a valid \`${name}\`: ${redactText(reason)}`],
      pipelineName: state.context.pipelineName,
    });
  }
  if (meta.secret) registerSecret(value);
  state.nativeCache.set(value, fields);
  return fields;
}

function suggestedIndex(sections: readonly string[]): number {
  return sections.length >= 3 && sections[0] === "sources" ? 1 : 0;
}

function walkObject(
  shape: Record<string, z.ZodType>,
  explicit: Record<string, unknown> | undefined,
  explicitOrigin: string,
  level: Level,
  state: WalkState,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, fieldSchema] of Object.entries(shape)) {
    const configKey = configKeyOf(name);
    const meta = unwrapSchema(fieldSchema);
    const fieldPath = [...level.fieldPath, name];
    const fieldLabel = fieldPath.join(".");
    const given = explicit ? pick(explicit, [name], [configKey]) : undefined;

    const childShape = meta.type === "object" ? objectShape(fieldSchema) : undefined;
    if (childShape) {
      let childExplicit: Record<string, unknown> | undefined;
      if (typeof given === "string") {
        childExplicit = parseNativeValue(state, meta, given, `\`${fieldLabel}\` (given in code)`);
      } else if (typeof given === "object" && given !== null) {
        childExplicit = { ...(given as Record<string, unknown>) };
      }
      const whole: WholeProbe = {
        paths: sectionLookupPaths(level.sections, level.embedded, configKey),
        below: [],
        meta,
        field: fieldLabel,
      };
      const child: Level = {
        sections: level.sections,
        embedded: [...level.embedded, configKey],
        fieldPath,
        wholes: [whole, ...level.wholes.map((w) => ({ ...w, below: [...w.below, configKey] }))],
      };
      if (acceptsUndefined(fieldSchema)) state.optionalObjects.set(fieldLabel, fieldSchema);
      out[name] = walkObject(childShape, childExplicit, explicitOrigin, child, state);
      continue;
    }

    const paths = sectionLookupPaths(level.sections, level.embedded, configKey);
    const leaf: LeafRecord = {
      fieldPath,
      schema: fieldSchema,
      secret: meta.secret,
      key: paths[0]?.join(".") ?? configKey,
      suggestedPath: paths[suggestedIndex(level.sections)] ?? paths[0] ?? [configKey],
      origin: "missing",
      tried: [],
      parents: level.wholes.map((w) => w.field),
    };
    state.leaves.push(leaf);

    if (given !== undefined) {
      leaf.origin = "explicit";
      leaf.raw = given;
      leaf.provider = explicitOrigin;
      // A secret given in code is masked like one read from a provider.
      if (meta.secret) registerSecret(given);
      out[name] = coerceValue(given, fieldSchema);
      continue;
    }

    const probes: LookupProbe[] = [
      { paths, secret: () => meta.secret },
      ...level.wholes.map(
        (w): LookupProbe => ({
          paths: w.paths,
          secret: (raw) => (typeof raw === "string" ? w.meta.secret || meta.secret : meta.secret),
          extract: (raw) => {
            const where = "a whole value";
            const fields =
              typeof raw === "string"
                ? parseNativeValue(state, w.meta, raw, `\`${w.field}\` (${where})`)
                : raw;
            const value = pick(fields, [...w.below, configKey], [...w.below, name]);
            return value === undefined
              ? { value: undefined, note: `holds no \`${[...w.below, configKey].join(".")}\`` }
              : { value };
          },
        }),
      ),
    ];
    try {
      const outcome = lookupField(state.context, probes, { field: fieldLabel });
      leaf.tried = outcome.traces;
      if (outcome.found) {
        leaf.origin = "provider";
        leaf.raw = outcome.value;
        leaf.provider = outcome.provider;
        leaf.providerKey = outcome.providerKey;
        leaf.location = outcome.location;
        if (meta.secret) registerSecret(outcome.value);
        out[name] = coerceValue(outcome.value, fieldSchema);
      }
    } catch (error) {
      if (state.collect && error instanceof ConfigValueNotSecretError) {
        leaf.origin = "refused";
        leaf.provider = error.provider;
        leaf.providerKey = error.key;
        leaf.note = error.message;
      } else if (state.collect && error instanceof ConfigValueInvalidError) {
        leaf.origin = "invalid";
        leaf.note = error.message;
      } else {
        throw error;
      }
    }
  }
  return out;
}

function display(value: unknown, secretField: boolean): string {
  if (value === undefined) return "";
  if (secretField) return REDACTED;
  if (typeof value === "string") return JSON.stringify(redactText(value));
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return value.toISOString();
  try {
    return redactText(JSON.stringify(value) ?? String(value));
  } catch {
    return redactText(String(value));
  }
}

function getAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const part of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = target;
  for (const part of path.slice(0, -1)) {
    const next = current[part];
    if (!isPlainObject(next)) return;
    current = next;
  }
  const last = path[path.length - 1];
  if (last !== undefined) current[last] = value;
}

interface InternalResult {
  readonly value: unknown;
  readonly valid: boolean;
  readonly fields: ResolvedField[];
  readonly specName: string;
  readonly context: ConfigContext;
}

/** @internal Shared by {@link resolveConfigWithProvenance} and {@link explainConfig}. */
export function resolveInternal(
  schema: z.ZodType,
  options: ResolveConfigOptions,
  collect: boolean,
): InternalResult {
  let context = options.context ?? ConfigContext.create();
  if (options.pipelineName !== undefined) {
    context = context.withPipelineName(options.pipelineName ?? undefined);
  }
  const sections = options.sections ?? [];
  const specName = options.specName ?? sections[sections.length - 1] ?? "configuration";
  const shape = objectShape(schema);
  if (!shape) {
    throw new ConfigValueInvalidError({
      specName,
      problems: ["a config spec must be a zod object schema (z.object({...}))."],
      code: "INVALID_ARGUMENT",
    });
  }
  const state: WalkState = {
    context,
    specName,
    collect,
    leaves: [],
    optionalObjects: new Map(),
    nativeCache: new Map(),
  };
  const level: Level = { sections, embedded: options.embeddedSections ?? [], fieldPath: [], wholes: [] };
  const assembled = walkObject(
    shape,
    options.explicit as Record<string, unknown> | undefined,
    "explicit",
    level,
    state,
  );

  // Optional embedded objects with nothing found stay undefined; their missing fields are not errors.
  for (const [objectField] of [...state.optionalObjects].sort((a, b) => b[0].length - a[0].length)) {
    const inside = state.leaves.filter((l) => l.parents.includes(objectField));
    if (inside.every((l) => l.origin === "missing")) {
      setAt(assembled, objectField.split("."), undefined);
      for (const l of inside) l.origin = "unset";
    }
  }
  for (const leaf of state.leaves) {
    if (leaf.origin === "missing" && acceptsUndefined(leaf.schema)) leaf.origin = "unset";
  }

  const missing = state.leaves.filter((l) => l.origin === "missing");
  if (missing.length > 0 && !collect) {
    throw new ConfigFieldMissingError({
      specName,
      missing: missing.map(
        (l): MissingConfigField => ({
          field: l.fieldPath.join("."),
          secret: l.secret,
          traces: l.tried,
          suggestedPath: l.suggestedPath,
        }),
      ),
      resolved: state.leaves
        .filter((l) => l.origin === "explicit" || l.origin === "provider")
        .map((l) => l.fieldPath.join(".")),
      context,
    });
  }

  let value: unknown;
  let valid = false;
  const problems: string[] = [];
  if (missing.length === 0 && !state.leaves.some((l) => l.origin === "refused" || l.origin === "invalid")) {
    const parsed = schema.safeParse(assembled);
    if (parsed.success) {
      value = parsed.data;
      valid = true;
    } else {
      for (const issue of parsed.error.issues) {
        const path = issue.path.map(String);
        const leaf = state.leaves.find((l) => l.fieldPath.join(".") === path.join("."));
        const from = leaf
          ? leaf.origin === "provider"
            ? ` (from ${leaf.provider} \`${leaf.providerKey}\`)`
            : leaf.origin === "explicit"
              ? " (given in code)"
              : ` (${leaf.origin})`
          : "";
        problems.push(`\`${path.join(".") || specName}\`${from}: ${redactText(issue.message)}`);
      }
      if (!collect) {
        throw new ConfigValueInvalidError({ specName, problems, pipelineName: context.pipelineName });
      }
    }
  }

  const fields = state.leaves.map((leaf): ResolvedField => {
    const field = leaf.fieldPath.join(".");
    let origin = leaf.origin;
    let shown: unknown = leaf.raw;
    if (origin === "unset") {
      const fallback = leaf.schema.safeParse(undefined);
      if (fallback.success && fallback.data !== undefined) {
        origin = "default";
        shown = fallback.data;
      }
    } else if (valid) {
      const out = getAt(value, leaf.fieldPath);
      if (out !== undefined && typeof out !== "object") shown = out;
    }
    const problem = problems.find((p) => p.startsWith(`\`${field}\``));
    return {
      field,
      key: leaf.key,
      secret: leaf.secret,
      origin,
      provider: leaf.provider,
      providerKey: leaf.providerKey,
      location: leaf.location,
      display: display(shown, leaf.secret),
      tried: leaf.tried,
      note: leaf.note ?? problem,
    };
  });
  return { value, valid, fields, specName, context };
}

/**
 * Resolves a config spec and returns the value with each field's provenance.
 *
 * @throws {ConfigFieldMissingError} when required fields are found nowhere (lists every key tried)
 * @throws {ConfigValueNotSecretError} when a secret is found in `config.toml`
 * @throws {ConfigValueInvalidError} when a value does not parse or validate
 */
export function resolveConfigWithProvenance<S extends z.ZodType>(
  schema: S,
  options: ResolveConfigOptions<S> = {},
): ResolvedConfig<z.output<S>> {
  const result = resolveInternal(schema, options as ResolveConfigOptions, false);
  return {
    value: result.value as z.output<S>,
    specName: result.specName,
    fields: result.fields,
    context: result.context,
  };
}

/**
 * Resolves a config spec: explicit values, then environment variables, `secrets.toml`, `config.toml`
 * (project, then global), registered providers, then the schema's defaults.
 *
 * @example
 * ```ts
 * const spec = z.object({ repoName: z.string(), accessToken: secret(z.string()) });
 * const { repoName, accessToken } = resolveConfig(spec, { sections: ["sources", "github", "github_source"] });
 * // tries GITHUB_PIPELINE__SOURCES__GITHUB__GITHUB_SOURCE__ACCESS_TOKEN ... SOURCES__GITHUB__ACCESS_TOKEN ...
 * ```
 */
export function resolveConfig<S extends z.ZodType>(
  schema: S,
  options: ResolveConfigOptions<S> = {},
): z.output<S> {
  return resolveConfigWithProvenance(schema, options).value;
}
