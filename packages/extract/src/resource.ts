/**
 * Resources: named, hinted producers of items. Anything iterable can be a resource: arrays,
 * iterables, sync and async generators (and functions returning them), yielding items or pages
 * (arrays) of items. Transformers are resources fed by the items of another resource.
 *
 * Resources are immutable: `applyHints`, `withName`, `addMap`, `addFilter`, `addYieldMap`,
 * `addLimit`, `selectTables`, `bind` and `pipe` return a new resource and leave the original as it
 * was (so `pipeline.run(res.addLimit(10))`, not `res.addLimit(10); pipeline.run(res)`).
 */
import { type ConfigDeclaration, type ExplicitConfig, ExtractError, type z } from "@tsdlt/core";
import { type ConfigSpec, ResourceConfig } from "./config-injection.js";
import { currentScope } from "./context.js";
import { defer, isDeferred, isDeferredFunction } from "./defer.js";
import { iterateResource } from "./engine.js";
import {
  type ColumnsHint,
  dispositionOf,
  RESOURCE_HINT_KEYS,
  type ResourceHints,
  type TableNameHint,
  validateHints,
} from "./hints.js";
import { type Incremental, isIncremental } from "./incremental.js";

export type { ColumnsHint, ResourceHints, TableNameHint };

/** A function producing a resource's data; called by extract (with the arguments given to `bind`). */
// biome-ignore lint/suspicious/noExplicitAny: resource functions take any parameters (incremental defaults, bound arguments)
export type ResourceFunction = (...args: any[]) => unknown;

/** An item flowing through resource steps: whatever the resource yields. */
// biome-ignore lint/suspicious/noExplicitAny: steps see the resource's items untyped, as in dlt
type Item = any;

/** What a resource can be built from. */
export type ResourceData =
  | Iterable<unknown>
  | AsyncIterable<unknown>
  | ResourceFunction
  | Record<string, unknown>;

/**
 * A transformer function: receives what its parent yielded (one item, or a page as an array) and
 * returns or yields items, pages, promises or {@link defer}red calls.
 */
// biome-ignore lint/suspicious/noExplicitAny: the parent's items are whatever it yields
export type TransformerFunction = (items: any, ...args: any[]) => unknown;

/** Options of {@link resource}. */
export interface ResourceOptions extends ResourceHints {
  /** Resource name; default the function name, else `content`. It names the resource's state and default table. */
  readonly name?: string | undefined;
  /** Whether the resource is extracted when its source runs. @default true */
  readonly selected?: boolean | undefined;
  /**
   * Config section of a resource that declares a `config`: its keys are
   * `sources.<section>.<name>.<key>` (then `sources.<section>.<key>`, `sources.<name>.<key>`,
   * `sources.<key>`, `<key>`). Default: the section of the source function the resource is created
   * in, else the resource name (`sources.<name>.<key>`).
   */
  readonly section?: string | undefined;
  /** Run this resource concurrently with the other resources of the extract. @default false */
  readonly parallelized?: boolean | undefined;
  /**
   * An incremental cursor (see {@link incremental}) filtering this resource's items. It takes
   * precedence over an incremental declared as a default parameter of the resource function.
   */
  readonly incremental?: Incremental<unknown> | undefined;
}

/** Options of {@link resource} and {@link transformer} for a function that declares its config. */
export interface ConfiguredResourceOptions<S extends ConfigSpec> {
  /**
   * The function's config as a zod object spec (secret fields marked with `secret()`): a resource
   * function receives the resolved values as its first argument (a transformer as its second, after
   * the items) — dlt's `dlt.config.value` / `dlt.secrets.value` defaults. Values are resolved when
   * extract calls the function: fields given with `bind({...})` win, the others come from env,
   * `secrets.toml`, `config.toml` (pipeline-name prefixed first), then the spec's defaults.
   */
  readonly config: S;
}

/** Options of {@link transformer}. */
export interface TransformerOptions extends ResourceOptions {
  /** The resource (or data) whose items feed the transformer. Bind later with `parent.pipe(t)`. */
  readonly dataFrom?: DltResource | ResourceData | undefined;
}

/** Options of {@link DltResource.addLimit}. */
export interface LimitOptions {
  /** Stop after this many yields (pages), or rows with `countRows`. 0 → nothing is extracted. */
  readonly maxItems?: number | undefined;
  /** Stop after this many seconds since the resource started. */
  readonly maxTime?: number | undefined;
  /** Count rows instead of yields; the last page is not trimmed. @default false */
  readonly countRows?: boolean | undefined;
}

