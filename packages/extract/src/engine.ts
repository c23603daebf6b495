/**
 * The pipe runner of extract: turns a set of resources into a DAG (each transformer below its
 * parent; a parent runs once even when several transformers and its own table consume it), drives
 * every root generator, pushes pages through steps, incremental filters and transformers, and hands
 * pages of selected resources to a writer.
 *
 * Concurrency: deferred calls, yielded promises and async (non-generator) transformer functions run
 * concurrently, at most `maxParallelItems` at a time across the whole extract; a slot is held only
 * while the work itself runs, so nested work never deadlocks. Generators are pulled one value at a
 * time (back-pressure: a full pool stops the pulling). With `nextItemMode: "round_robin"` (dlt's
 * default) the root resources run side by side, at most `maxParallelItems` of them at a time; with
 * `"fifo"` parallelized resources run side by side with the others and the rest one after another.
 * The first failure stops everything: generators are closed, running work settles, and the error is
 * rethrown naming the resource.
 */
import { ExtractError, isTsdltError, type Logger, silentLogger } from "@tsdlt/core";
import { type ResourceScope, runInScope, type StateScope } from "./context.js";
import { isDeferred } from "./defer.js";
import {
  bindIncremental,
  type Incremental,
  type IncrementalRun,
  incrementalRun,
  isIncremental,
} from "./incremental.js";
import {
  assertResourceData,
  claimIterator,
  type DltResource,
  isConcurrentFunction,
  isResource,
  type ResourceSpec,
  type ResourceStep,
  specOf,
} from "./resource.js";

/** Default bound of concurrently running deferred calls / async transformer calls (dlt's `max_parallel_items`). */
export const DEFAULT_MAX_PARALLEL_ITEMS = 20;

/** Where the runner sends pages. @internal */
export interface EngineHooks {
  /** Receives every non-empty page of a selected resource after its steps. */
  write(node: PipeNode, page: unknown[]): void | Promise<void>;
  /** Called when a node's incremental is bound (its cursor column gets a hint). */
  incrementalBound?(node: PipeNode): void;
}

/**
 * How the runner takes items from several root resources (dlt's `next_item_mode`): `round_robin`
 * pulls them side by side, so the requests of independent REST resources overlap; `fifo` runs one
 * resource to its end before the next (parallelized resources still run side by side).
 */
export const NEXT_ITEM_MODES = ["round_robin", "fifo"] as const;
/** See {@link NEXT_ITEM_MODES}. */
export type NextItemMode = (typeof NEXT_ITEM_MODES)[number];

/** Options of {@link Engine}. @internal */
export interface EngineOptions {
  readonly state: StateScope;
  readonly logger: Logger;
  readonly maxParallelItems: number;
  readonly hooks: EngineHooks;
  /** @default "round_robin" */
  readonly nextItemMode?: NextItemMode;
}

