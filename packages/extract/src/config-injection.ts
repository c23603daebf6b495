/**
 * Config injection for sources, resources and transformers (dlt's `dlt.config.value` /
 * `dlt.secrets.value` argument defaults, REFERENCE §8.1): a function declared with a zod `config`
 * spec receives the resolved values as its config argument. Values the caller passes (the explicit
 * object) win field by field; the rest come from env, `secrets.toml`, `config.toml` and the spec's
 * defaults under the owner's sections.
 */
import {
  type ConfigDeclaration,
  type ConfigSpec,
  declareConfig,
  type ExplicitConfig,
  ExtractError,
  sourceConfigSections,
} from "@tsdlt/core";
import { currentScope, type ExtractScope } from "./context.js";

export type { ConfigSpec };

/** Values given in code for a config spec: every field optional. */
export type ConfigArgs<S extends ConfigSpec> = ExplicitConfig<S>;

/** Throws unless the explicit config argument is an object (or absent). */
export function checkExplicit(owner: string, value: unknown): ExplicitConfig<ConfigSpec> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ExtractError(
      `${owner} declares its config with a zod spec, so its first argument is an object of config values given in code (e.g. \`{ repoName: "dlt-hub/dlt" }\`); got ${Array.isArray(value) ? "an array" : `a ${typeof value}`}.`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  return value as ExplicitConfig<ConfigSpec>;
}

/**
 * The config of a resource or transformer: resolved when extract calls the function, under
 * `sources.<section>.<resource name>` (the name it runs under, after `withName`). Resolved once per
 * run of the resource (per call context) and reused for every call of a transformer.
 */
export class ResourceConfig {
  readonly spec: ConfigSpec;
  /** The section given, or the one of the source the resource was declared in. */
  readonly section: string | undefined;
  readonly #cache = new WeakMap<ExtractScope, unknown>();

  constructor(spec: ConfigSpec, section: string | undefined) {
    this.spec = spec;
    this.section = section;
  }

  /** The declaration for a resource called `name` (`register` lists it for `tsdlt config explain`). */
  declaration(name: string, register = false): ConfigDeclaration<ConfigSpec> {
    return declareConfig({
      kind: "resource",
      name,
      spec: this.spec,
      sections: sourceConfigSections(name, this.section),
      register,
    });
  }

  /** Resolves the config for the running resource (or `fallbackName` outside extract). */
  resolve(fallbackName: string, explicit: unknown): unknown {
    const scope = currentScope();
    if (scope !== undefined) {
      const cached = this.#cache.get(scope);
      if (cached !== undefined) return cached;
    }
    const name = scope?.kind === "resource" ? scope.resourceName : fallbackName;
    const value = this.declaration(name).resolve(checkExplicit(`Resource \`${name}\``, explicit));
    if (scope !== undefined) this.#cache.set(scope, value);
    return value;
  }
}
