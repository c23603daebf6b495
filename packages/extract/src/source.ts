/**
 * Sources: named groups of resources that load into one schema (dlt's `@dlt.source`). A source
 * function returns or yields resources (or plain data); {@link source} turns it into a factory that
 * calls it and returns a {@link DltSource}. Sources are immutable like resources: `withResources`,
 * `withoutResources`, `addLimit`, `parallelize` and `clone` return new sources.
 */
import {
  type ConfigDeclaration,
  declareConfig,
  type ExplicitConfig,
  ExtractError,
  type SchemaContract,
  sourceConfigSections,
  type z,
} from "@tsdlt/core";
import { type ConfigSpec, checkExplicit } from "./config-injection.js";
import { runInScope } from "./context.js";
import type { ResourceHints } from "./hints.js";
import { type DltResource, isResource, type LimitOptions, resource } from "./resource.js";

/** Options of {@link source}. */
export interface SourceOptions {
  /** Source name, which is also the schema name and the state key. Default: the function name. */
  readonly name?: string | undefined;
  /**
   * Config section: the source's keys are `sources.<section>.<name>.<key>` (then
   * `sources.<section>.<key>`, `sources.<name>.<key>`, `sources.<key>`, `<key>`). dlt defaults it to
   * the Python module name; here the default is the source name, giving `sources.<name>.<key>`.
   */
  readonly section?: string | undefined;
  /** Nesting budget of the schema (normalizer config `max_nesting`). */
  readonly maxTableNesting?: number | undefined;
  /** Propagate the root row key `_dlt_root_id` to all nested tables (`root_key_propagation`). */
  readonly rootKey?: boolean | undefined;
  /** Schema contract of the schema (`settings.schema_contract`). */
  readonly schemaContract?: SchemaContract | undefined;
  /** Run every non-transformer resource concurrently. @default false */
  readonly parallelized?: boolean | undefined;
}

const SOURCE_BRAND: unique symbol = Symbol.for("tsdlt.source");

type Resolution =
  | { readonly resources: readonly DltResource[] }
  | { readonly pending: Promise<readonly DltResource[]> };

function observed<T>(promise: Promise<T>): Promise<T> {
  // the source may never be extracted: keep an early rejection from being reported as unhandled
  promise.catch(() => {});
  return promise;
}

/** A named group of resources. Create it by calling a factory made with {@link source}. */
export class DltSource {
  /** The source name: schema name and state key. */
  readonly name: string;
  readonly maxTableNesting: number | undefined;
  readonly rootKey: boolean | undefined;
  readonly schemaContract: SchemaContract | undefined;
  #resolution: Resolution;

  /**
   * A source over `resources` (or a promise of them, for async source functions). Prefer
   * {@link source}; this constructor is for building sources by hand.
   */
  constructor(
    name: string,
    resources: readonly DltResource[] | Promise<readonly DltResource[]>,
    options: Omit<SourceOptions, "name"> = {},
  ) {
    if (typeof name !== "string" || name.trim() === "") {
      throw new ExtractError("A source needs a non-empty name: pass a named function or `{ name }`.", {
        code: "INVALID_ARGUMENT",
      });
    }
    this.name = name;
    this.maxTableNesting = options.maxTableNesting;
    this.rootKey = options.rootKey;
    this.schemaContract = options.schemaContract;
    const parallelize = (list: readonly DltResource[]): readonly DltResource[] =>
      options.parallelized ? list.map((r) => (r.isTransformer ? r : r.parallelize())) : list;
    this.#resolution = Array.isArray(resources)
      ? { resources: checkNames(name, parallelize(resources as readonly DltResource[])) }
      : {
          pending: observed(
            (resources as Promise<readonly DltResource[]>).then((list) =>
              checkNames(name, parallelize(list)),
            ),
          ),
        };
    Object.defineProperty(this, SOURCE_BRAND, { value: true });
  }