/** A bounded pool of slots for concurrent work. */
class Pool {
  #free: number;
  #waiters: (() => void)[] = [];
  #aborted = false;

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  acquire(): Promise<void> | undefined {
    if (this.#aborted) return undefined;
    if (this.#free > 0) {
      this.#free--;
      return undefined;
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }

  abort(): void {
    this.#aborted = true;
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

type Settled =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

function settle(value: unknown): Promise<Settled> {
  return Promise.resolve(value).then(
    (v) => ({ ok: true, value: v }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

/** An iterator to drive when `value` is a stream (generator, async iterable, iterator), else undefined. */
function streamOf(value: unknown): AnyIterator | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as {
    [Symbol.asyncIterator]?: () => AnyIterator;
    [Symbol.iterator]?: () => AnyIterator;
    next?: unknown;
  };
  if (typeof v[Symbol.asyncIterator] === "function") return v[Symbol.asyncIterator]?.();
  if (typeof v[Symbol.iterator] === "function" && typeof v.next === "function") return v[Symbol.iterator]?.();
  return undefined;
}

/**
 * Items of an array given as data, batched for writing. Unlike a yielded page, transformers receive
 * them one by one (as dlt iterates a list item by item).
 */
class ItemBatch {
  readonly items: unknown[];
  constructor(items: unknown[]) {
    this.items = items;
  }
}

/** Arrays given directly are batched, so a huge array is not copied at once; nested arrays are pages. */
function* chunkArray(data: readonly unknown[]): Generator<unknown[] | ItemBatch> {
  const size = 1000;
  let batch: unknown[] = [];
  for (const value of data) {
    if (Array.isArray(value)) {
      if (batch.length) yield new ItemBatch(batch);
      batch = [];
      yield value;
    } else if (value !== undefined) {
      batch.push(value);
      if (batch.length >= size) {
        yield new ItemBatch(batch);
        batch = [];
      }
    }
  }
  if (batch.length) yield new ItemBatch(batch);
}

function keyList(key: string | readonly string[] | undefined): readonly string[] | undefined {
  if (key === undefined) return undefined;
  return typeof key === "string" ? [key] : key;
}

/** One resource in the running DAG. @internal */
export class PipeNode {
  readonly resource: DltResource;
  readonly spec: ResourceSpec;
  /** True when the resource is selected: its pages are written to its table(s). */
  readonly writes: boolean;
  readonly children: PipeNode[] = [];
  readonly parent: PipeNode | undefined;
  readonly scope: ResourceScope;
  /** The bound incremental of this run. */
  incremental: Incremental<unknown> | undefined;
  incrementalRun: IncrementalRun | undefined;
  /** Set when `rowOrder` says no further row can pass. */
  stopRequested = false;
  readonly inFlight: Set<Promise<void>> = new Set();
  readonly #options: EngineOptions;
  #fromOption = false;
  #args: readonly unknown[] | undefined;

  constructor(options: EngineOptions, resource: DltResource, writes: boolean, parent: PipeNode | undefined) {
    this.#options = options;
    this.resource = resource;
    this.spec = specOf(resource);
    this.writes = writes;
    this.parent = parent;
    this.scope = {
      kind: "resource",
      state: options.state,
      resourceName: resource.name,
      bindIncremental: (incremental) => this.bindIncremental(incremental as Incremental<unknown>),
    };
  }

  get isTransformer(): boolean {
    return this.spec.transform !== undefined;
  }

  /** Binds the resource's option incremental (it wins over one declared in the function). */
  bindOptionIncremental(): void {
    if (this.spec.incremental !== undefined && this.incremental === undefined) {
      this.bindIncremental(this.spec.incremental);
      this.#fromOption = true;
    }
  }

  bindIncremental(incremental: Incremental<unknown>): Incremental<unknown> {
    const name = this.resource.name;
    if (!isIncremental(incremental)) {
      throw new ExtractError(
        `Resource \`${name}\`: only incremental("cursor", {...}) objects can be bound.`,
        {
          code: "INVALID_ARGUMENT",
        },
      );
    }
    if (this.incremental !== undefined) {
      if (this.#fromOption || incremental.cursorPath === this.incremental.cursorPath) return this.incremental;
      throw new ExtractError(
        `Resource \`${name}\` declares a second incremental cursor \`${incremental.cursorPath}\` besides \`${this.incremental.cursorPath}\`. A resource has one incremental; filter on the other field with addFilter.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    const bound = bindIncremental(incremental, {
      resourceName: name,
      state: this.#options.state,
      resourcePrimaryKey: keyList(this.resource.hints.primaryKey),
      writeDisposition: this.resource.writeDisposition,
      logger: this.#options.logger,
    });
    this.incremental = bound;
    this.incrementalRun = incrementalRun(bound);
    this.#options.hooks.incrementalBound?.(this);
    return bound;
  }

  /** The bound arguments, with incrementals among them bound to this resource. */
  args(): readonly unknown[] {
    if (this.#args === undefined) {
      this.#args = (this.spec.args ?? []).map((arg) =>
        isIncremental(arg) ? this.bindIncremental(arg) : arg,
      );
    }
    return this.#args;
  }

  track(task: Promise<void>): void {
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }
}

interface Failure {
  readonly node: PipeNode;
  readonly error: unknown;
}

/** Runs a set of resources once. @internal */
export class Engine {
  readonly nodes: PipeNode[] = [];
  readonly roots: PipeNode[] = [];
  readonly #options: EngineOptions;
  readonly #pool: Pool;
  readonly #byName = new Map<string, PipeNode>();
  #candidates = new Map<string, DltResource>();
  #failure: Failure | undefined;

  constructor(options: EngineOptions) {
    this.#options = options;
    this.#pool = new Pool(options.maxParallelItems);
  }

  /**
   * Builds the DAG of the selected `resources` and the parents their transformers need. Parents are
   * matched by name among `resources` first, so a source's (re-hinted) resource feeds its transformers.
   */
  plan(resources: readonly DltResource[]): void {
    for (const resource of resources) {
      const existing = this.#candidates.get(resource.name);
      if (existing !== undefined && existing !== resource) {
        throw new ExtractError(
          `Two resources are named \`${resource.name}\`. Resource names must be unique within a source (they key the state); rename one with withName().`,
          { code: "INVALID_ARGUMENT" },
        );
      }
      this.#candidates.set(resource.name, resource);
    }
    for (const resource of resources) if (resource.selected) this.#node(resource, undefined);
  }

  #node(resource: DltResource, child: PipeNode | undefined): PipeNode {
    const existing = this.#byName.get(resource.name);
    if (existing !== undefined) {
      for (let up: PipeNode | undefined = existing; up !== undefined; up = up.parent) {
        if (child !== undefined && up === child) {
          throw new ExtractError(
            `Transformer \`${child.resource.name}\` is fed (through its parents) by itself; give the resources distinct names.`,
            { code: "INVALID_ARGUMENT" },
          );
        }
      }
      return existing;
    }
    const spec = specOf(resource);
    let parent: PipeNode | undefined;
    if (spec.transform !== undefined) {
      if (spec.parent === undefined) {
        throw new ExtractError(
          `Transformer \`${resource.name}\` has no parent resource. Give it \`dataFrom\` or pipe a resource into it: \`parent.pipe(${resource.name})\`.`,
          { code: "INVALID_ARGUMENT" },
        );
      }
      const parentResource = this.#candidates.get(spec.parent.name) ?? spec.parent;
      if (parentResource.name === resource.name) {
        throw new ExtractError(
          `Transformer \`${resource.name}\` has the same name as its parent; rename one with withName().`,
          { code: "INVALID_ARGUMENT" },
        );
      }
      // reserve the name so that the parent lookup can detect cycles
      parent = this.#byName.get(parentResource.name);
      if (parent === undefined) {
        const selected =
          this.#candidates.get(parentResource.name) === parentResource && parentResource.selected;
        parent = selected ? this.#node(parentResource, undefined) : this.#internalNode(parentResource);
      }
    }
    const writes = this.#candidates.get(resource.name) === resource && resource.selected;
    const node = new PipeNode(this.#options, resource, writes, parent);
    this.#byName.set(resource.name, node);
    this.nodes.push(node);
    if (parent) parent.children.push(node);
    else this.roots.push(node);
    return node;
  }

  /** A node for a parent that only feeds transformers (not written). */
  #internalNode(resource: DltResource): PipeNode {
    const spec = specOf(resource);
    let parent: PipeNode | undefined;
    if (spec.transform !== undefined) {
      if (spec.parent === undefined) {
        throw new ExtractError(
          `Transformer \`${resource.name}\` has no parent resource. Give it \`dataFrom\` or pipe a resource into it.`,
          { code: "INVALID_ARGUMENT" },
        );
      }
      const parentResource = this.#candidates.get(spec.parent.name) ?? spec.parent;
      parent = this.#byName.get(parentResource.name) ?? this.#internalNode(parentResource);
    }
    const node = new PipeNode(this.#options, resource, false, parent);
    this.#byName.set(resource.name, node);
    this.nodes.push(node);
    if (parent) parent.children.push(node);
    else this.roots.push(node);
    return node;
  }

  /** Nodes that write (selected resources), in plan order. */
  get writingNodes(): PipeNode[] {
    return this.nodes.filter((n) => n.writes);
  }

  /** Runs every root to completion; throws the first failure (wrapped to name the resource). */
  async run(): Promise<void> {
    try {
      for (const node of this.nodes) {
        node.bindOptionIncremental();
        if (node.isTransformer && node.spec.limit !== undefined) {
          this.#options.logger.warn(
            `Transformer \`${node.resource.name}\` has a limit, which has no effect on transformers; limit its parent resource instead.`,
          );
        }
      }
    } catch (error) {
      throw this.#wrap({ node: this.nodes[0] as PipeNode, error });
    }
    if ((this.#options.nextItemMode ?? "round_robin") === "round_robin") {
      // every root side by side (at most `maxParallelItems` at a time, started in order): their
      // values interleave, and async generators wait for their next value concurrently
      const queue = [...this.roots];
      const lane = async (): Promise<void> => {
        for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
          if (this.#failure) break;
          await this.#runRoot(node);
        }
      };
      const lanes = Math.max(1, Math.min(this.#options.maxParallelItems, queue.length));
      await Promise.allSettled(Array.from({ length: lanes }, lane));
    } else {
      const sequential = this.roots.filter((n) => !n.spec.parallelized);
      const parallel = this.roots.filter((n) => n.spec.parallelized);
      await Promise.allSettled([
        (async () => {
          for (const node of sequential) {
            if (this.#failure) break;
            await this.#runRoot(node);
          }
        })(),
        ...parallel.map((node) => this.#runRoot(node)),
      ]);
    }
    if (this.#failure) throw this.#wrap(this.#failure);
  }

  #fail(node: PipeNode, error: unknown): void {
    if (this.#failure) return;
    this.#failure = { node, error };
    this.#pool.abort();
  }

  #wrap(failure: Failure): Error {
    const { node, error } = failure;
    if (error instanceof ExtractError || (isTsdltError(error) && error.name === "ExtractError")) return error;
    const kind = node.isTransformer ? "Transformer" : "Resource";
    return new ExtractError(
      `${kind} \`${node.resource.name}\` failed while it was extracted: ${(error as Error)?.message ?? String(error)}`,
      { code: "EXTRACT_RESOURCE_FAILED", cause: error },
    );
  }

  async #runRoot(node: PipeNode): Promise<void> {
    try {
      const iterator = await this.#open(node);
      if (iterator) await this.#drive(node, iterator, true);
    } catch (error) {
      this.#fail(node, error);
    }
    await this.#finish(node);
  }

  /** Waits for the work of `node` and then of its transformers. */
  async #finish(node: PipeNode): Promise<void> {
    while (node.inFlight.size > 0) await Promise.allSettled([...node.inFlight]);
    for (const child of node.children) await this.#finish(child);
  }

  /** Calls the resource function (in the resource's context) and returns the iterator of its data. */
  async #open(node: PipeNode): Promise<AnyIterator | undefined> {
    const { spec } = node;
    const name = node.resource.name;
    let value: unknown = spec.data;
    const isFunction = typeof value === "function";
    if (isFunction) {
      const fn = value as (...args: unknown[]) => unknown;
      value = runInScope(node.scope, () => fn(...node.args()));
      if (isThenable(value)) value = await value;
    }
    if (value === undefined || value === null) return undefined;
    assertResourceData(name, value, isFunction);
    if (Array.isArray(value)) return chunkArray(value);
    if (isResource(value)) {
      throw new ExtractError(
        `Resource \`${name}\` returned a resource (\`${value.name}\`) as its data. Return resources from a source function, or feed items to a transformer with pipe().`,
        { code: "EXTRACT_INVALID_DATA" },
      );
    }
    if (typeof value === "object") {
      const v = value as {
        [Symbol.asyncIterator]?: () => AnyIterator;
        [Symbol.iterator]?: () => AnyIterator;
      };
      if (typeof v[Symbol.asyncIterator] === "function" || typeof v[Symbol.iterator] === "function") {
        claimIterator(name, value);
        return (v[Symbol.asyncIterator] ?? v[Symbol.iterator])?.call(value);
      }
      return [value][Symbol.iterator]();
    }
    throw new ExtractError(
      `Resource \`${name}\` ${isFunction ? "returned" : "was given"} a ${typeof value}; a resource needs objects, arrays or iterables of them.`,
      { code: "EXTRACT_INVALID_DATA" },
    );
  }

  /** Pulls `iterator` to its end (or limit / early stop / failure) and emits its values. */
  async #drive(node: PipeNode, iterator: AnyIterator, isRoot: boolean): Promise<void> {
    const limit = isRoot ? node.spec.limit : undefined;
    const started = Date.now();
    let count = 0;
    let done = false;
    try {
      if (limit?.maxItems === 0) return;
      while (this.#failure === undefined && !node.stopRequested) {
        const result = await runInScope(node.scope, () => iterator.next());
        if (result.done) {
          done = true;
          break;
        }
        let value: unknown = result.value;
        if (limit !== undefined) {
          if (value instanceof ItemBatch) {
            // list items count one by one (dlt iterates lists item by item)
            if (limit.maxItems !== undefined)
              value = new ItemBatch(value.items.slice(0, limit.maxItems - count));
            count += (value as ItemBatch).items.length;
          } else if (limit.countRows) {
            count += Array.isArray(value) ? value.length : value === undefined ? 0 : 1;
          } else count += 1;
        }
        await this.#emitValue(node, value);
        if (
          limit !== undefined &&
          ((limit.maxItems !== undefined && count >= limit.maxItems) ||
            (limit.maxTime !== undefined && Date.now() - started >= limit.maxTime * 1000))
        ) {
          break;
        }
      }
    } finally {
      if (!done && typeof iterator.return === "function") {
        const close = (): unknown => iterator.return?.();
        if (this.#failure !== undefined) await settle(runInScope(node.scope, close));
        else await runInScope(node.scope, close);
      }
    }
  }

  /** Emits what a generator yielded or a function returned: an item, a page, a stream or async work. */
  async #emitValue(node: PipeNode, value: unknown): Promise<void> {
    if (value === undefined || value === null || this.#failure !== undefined) return;
    if (isDeferred(value) || isThenable(value)) return this.#schedule(node, value);
    if (Array.isArray(value)) return this.#processPage(node, value, false);
    if (value instanceof ItemBatch) return this.#processPage(node, value.items, false, true);
    if (isResource(value)) {
      throw new ExtractError(
        `Resource \`${node.resource.name}\` yielded a resource (\`${value.name}\`). Return resources from a source function, or feed items to a transformer with pipe().`,
        { code: "EXTRACT_INVALID_DATA" },
      );
    }
    const stream = streamOf(value);
    if (stream !== undefined) return this.#drive(node, stream, false);
    return this.#processPage(node, [value], true);
  }

  /** Runs async work under the concurrency bound and emits its result when it settles. */
  async #schedule(node: PipeNode, value: unknown): Promise<void> {
    // a promise already runs: observe it now so that a rejection while waiting for a slot is handled
    const pending = isDeferred(value) ? undefined : settle(value);
    await this.#pool.acquire();
    if (this.#failure !== undefined) {
      this.#pool.release();
      return;
    }
    const task = (async () => {
      let outcome: Settled;
      try {
        outcome = pending
          ? await pending
          : await settle(runInScope(node.scope, () => (value as { run(): Promise<unknown> }).run()));
      } finally {
        this.#pool.release();
      }
      if (!outcome.ok) throw outcome.error;
      await this.#emitValue(node, outcome.value);
    })().catch((error: unknown) => this.#fail(node, error));
    node.track(task);
  }

  /** Incremental filter, steps, write, then the transformers of `node`. */
  async #processPage(
    node: PipeNode,
    items: readonly unknown[],
    single: boolean,
    batch = false,
  ): Promise<void> {
    let page: unknown[] = items.filter((item) => item !== undefined && item !== null);
    const run = node.incrementalRun;
    if (run !== undefined && page.length > 0) {
      const table = typeof node.resource.hints.tableName === "function" ? undefined : node.resource.tableName;
      page = page.filter((row) => run.accepts(row, table as string | undefined));
      run.commit();
      if (run.canStop && !node.isTransformer) node.stopRequested = true;
    }
    for (const step of node.spec.steps) {
      if (page.length === 0) break;
      page = await this.#step(node, step, page);
    }
    if (page.length === 0 || this.#failure !== undefined) return;
    if (node.writes) await this.#options.hooks.write(node, page);
    const arg = single && page.length === 1 ? page[0] : page;
    for (const child of node.children) {
      if (batch) {
        for (const item of page) {
          if (this.#failure !== undefined) return;
          await this.#push(child, item);
        }
        continue;
      }
      if (this.#failure !== undefined) return;
      await this.#push(child, arg);
    }
  }

  async #step(node: PipeNode, step: ResourceStep, page: unknown[]): Promise<unknown[]> {
    const out: unknown[] = [];
    const call = (fn: (item: unknown) => unknown, item: unknown): unknown =>
      runInScope(node.scope, () => fn(item));
    switch (step.kind) {
      case "map":
        for (const item of page) {
          let value = call(step.fn, item);
          if (isThenable(value)) value = await value;
          if (value !== undefined && value !== null) out.push(value);
        }
        return out;
      case "filter":
        for (const item of page) {
          let keep = call(step.fn, item);
          if (isThenable(keep)) keep = await keep;
          if (keep) out.push(item);
        }
        return out;
      case "yieldMap":
        for (const item of page) {
          let value = call(step.fn, item);
          if (isThenable(value)) value = await value;
          if (value === undefined || value === null) continue;
          if (Array.isArray(value)) {
            out.push(...value);
            continue;
          }
          const stream = streamOf(value);
          if (stream === undefined) {
            out.push(value);
            continue;
          }
          for (;;) {
            const next = await runInScope(node.scope, () => stream.next());
            if (next.done) break;
            if (next.value !== undefined && next.value !== null) out.push(next.value);
          }
        }
        return out;
      case "selectTables": {
        const hint = node.resource.hints.tableName;
        for (const item of page) {
          const table =
            typeof hint === "function"
              ? call(hint as (item: unknown) => unknown, item)
              : node.resource.tableName;
          if (step.names.has(String(table))) out.push(item);
        }
        return out;
      }
    }
  }

  /** Feeds `arg` (an item or a page) to transformer `child`. */
  async #push(child: PipeNode, arg: unknown): Promise<void> {
    const fn = child.spec.transform as (items: unknown, ...args: unknown[]) => unknown;
    const args = runInScope(child.scope, () => child.args());
    if (isConcurrentFunction(fn)) {
      await this.#pool.acquire();
      if (this.#failure !== undefined) {
        this.#pool.release();
        return;
      }
      const task = (async () => {
        let outcome: Settled;
        try {
          outcome = await settle(
            runInScope(child.scope, () => {
              const result = fn(arg, ...args);
              return isDeferred(result) ? result.run() : result;
            }),
          );
        } finally {
          this.#pool.release();
        }
        if (!outcome.ok) throw outcome.error;
        await this.#emitValue(child, outcome.value);
      })().catch((error: unknown) => this.#fail(child, error));
      child.track(task);
      return;
    }
    try {
      const result = runInScope(child.scope, () => fn(arg, ...args));
      await this.#emitValue(child, result);
    } catch (error) {
      this.#fail(child, error);
    }
  }
}

const CANCELLED: unique symbol = Symbol("cancelled");

/**
 * Iterates `resource` standalone (see {@link DltResource.pages}): pages of the resource itself,
 * after its parents, steps and incremental, with a throw-away state. Back-pressured: the resource
 * runs only as fast as the pages are consumed.
 */
export async function* iterateResource(resource: DltResource): AsyncGenerator<unknown[]> {
  const target = resource.selected ? resource : resource.withSelected(true);
  type Entry = { readonly page: unknown[]; readonly resume: () => void };
  const queue: Entry[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: { error: unknown } | undefined;
  let cancelled = false;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const engine = new Engine({
    state: { sources: {}, sourceName: target.name, persistent: false },
    logger: silentLogger,
    maxParallelItems: DEFAULT_MAX_PARALLEL_ITEMS,
    hooks: {
      write: async (_node, page) => {
        if (cancelled) throw CANCELLED;
        await new Promise<void>((resume) => {
          queue.push({ page, resume });
          notify();
        });
        if (cancelled) throw CANCELLED;
      },
    },
  });
  engine.plan([target]);
  const running = engine.run().then(
    () => {
      finished = true;
      notify();
    },
    (error: unknown) => {
      failure = { error };
      finished = true;
      notify();
    },
  );
  try {
    for (;;) {
      const entry = queue.shift();
      if (entry !== undefined) {
        try {
          yield entry.page;
        } finally {
          entry.resume();
        }
        continue;
      }
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure !== undefined) throw failure.error;
  } finally {
    cancelled = true;
    for (const entry of queue.splice(0)) entry.resume();
    await running;
  }
}