/** A step applied to every item of a resource, in the order added. @internal */
export type ResourceStep =
  | { readonly kind: "map"; readonly fn: (item: unknown) => unknown }
  | { readonly kind: "filter"; readonly fn: (item: unknown) => unknown }
  | { readonly kind: "yieldMap"; readonly fn: (item: unknown) => unknown }
  | { readonly kind: "selectTables"; readonly names: ReadonlySet<string> };

/** Everything that defines a resource. @internal */
export interface ResourceSpec {
  readonly name: string;
  readonly hints: Readonly<ResourceHints>;
  readonly selected: boolean;
  readonly parallelized: boolean;
  readonly incremental: Incremental<unknown> | undefined;
  /** Data or function of a plain resource. */
  readonly data: ResourceData | undefined;
  /** Function of a transformer. */
  readonly transform: TransformerFunction | undefined;
  /** Parent of a transformer (undefined while unbound). */
  readonly parent: DltResource | undefined;
  readonly steps: readonly ResourceStep[];
  readonly limit: LimitOptions | undefined;
  readonly args: readonly unknown[] | undefined;
  /** The declared config of the function (already injected by the function wrapper). */
  readonly config?: ResourceConfig | undefined;
}

const RESOURCE_BRAND: unique symbol = Symbol.for("tsdlt.resource");
const specs = new WeakMap<DltResource, ResourceSpec>();

/**
 * One-shot iterators (generator objects) already iterated by any resource. Kept per iterator, not per
 * resource: copies made by `applyHints`/`withName` share the iterator, and a generator function
 * returns a fresh one on every call.
 */
const consumedIterators = new WeakSet<object>();

/** @internal The spec of `resource`. */
export function specOf(resource: DltResource): ResourceSpec {
  const spec = specs.get(resource);
  if (spec === undefined) throw new ExtractError("Not a resource created by this copy of @tsdlt/extract.");
  return spec;
}

