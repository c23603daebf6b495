/**
 * Config declared by a source, resource or destination (dlt's `dlt.config.value` / `dlt.secrets.value`
 * argument defaults, REFERENCE §8.1): a zod object spec plus the sections its keys live in. The
 * declaring function receives the resolved values; values given in code win; every declaration is
 * listed by {@link declaredConfigs} so `tsdlt config explain --module` can show where each key comes from.
 *
 * Sections follow dlt: a source `github_source` in section `github` reads
 * `sources.github.github_source.<key>` → `sources.github.<key>` → `sources.github_source.<key>` →
 * `sources.<key>` → `<key>`, each first prefixed with the active pipeline's name; a destination
 * `my_sink` reads `destination.my_sink.<key>` → `destination.<key>` → `<key>`.
 */
import type { z } from "zod";
import { ConfigValueInvalidError } from "./config-errors.js";
import { type ConfigExplanation, explainConfig } from "./explain.js";
import type { ConfigContext } from "./providers.js";
import { type ExplicitConfig, resolveConfig } from "./resolve.js";
import { objectShape } from "./schema-meta.js";

/** A config spec: a zod object schema (mark secret fields with `secret()`). */
export type ConfigSpec = z.ZodType<Record<string, unknown>>;

/** What declared the config. */
export type ConfigOwnerKind = "source" | "resource" | "destination";

/** Options of {@link ConfigDeclaration.resolve} and {@link ConfigDeclaration.explain}. */
export interface DeclaredConfigOptions {
  /** Providers to read. @default `ConfigContext.create()` */
  readonly context?: ConfigContext | undefined;
  /**
   * Pipeline name for prefixed lookups (`<PIPELINE>__SOURCES__...` first); `null` for none.
   * @default the active pipeline's name (the pipeline created last)
   */
  readonly pipelineName?: string | null | undefined;
}

/** Options of {@link declareConfig}. */
export interface DeclareConfigOptions<S extends z.ZodType> {
  readonly kind: ConfigOwnerKind;
  /** Name of the source, resource or destination. */
  readonly name: string;
  /** The spec: a zod object schema; mark secret fields with `secret()`. */
  readonly spec: S;
  /** Sections of its keys, most general first (`["sources", "github", "github_source"]`). */
  readonly sections: readonly string[];
  /** Listed by {@link declaredConfigs}. @default true */
  readonly register?: boolean;
}

/** A declared config: resolve it (explicit values win) or explain where each value would come from. */
export interface ConfigDeclaration<S extends z.ZodType = z.ZodType> {
  readonly kind: ConfigOwnerKind;
  readonly name: string;
  readonly spec: S;
  readonly sections: readonly string[];
  /**
   * Resolves the spec: `explicit` values, then env, `secrets.toml`, `config.toml`, registered
   * providers, then the spec's defaults.
   *
   * @throws {ConfigFieldMissingError} listing every key tried for each missing field
   */
  resolve(explicit?: ExplicitConfig<S> | undefined, options?: DeclaredConfigOptions): z.output<S>;
  /** Where each field comes from (or would be looked up), secrets masked; never throws for missing values. */
  explain(options?: DeclaredConfigOptions): ConfigExplanation;
}

const REGISTRY_KEY: unique symbol = Symbol.for("tsdlt.config.declarations");

/** Shared through `globalThis`, so declarations made by another copy of this package are listed too. */
function registry(): Map<string, ConfigDeclaration> {
  const holder = globalThis as unknown as Record<symbol, Map<string, ConfigDeclaration> | undefined>;
  let map = holder[REGISTRY_KEY];
  if (map === undefined) {
    map = new Map();
    holder[REGISTRY_KEY] = map;
  }
  return map;
}

function resolveOptions(
  declaration: { readonly sections: readonly string[]; readonly name: string },
  options: DeclaredConfigOptions,
): { sections: readonly string[]; specName: string; context?: ConfigContext; pipelineName?: string | null } {
  return {
    sections: declaration.sections,
    specName: declaration.name,
    ...(options.context ? { context: options.context } : {}),
    ...(options.pipelineName !== undefined ? { pipelineName: options.pipelineName } : {}),
  };
}

/**
 * Declares the config of a source, resource or destination: checks that `spec` is a zod object
 * schema and (unless `register: false`) lists it in {@link declaredConfigs}, replacing an earlier
 * declaration of the same kind and sections.
 *
 * @example
 * ```ts
 * const declaration = declareConfig({
 *   kind: "source",
 *   name: "github_source",
 *   spec: z.object({ repoName: z.string(), accessToken: secret(z.string()) }),
 *   sections: sourceConfigSections("github_source", "github"),
 * });
 * const { repoName, accessToken } = declaration.resolve({ repoName: "dlt-hub/dlt" });
 * ```
 */
export function declareConfig<S extends z.ZodType>(options: DeclareConfigOptions<S>): ConfigDeclaration<S> {
  const { kind, name, spec } = options;
  if (typeof spec !== "object" || spec === null || objectShape(spec) === undefined) {
    throw new ConfigValueInvalidError({
      specName: name,
      problems: [
        `the \`config\` of ${kind} \`${name}\` must be a zod object schema, e.g. \`z.object({ repoName: z.string(), accessToken: secret(z.string()) })\`.`,
      ],
      code: "INVALID_ARGUMENT",
    });
  }
  const sections = Object.freeze([...options.sections]);
  const declaration: ConfigDeclaration<S> = Object.freeze({
    kind,
    name,
    spec,
    sections,
    resolve(explicit?: ExplicitConfig<S>, resolve: DeclaredConfigOptions = {}): z.output<S> {
      return resolveConfig(spec, {
        ...resolveOptions(declaration, resolve),
        ...(explicit !== undefined ? { explicit } : {}),
      });
    },
    explain(explain: DeclaredConfigOptions = {}): ConfigExplanation {
      return explainConfig(spec, resolveOptions(declaration, explain));
    },
  });
  if (options.register !== false) registry().set(`${kind}:${sections.join(".")}`, declaration);
  return declaration;
}

/** Every registered declaration (sources, resources, destinations), in declaration order. */
export function declaredConfigs(): readonly ConfigDeclaration[] {
  return [...registry().values()];
}

/**
 * The sections of a source's (or resource's) config keys: `["sources", section, name]`, or
 * `["sources", name]` when the section is the name or not given (dlt's section defaults to the Python
 * module name, which TypeScript functions do not have).
 */
export function sourceConfigSections(name: string, section?: string | undefined): string[] {
  return section === undefined || section === name ? ["sources", name] : ["sources", section, name];
}

/** The sections of a destination's config keys: `["destination", name]`. */
export function destinationConfigSections(name: string): string[] {
  return ["destination", name];
}
