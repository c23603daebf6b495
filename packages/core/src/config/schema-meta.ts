/**
 * Config specs are zod schemas. This module marks fields as secrets and object schemas as credentials
 * (which also accept a native form such as a connection string), and reads those marks back while
 * looking through zod's wrappers (`optional`, `default`, `nullable`, `pipe`/`transform`, ...).
 */
import { z } from "zod";

/** What tsdlt knows about a schema beyond zod: set by {@link secret} and {@link defineCredentials}. */
export interface ConfigSchemaMeta {
  /** The value must come from a secret-capable provider (env, `secrets.toml`) and is masked when shown. */
  readonly secret?: boolean;
  /** Spec name used in messages (`PostgresCredentials`). */
  readonly specName?: string;
  /**
   * Parses the native form of an object spec (a connection string, a path) into its fields (config
   * keys, snake_case or schema keys). Throw an `Error` with a message that does not echo the value.
   */
  readonly parseNative?: (value: string) => Record<string, unknown>;
}

const META = new WeakMap<object, ConfigSchemaMeta>();

function setMeta(schema: object, meta: ConfigSchemaMeta): void {
  META.set(schema, { ...META.get(schema), ...meta });
}

/**
 * Marks a field as a secret: it is read only from secret-capable providers (environment variables and
 * `secrets.toml`; a value found in `config.toml` is refused), registered for masking, and shown as `***`.
 * Returns a marked copy; `schema` itself is left as it was. `z.string().meta({ secret: true })` is
 * recognised as well (when made with the `z` of `@tsdlt/core`).
 *
 * @example
 * ```ts
 * const spec = z.object({ repoName: z.string(), accessToken: secret(z.string()) });
 * ```
 */
export function secret<T extends z.ZodType>(schema: T): T {
  const marked = schema.clone() as T;
  setMeta(marked, { secret: true });
  return marked;
}

/** Options of {@link defineCredentials}. */
export interface DefineCredentialsOptions {
  /** Spec name shown in messages. */
  readonly name: string;
  /** Parses the native representation (e.g. a connection string) into fields. */
  readonly parseNative?: (value: string) => Record<string, unknown>;
  /**
   * Whether the native value is itself a secret (a connection string carrying a password): then it
   * is refused from `config.toml` like any secret. @default true
   */
  readonly secret?: boolean;
}

/**
 * Marks an object schema as a credentials spec: it may be given either field by field or as one
 * native value (`"postgresql://loader:pw@localhost/dlt_data"`), explicitly or from any provider.
 */
export function defineCredentials<T extends z.ZodType>(schema: T, options: DefineCredentialsOptions): T {
  const meta: {
    secret: boolean;
    specName: string;
    parseNative?: (value: string) => Record<string, unknown>;
  } = { secret: options.secret ?? true, specName: options.name };
  if (options.parseNative) meta.parseNative = options.parseNative;
  const marked = schema.clone() as T;
  setMeta(marked, meta);
  return marked;
}

/** Loose view of zod's internals that introspection needs. */
interface ZodInternals {
  readonly _zod: { readonly def: { readonly type: string } & Record<string, unknown> };
}

function defOf(schema: z.ZodType): ZodInternals["_zod"]["def"] {
  return (schema as unknown as ZodInternals)._zod.def;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"]);

/** A schema with its wrappers removed, plus the tsdlt marks found on the way. */
export interface UnwrappedSchema {
  /** The innermost schema (for a pipe/transform: its input side). */
  readonly inner: z.ZodType;
  /** zod type name of `inner` (`string`, `object`, `union`, ...). */
  readonly type: string;
  readonly secret: boolean;
  readonly specName: string | undefined;
  readonly parseNative: ((value: string) => Record<string, unknown>) | undefined;
}

function globalMeta(schema: z.ZodType): Record<string, unknown> | undefined {
  try {
    return z.globalRegistry.get(schema) as Record<string, unknown> | undefined;
  } catch {
    return undefined;
  }
}

/** Removes zod wrappers and collects the tsdlt marks of every layer. */
export function unwrapSchema(schema: z.ZodType): UnwrappedSchema {
  let current = schema;
  let secretMark = false;
  let specName: string | undefined;
  let parseNative: ((value: string) => Record<string, unknown>) | undefined;
  for (let depth = 0; depth < 64; depth++) {
    const meta = META.get(current);
    if (meta?.secret) secretMark = true;
    if (meta?.specName) specName ??= meta.specName;
    if (meta?.parseNative) parseNative ??= meta.parseNative;
    if (globalMeta(current)?.secret === true) secretMark = true;
    const def = defOf(current);
    if (WRAPPERS.has(def.type)) {
      current = def.innerType as z.ZodType;
    } else if (def.type === "pipe") {
      current = def.in as z.ZodType;
    } else if (def.type === "lazy") {
      current = (def.getter as () => z.ZodType)();
    } else {
      break;
    }
  }
  return { inner: current, type: defOf(current).type, secret: secretMark, specName, parseNative };
}

/** The fields of an object schema (after unwrapping), or undefined for other schemas. */
export function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const { inner, type } = unwrapSchema(schema);
  if (type !== "object") return undefined;
  return defOf(inner).shape as Record<string, z.ZodType>;
}

/** True when the field may be absent (optional, or has a default). */
export function acceptsUndefined(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

/** The zod definition of a schema (for coercion). @internal */
export function schemaDef(schema: z.ZodType): { readonly type: string } & Record<string, unknown> {
  return defOf(schema);
}

/**
 * The config key of a schema field: camelCase field names become dlt's snake_case keys
 * (`accessToken` → `access_token`); snake_case names stay as they are.
 */
export function configKeyOf(fieldName: string): string {
  return fieldName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}