/** @internal Marks a one-shot iterator as consumed; throws when it already was. */
export function claimIterator(resourceName: string, data: object): void {
  if (!isOneShot(data)) return;
  if (consumedIterators.has(data)) {
    throw new ExtractError(
      `Resource \`${resourceName}\` wraps a generator that was already iterated. Pass a generator function instead of a generator object to extract it again.`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  consumedIterators.add(data);
}

function preview(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function scalarKind(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
    case "symbol":
      return `a ${typeof value}`;
    default:
      return undefined;
  }
}

/**
 * @internal Throws when `value` cannot be a resource's data (a string, number, ...), naming the
 * resource and, for functions, that the function returned it.
 */
export function assertResourceData(resourceName: string, value: unknown, returned: boolean): void {
  const kind = scalarKind(value);
  if (kind === undefined) return;
  const hint =
    typeof value === "string"
      ? " If it is JSON text, parse it first (e.g. `await response.json()`)."
      : " Wrap single values in an object, e.g. `{ value: 42 }`.";
  throw new ExtractError(
    `Resource \`${resourceName}\` ${returned ? "returned" : "was given"} ${kind} (${preview(value)}) as its data. A resource needs objects (rows), an array (page) of objects, or an (async) iterable or generator of them.${hint}`,
    { code: "EXTRACT_INVALID_DATA" },
  );
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isEmptyHint(value: unknown): boolean {
  if (value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return (
    typeof value === "object" &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype &&
    Object.keys(value).length === 0
  );
}

function pickHints(options: ResourceOptions): ResourceHints {
  const hints: Record<string, unknown> = {};
  for (const key of RESOURCE_HINT_KEYS) {
    const value = options[key];
    if (value !== undefined) hints[key] = value;
  }
  return hints as ResourceHints;
}

/** Merges `columns` hints: later columns update earlier ones by name. */
function mergeColumns(a: ColumnsHint | undefined, b: ColumnsHint): ColumnsHint {
  const toRecord = (hint: ColumnsHint | undefined): Record<string, Record<string, unknown>> => {
    if (!hint) return {};
    if (Array.isArray(hint)) {
      return Object.fromEntries(
        (hint as readonly { name: string }[]).map((c) => [c.name, { ...c } as Record<string, unknown>]),
      );
    }
    return Object.fromEntries(
      Object.entries(hint as Record<string, object>).map(([k, v]) => [
        k,
        { ...v } as Record<string, unknown>,
      ]),
    );
  };
  const out = toRecord(a);
  for (const [name, column] of Object.entries(toRecord(b))) out[name] = { ...out[name], ...column };
  return out as ColumnsHint;
}

/**
 * A named producer of items with table hints. Create it with {@link resource} or {@link transformer}.
 * `A` types the arguments of {@link DltResource.bind} (known for functions that declare a `config`).
 */
export class DltResource<A extends unknown[] = unknown[]> {
  /** The resource name: its state key and default table name. */
  readonly name: string;
  /** Table hints (frozen). */
  readonly hints: Readonly<ResourceHints>;
  /** Whether the resource is extracted when its source runs. */
  readonly selected: boolean;

  /** @internal Use {@link resource} or {@link transformer}. */
  constructor(spec: ResourceSpec) {
    if (typeof spec.name !== "string" || spec.name.trim() === "") {
      throw new ExtractError("A resource needs a non-empty `name`.", { code: "INVALID_ARGUMENT" });
    }
    validateHints(spec.name, spec.hints);
    const frozen: ResourceSpec = Object.freeze({ ...spec, hints: Object.freeze({ ...spec.hints }) });
    specs.set(this, frozen);
    this.name = frozen.name;
    this.hints = frozen.hints;
    this.selected = frozen.selected;
    Object.defineProperty(this, RESOURCE_BRAND, { value: true });
  }

  #with(changes: Partial<ResourceSpec>): DltResource<A> {
    return new DltResource({ ...specOf(this), ...changes }) as DltResource<A>;
  }

  /** True for transformers (resources fed by another resource). */
  get isTransformer(): boolean {
    return specOf(this).transform !== undefined;
  }

  /** The parent of a transformer, if bound. */
  get parent(): DltResource | undefined {
    return specOf(this).parent;
  }

  /** Whether the resource runs concurrently with the other resources of an extract. */
  get parallelized(): boolean {
    return specOf(this).parallelized;
  }

  /** The incremental given as an option (a template; each run binds a copy). */
  get incremental(): Incremental<unknown> | undefined {
    return specOf(this).incremental;
  }

  /** The plain write disposition (`append` when not hinted). */
  get writeDisposition(): "append" | "replace" | "merge" | "skip" {
    return dispositionOf(this.hints.writeDisposition);
  }

  /** The table name hint: a name, a function of the item, or the resource name. */
  get tableName(): TableNameHint {
    return this.hints.tableName ?? this.name;
  }

  /**
   * The config the resource function declares (spec and the sections of its keys, for the current
   * name), or undefined. `resource.config?.explain()` shows where each value comes from.
   */
  get config(): ConfigDeclaration | undefined {
    return specOf(this).config?.declaration(this.name);
  }

  /** The limit set by {@link DltResource.addLimit}. */
  get limit(): LimitOptions | undefined {
    return specOf(this).limit;
  }

  /** True when the resource wraps a generator object that was already iterated. */
  get exhausted(): boolean {
    const data = specOf(this).data;
    return typeof data === "object" && data !== null && isOneShot(data) && consumedIterators.has(data);
  }

  /**
   * A copy with hints replaced where given: `undefined` keeps a hint, an empty value (`""`, `[]`,
   * `{}`) removes it, `columns` are merged into the existing columns.
   */
  applyHints(
    hints: ResourceHints & { readonly incremental?: Incremental<unknown> | undefined },
  ): DltResource<A> {
    const spec = specOf(this);
    const next: Record<string, unknown> = { ...spec.hints };
    for (const [key, value] of Object.entries(stripUndefined(pickHints(hints)))) {
      if (isEmptyHint(value)) delete next[key];
      else if (key === "columns") next[key] = mergeColumns(spec.hints.columns, value as ColumnsHint);
      else next[key] = value;
    }
    return this.#with({ hints: next as ResourceHints, incremental: hints.incremental ?? spec.incremental });
  }

  /** A copy under another name: separate state, and a default table named after it. */
  withName(name: string): DltResource<A> {
    return this.#with({ name });
  }

  /** A copy that is (or is not) selected for extraction. */
  withSelected(selected: boolean): DltResource<A> {
    return this.#with({ selected });
  }

  /** A copy that runs concurrently with the other resources of an extract. */
  parallelize(): DltResource<A> {
    return this.#with({ parallelized: true });
  }

  /** A copy that transforms every item with `fn` (pages are mapped item by item; async allowed). */
  addMap(fn: (item: Item) => unknown): DltResource<A> {
    return this.#with({ steps: [...specOf(this).steps, { kind: "map", fn }] });
  }

  /** A copy that keeps the items for which `fn` returns true (async allowed). */
  addFilter(fn: (item: Item) => unknown): DltResource<A> {
    return this.#with({ steps: [...specOf(this).steps, { kind: "filter", fn }] });
  }

  /** A copy that replaces every item by the 0..n items `fn` returns or yields (an array, iterable or async iterable). */
  addYieldMap(fn: (item: Item) => unknown): DltResource<A> {
    return this.#with({ steps: [...specOf(this).steps, { kind: "yieldMap", fn }] });
  }

  /**
   * A copy that stops after `maxItems` yields (pages; rows with `countRows`) or `maxTime` seconds.
   * The yield reaching the limit is still extracted; `0` extracts nothing. Replaces an earlier limit.
   * Has no effect on transformers (a warning is logged).
   */
  addLimit(limit: number | LimitOptions): DltResource<A> {
    const options: LimitOptions = typeof limit === "number" ? { maxItems: limit } : limit;
    for (const key of ["maxItems", "maxTime"] as const) {
      const value = options[key];
      if (value !== undefined && !(typeof value === "number" && value >= 0)) {
        throw new ExtractError(`Resource \`${this.name}\`: addLimit ${key} must be a number >= 0.`, {
          code: "INVALID_ARGUMENT",
        });
      }
    }
    return this.#with({ limit: options });
  }

  /**
   * A copy that keeps only items going to the given tables (for resources with a `tableName`
   * function that route items to several tables).
   */
  selectTables(...names: string[]): DltResource<A> {
    return this.#with({ steps: [...specOf(this).steps, { kind: "selectTables", names: new Set(names) }] });
  }

  /**
   * A copy whose function is called with `args` (parametrizes a resource or transformer function once).
   * An {@link Incremental} among the arguments is bound like a default-parameter one. For a function
   * that declares a `config`, the first argument holds config values given in code (they win over
   * config providers).
   */
  bind(...args: A): DltResource {
    const spec = specOf(this);
    if (spec.args !== undefined) {
      throw new ExtractError(
        `Resource \`${this.name}\` is already parametrized; bind the original resource instead.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    if (spec.transform === undefined && typeof spec.data !== "function") {
      throw new ExtractError(
        `Resource \`${this.name}\` wraps data, not a function; only resource and transformer functions take arguments.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    return this.#with({ args });
  }

  /**
   * Feeds this resource's items into `next`: a transformer (returns a copy of it bound to this
   * resource) or a function (a generator function becomes {@link DltResource.addYieldMap}, any other
   * function {@link DltResource.addMap}). dlt's `resource | transformer`.
   */
  pipe(next: DltResource | ((item: Item) => unknown)): DltResource {
    if (isResource(next)) {
      const spec = specOf(next);
      if (spec.transform === undefined) {
        throw new ExtractError(
          `Resource \`${next.name}\` is not a transformer, so \`${this.name}\` cannot be piped into it. Create it with transformer(fn).`,
          { code: "INVALID_ARGUMENT" },
        );
      }
      return new DltResource({ ...spec, parent: this });
    }
    if (typeof next !== "function") {
      throw new ExtractError(`Resource \`${this.name}\`: pipe() takes a transformer or a function.`, {
        code: "INVALID_ARGUMENT",
      });
    }
    const kind = next.constructor?.name;
    return kind === "GeneratorFunction" || kind === "AsyncGeneratorFunction"
      ? this.addYieldMap(next)
      : this.addMap(next);
  }

  /**
   * Iterates the items of this resource standalone, as pages (arrays): single items become
   * one-element pages. Runs steps, transformers' parents and incremental filters, with a throw-away
   * state (incrementals start from `initialValue`). A one-shot iterator (a generator object) can be
   * iterated once only.
   */
  pages(): AsyncGenerator<unknown[]> {
    return iterateResource(this);
  }
}

/** True when `value` is a {@link DltResource} (also from another copy of this package). */
export function isResource(value: unknown): value is DltResource {
  return (
    value instanceof DltResource ||
    (typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[RESOURCE_BRAND] === true)
  );
}

function defaultName(data: unknown): string | undefined {
  return typeof data === "function" && data.name ? data.name : undefined;
}

/** The section a resource takes when none is given: the one of the source function creating it. */
function enclosingSection(): string | undefined {
  const scope = currentScope();
  return scope?.kind === "source" ? scope.section : undefined;
}

function declaredConfig(
  what: string,
  name: string,
  options: { readonly config?: ConfigSpec | undefined; readonly section?: string | undefined },
  isFunction: boolean,
): ResourceConfig | undefined {
  if (options.config === undefined) return undefined;
  if (!isFunction) {
    throw new ExtractError(
      `${what} \`${name}\` declares a \`config\`, but only resource and transformer functions receive config: pass a function.`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  const config = new ResourceConfig(options.config, options.section ?? enclosingSection());
  config.declaration(name, true);
  return config;
}

/** Copies the function's name onto its wrapper. */
function named<F extends (...args: never[]) => unknown>(wrapper: F, fn: { readonly name: string }): F {
  Object.defineProperty(wrapper, "name", { value: fn.name });
  return wrapper;
}

/** A resource function receiving its resolved config as the first argument. */
function injectResource(fn: ResourceFunction, config: ResourceConfig, name: string): ResourceFunction {
  return named((...args: unknown[]) => fn(config.resolve(name, args[0]), ...args.slice(1)), fn);
}

/**
 * A transformer function receiving its resolved config as the second argument, keeping what extract
 * reads from the function: async functions and {@link defer}red ones still run concurrently.
 */
function injectTransformer(
  fn: TransformerFunction,
  config: ResourceConfig,
  name: string,
): TransformerFunction {
  const call = (items: unknown, args: unknown[]): unknown =>
    fn(items, config.resolve(name, args[0]), ...args.slice(1));
  if (isDeferredFunction(fn)) {
    return named(
      defer((items: unknown, ...args: unknown[]) => {
        const deferred = call(items, args);
        return isDeferred(deferred) ? deferred.run() : deferred;
      }),
      fn,
    );
  }
  if (fn.constructor?.name === "AsyncFunction") {
    return named(async (items: unknown, ...args: unknown[]) => call(items, args), fn);
  }
  return named((items: unknown, ...args: unknown[]) => call(items, args), fn);
}

/**
 * Creates a resource from data (an array, iterable, async iterable, generator object or a single
 * object) or from a function (a generator, async generator or function returning data). Functions
 * are called by extract, so an {@link incremental} default parameter binds to the resource.
 * Given a resource, returns a re-hinted copy of it.
 *
 * A function declaring a `config` spec receives its resolved config as its first argument (see
 * {@link ConfiguredResourceOptions}); `resource.bind({ ... })` gives values in code.
 *
 * @example
 * ```ts
 * const users = resource([{ id: 1 }], { name: "users", primaryKey: "id" });
 * const issues = resource(
 *   async function* issues(updatedAt = incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" })) {
 *     yield* paginate(URL, { params: { since: updatedAt.lastValue } });
 *   },
 *   { writeDisposition: "merge", primaryKey: "id" },
 * );
 * const clones = resource(
 *   async function* traffic_clones({ repoName, accessToken }) {
 *     yield await fetchClones(repoName, accessToken);
 *   },
 *   { section: "github", config: z.object({ repoName: z.string(), accessToken: secret(z.string()) }) },
 * ); // reads sources.github.traffic_clones.repo_name → sources.github.repo_name → ...
 * ```
 */
export function resource<S extends ConfigSpec, R extends unknown[] = []>(
  fn: (config: z.output<S>, ...rest: R) => unknown,
  options: ResourceOptions & ConfiguredResourceOptions<S>,
): DltResource<[explicit?: ExplicitConfig<S>, ...rest: R]>;
export function resource(data: ResourceData | DltResource, options?: ResourceOptions): DltResource;
export function resource(
  data: ResourceData | DltResource,
  options: ResourceOptions & { readonly config?: ConfigSpec | undefined } = {},
): DltResource {
  if (isResource(data)) {
    if (options.config !== undefined) {
      throw new ExtractError(
        `Resource \`${data.name}\` already exists; declare \`config\` when creating it from its function.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    let out = options.name ? data.withName(options.name) : data;
    out = out.applyHints({ ...options, incremental: options.incremental });
    if (options.selected !== undefined) out = out.withSelected(options.selected);
    if (options.parallelized) out = out.parallelize();
    return out;
  }
  const name = options.name ?? defaultName(data) ?? "content";
  assertResourceData(name, data, false);
  if (data === null || data === undefined) {
    throw new ExtractError(
      `Resource \`${name}\` was given ${String(data)} as its data; pass an array, an iterable or a function.`,
      { code: "EXTRACT_INVALID_DATA" },
    );
  }
  if (options.incremental !== undefined && !isIncremental(options.incremental)) {
    throw new ExtractError(
      `Resource \`${name}\`: the incremental option must be created with incremental("cursor", {...}).`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  const config = declaredConfig("Resource", name, options, typeof data === "function");
  return new DltResource({
    name,
    hints: pickHints(options),
    selected: options.selected ?? true,
    parallelized: options.parallelized ?? false,
    incremental: options.incremental,
    data: config ? injectResource(data as ResourceFunction, config, name) : data,
    transform: undefined,
    parent: undefined,
    steps: [],
    limit: undefined,
    args: undefined,
    config,
  });
}

/**
 * Creates a transformer: a resource whose function receives the items of another resource (what the
 * parent yielded: one item, or a page as an array) and yields, returns or defers new items. Feed it
 * with `dataFrom` or `parent.pipe(transformer)`. Async (non-generator) and {@link defer}red functions
 * run concurrently, at most `maxParallelItems` at a time. With a `config` spec the function receives
 * its resolved config as the second argument.
 *
 * @example
 * ```ts
 * const comments = transformer(
 *   async function* comments(issues: { number: number }[]) {
 *     for (const issue of issues) yield await fetchJson(`/issues/${issue.number}/comments`);
 *   },
 *   { dataFrom: issues, writeDisposition: "merge", primaryKey: "id" },
 * );
 * ```
 */
export function transformer<S extends ConfigSpec, R extends unknown[] = []>(
  // biome-ignore lint/suspicious/noExplicitAny: the parent's items are whatever it yields
  fn: (items: any, config: z.output<S>, ...rest: R) => unknown,
  options: TransformerOptions & ConfiguredResourceOptions<S>,
): DltResource<[explicit?: ExplicitConfig<S>, ...rest: R]>;
export function transformer(fn: TransformerFunction, options?: TransformerOptions): DltResource;
export function transformer(
  fn: TransformerFunction,
  options: TransformerOptions & { readonly config?: ConfigSpec | undefined } = {},
): DltResource {
  if (typeof fn !== "function") {
    throw new ExtractError(
      `A transformer needs a function as its first argument${isResource(fn) ? "; pass the parent resource as `dataFrom`" : ""}.`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  const name = options.name ?? defaultName(fn) ?? "transformer";
  const { dataFrom } = options;
  let parent: DltResource | undefined;
  if (dataFrom !== undefined) {
    parent = isResource(dataFrom)
      ? dataFrom
      : resource(dataFrom as ResourceData, { name: `${name}_data`, selected: false });
  }
  if (options.incremental !== undefined && !isIncremental(options.incremental)) {
    throw new ExtractError(
      `Transformer \`${name}\`: the incremental option must be created with incremental("cursor", {...}).`,
      { code: "INVALID_ARGUMENT" },
    );
  }
  const config = declaredConfig("Transformer", name, options, true);
  return new DltResource({
    name,
    hints: pickHints(options),
    selected: options.selected ?? true,
    parallelized: options.parallelized ?? false,
    incremental: options.incremental,
    data: undefined,
    transform: config ? injectTransformer(fn, config, name) : fn,
    parent,
    steps: [],
    limit: undefined,
    args: undefined,
    config,
  });
}

/** @internal True for functions whose calls are run under the concurrency bound. */
export function isConcurrentFunction(fn: unknown): boolean {
  return typeof fn === "function" && (fn.constructor?.name === "AsyncFunction" || isDeferredFunction(fn));
}

/** Generators and other iterators return themselves from `[Symbol.iterator]()`: they can run once. */
export function isOneShot(value: object): boolean {
  const it = value as { [Symbol.iterator]?: () => unknown; [Symbol.asyncIterator]?: () => unknown };
  if (typeof it[Symbol.asyncIterator] === "function") return it[Symbol.asyncIterator]?.() === value;
  return typeof it[Symbol.iterator] === "function" && it[Symbol.iterator]?.() === value;
}