  #options(): Omit<SourceOptions, "name"> {
    return {
      maxTableNesting: this.maxTableNesting,
      rootKey: this.rootKey,
      schemaContract: this.schemaContract,
    };
  }

  #derive(change: (resources: readonly DltResource[]) => readonly DltResource[]): DltSource {
    const r = this.#resolution;
    const next = "resources" in r ? change(r.resources) : observed(r.pending.then(change));
    return new DltSource(this.name, next, this.#options());
  }

  /** False while an async source function has not finished; `await source.resolve()` waits for it. */
  get isResolved(): boolean {
    return "resources" in this.#resolution;
  }

  /** Waits for an async source function and returns this source with its resources available. */
  async resolve(): Promise<DltSource> {
    const r = this.#resolution;
    if ("pending" in r) this.#resolution = { resources: await r.pending };
    return this;
  }

  #list(): readonly DltResource[] {
    const r = this.#resolution;
    if ("pending" in r) {
      throw new ExtractError(
        `Source \`${this.name}\` is still being created (its function is async). \`await source.resolve()\` before reading its resources.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    return r.resources;
  }

  /** All resources by name (selected or not). */
  get resources(): Readonly<Record<string, DltResource>> {
    return Object.freeze(Object.fromEntries(this.#list().map((r) => [r.name, r])));
  }

  /** The resources extracted when the source runs, by name. */
  get selectedResources(): Readonly<Record<string, DltResource>> {
    return Object.freeze(
      Object.fromEntries(
        this.#list()
          .filter((r) => r.selected)
          .map((r) => [r.name, r]),
      ),
    );
  }

  /** Resource names in declaration order. */
  get resourceNames(): string[] {
    return this.#list().map((r) => r.name);
  }

  /** The resource called `name`; throws naming the known resources when there is none. */
  resource(name: string): DltResource {
    const found = this.#list().find((r) => r.name === name);
    if (found === undefined) throw unknownResources(this.name, [name], this.#list());
    return found;
  }

  /** True when a selected resource wraps a generator object that was already iterated. */
  get exhausted(): boolean {
    return this.#list().some((r) => r.selected && r.exhausted);
  }

  /**
   * A copy in which only the named resources are selected (dlt's `with_resources`). Transformers'
   * parents still run (without loading) when only the transformer is selected.
   */
  withResources(...names: string[]): DltSource {
    return this.#derive((list) => {
      const missing = names.filter((n) => !list.some((r) => r.name === n));
      if (missing.length > 0) throw unknownResources(this.name, missing, list);
      return list.map((r) => r.withSelected(names.includes(r.name)));
    });
  }

  /** A copy in which the named resources are deselected. */
  withoutResources(...names: string[]): DltSource {
    return this.#derive((list) => {
      const missing = names.filter((n) => !list.some((r) => r.name === n));
      if (missing.length > 0) throw unknownResources(this.name, missing, list);
      return list.map((r) => (names.includes(r.name) ? r.withSelected(false) : r));
    });
  }

  /** A copy with `limit` applied to every selected non-transformer resource. */
  addLimit(limit: number | LimitOptions): DltSource {
    return this.#derive((list) => list.map((r) => (r.selected && !r.isTransformer ? r.addLimit(limit) : r)));
  }

  /**
   * A copy with `hints` applied to every selected resource (what dlt does with the table hints given
   * to `pipeline.run(source, ...)`); see {@link DltResource.applyHints}.
   */
  applyHints(hints: ResourceHints): DltSource {
    return this.#derive((list) => list.map((r) => (r.selected ? r.applyHints(hints) : r)));
  }

  /** A copy whose non-transformer resources run concurrently. */
  parallelize(): DltSource {
    return this.#derive((list) => list.map((r) => (r.isTransformer ? r : r.parallelize())));
  }

  /** A copy with other schema-level options (and optionally another name). */
  clone(options: SourceOptions = {}): DltSource {
    const r = this.#resolution;
    return new DltSource(options.name ?? this.name, "resources" in r ? r.resources : r.pending, {
      ...this.#options(),
      ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k !== "name" && v !== undefined)),
    });
  }
}

/** True when `value` is a {@link DltSource} (also from another copy of this package). */
export function isSource(value: unknown): value is DltSource {
  return (
    value instanceof DltSource ||
    (typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SOURCE_BRAND] === true)
  );
}

function unknownResources(
  source: string,
  names: readonly string[],
  list: readonly DltResource[],
): ExtractError {
  return new ExtractError(
    `Source \`${source}\` has no resource ${names.map((n) => `\`${n}\``).join(", ")}. Its resources: ${list.map((r) => `\`${r.name}\``).join(", ") || "(none)"}.`,
    { code: "INVALID_ARGUMENT" },
  );
}

function checkNames(source: string, list: readonly DltResource[]): readonly DltResource[] {
  const seen = new Set<string>();
  for (const r of list) {
    if (seen.has(r.name)) {
      throw new ExtractError(
        `Source \`${source}\` has two resources named \`${r.name}\`. Give each resource a distinct \`name\` (it keys the table and the state).`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    seen.add(r.name);
  }
  return list;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

/** What a source function returned, as resources. */
function toResources(source: string, value: unknown): readonly DltResource[] {
  if (value === undefined || value === null) {
    throw new ExtractError(
      `Source function \`${source}\` returned ${String(value)}. Return or yield resources (or data) from it.`,
      { code: "EXTRACT_INVALID_DATA" },
    );
  }
  if (isResource(value)) return [value];
  if (isSource(value)) return Object.values(value.resources);
  let items: unknown[] | undefined;
  if (Array.isArray(value)) items = value;
  else if (typeof value === "object" && typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") {
    items = [...(value as Iterable<unknown>)];
  }
  if (items !== undefined) {
    if (items.length === 0) return [];
    const resources = items.filter(isResource);
    if (resources.length === items.length) return resources;
    if (resources.length === 0) return [resource(items as unknown[], { name: source })];
    throw new ExtractError(
      `Source function \`${source}\` returned a mix of resources and other values. Return only resources, or wrap the data with resource(data, { name }).`,
      { code: "EXTRACT_INVALID_DATA" },
    );
  }
  if (typeof value === "object") return [resource(value as Record<string, unknown>, { name: source })];
  throw new ExtractError(
    `Source function \`${source}\` returned a ${typeof value}. Return or yield resources from it.`,
    { code: "EXTRACT_INVALID_DATA" },
  );
}

async function collectAsync(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/** Options of {@link source} for a source that declares its config. */
export interface ConfiguredSourceOptions<S extends ConfigSpec> extends SourceOptions {
  /**
   * The source's config as a zod object spec (secret fields marked with `secret()`): the function
   * receives the resolved values as its first argument — dlt's `dlt.config.value` /
   * `dlt.secrets.value` defaults. Fields the caller passes win; the others are read from env,
   * `secrets.toml`, `config.toml` (pipeline-name prefixed first), then the spec's defaults. A
   * missing required field fails the call with every key tried.
   */
  readonly config: S;
}

/** A source function made callable by {@link source}: returns a {@link DltSource} per call. */
export interface SourceFactory<A extends unknown[]> {
  (...args: A): DltSource;
  /** The source name. */
  readonly sourceName: string;
  /** The config section (`sources.<section>.<name>`); the source name unless one was given. */
  readonly section: string;
  /** The declared config (spec and sections), if the source declares one. */
  readonly config: ConfigDeclaration | undefined;
  /** A factory with other options (dlt's `clone` / `with_args`). */
  clone(options: SourceOptions): SourceFactory<A>;
}

/**
 * The factory of a source that declares its config: its first argument is optional and holds config
 * values given in code (typed from the spec, every field optional).
 */
export interface ConfiguredSourceFactory<S extends ConfigSpec, R extends unknown[]>
  extends SourceFactory<[explicit?: ExplicitConfig<S>, ...rest: R]> {
  readonly config: ConfigDeclaration<S>;
  clone(options: SourceOptions): ConfiguredSourceFactory<S, R>;
}

/**
 * Makes a source factory from a function that returns or yields resources (sync or async, a
 * generator or a plain function). Calling the factory runs the function at once — resources are
 * declared then, their generators run only when extracted — and returns a {@link DltSource} named
 * after the function (its schema name). Plain data returned by the function becomes one resource
 * named after the source.
 *
 * With a `config` spec the function's first parameter is its config, resolved when the factory is
 * called: values passed to the factory win, the rest come from config providers under
 * `sources.<section>.<name>` (see {@link ConfiguredSourceOptions}).
 *
 * @example
 * ```ts
 * const githubSource = source(
 *   function* github_source({ repoName, accessToken }) {
 *     for (const endpoint of ["issues", "comments"]) {
 *       yield resource(fetchGithub(repoName, endpoint, accessToken), { name: endpoint, primaryKey: "id" });
 *     }
 *   },
 *   { section: "github", config: z.object({ repoName: z.string(), accessToken: secret(z.string()) }) },
 * );
 * await pipeline.run(githubSource());                           // both from env / .dlt/*.toml
 * await pipeline.run(githubSource({ repoName: "dlt-hub/dlt" })); // the token still from config
 * ```
 */
export function source<S extends ConfigSpec, R extends unknown[] = []>(
  fn: (config: z.output<S>, ...rest: R) => unknown,
  options: ConfiguredSourceOptions<S>,
): ConfiguredSourceFactory<S, R>;
export function source<A extends unknown[]>(
  fn: (...args: A) => unknown,
  options?: SourceOptions,
): SourceFactory<A>;
export function source(
  // biome-ignore lint/suspicious/noExplicitAny: the implementation takes any source function
  fn: (...args: any[]) => unknown,
  options: SourceOptions & { readonly config?: ConfigSpec | undefined } = {},
): unknown {
  if (typeof fn !== "function") {
    throw new ExtractError("source() needs a function that returns or yields resources.", {
      code: "INVALID_ARGUMENT",
    });
  }
  const name = options.name ?? fn.name;
  if (!name) {
    throw new ExtractError(
      "source() needs a name: pass a named function (`source(function* github() {...})`) or `{ name }`.",
      { code: "INVALID_ARGUMENT" },
    );
  }
  const { name: _name, config: spec, section: givenSection, ...rest } = options;
  const section = givenSection ?? name;
  const declaration =
    spec === undefined
      ? undefined
      : declareConfig({ kind: "source", name, spec, sections: sourceConfigSections(name, section) });
  const factory = (...args: unknown[]): DltSource => {
    const callArgs = declaration
      ? [declaration.resolve(checkExplicit(`Source \`${name}\``, args[0])), ...args.slice(1)]
      : args;
    const result = runInScope({ kind: "source", sourceName: name, section }, () => fn(...callArgs));
    if (isThenable(result)) {
      return new DltSource(
        name,
        Promise.resolve(result).then((value) => toResources(name, value)),
        rest,
      );
    }
    if (
      typeof result === "object" &&
      result !== null &&
      typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"
    ) {
      return new DltSource(
        name,
        collectAsync(result as AsyncIterable<unknown>).then((items) => toResources(name, items)),
        rest,
      );
    }
    return new DltSource(name, toResources(name, result), rest);
  };
  return Object.assign(factory, {
    sourceName: name,
    section,
    config: declaration,
    clone: (next: SourceOptions): SourceFactory<unknown[]> =>
      source(fn, { ...options, ...stripUndefined(next) } as SourceOptions),
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
