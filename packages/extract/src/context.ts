/**
 * The call context of running resources, carried by `AsyncLocalStorage`: which source and resource
 * run, the state they may read and write, and the slot through which an {@link incremental} created
 * as a default parameter binds to the resource that declared it. {@link current} reads it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ExtractError, type SourceState } from "@tsdlt/core";

/** Where state lives during one extract: the pipeline's `sources` object and the source's key in it. */
export interface StateScope {
  /** `state.sources` of the pipeline state document (or a throw-away object outside a pipeline). */
  readonly sources: Record<string, SourceState>;
  /** Key of the running source in {@link StateScope.sources} (the source / schema name). */
  readonly sourceName: string;
  /** False for standalone iteration (`resource.pages()`): changes are thrown away. */
  readonly persistent: boolean;
}

/** The context of a running resource (its function call and every step of its generator). */
export interface ResourceScope {
  readonly kind: "resource";
  readonly state: StateScope;
  readonly resourceName: string;
  /**
   * Binds an incremental created in this context to the running resource and returns the bound
   * instance (the resource's option incremental when it has one).
   */
  readonly bindIncremental: (incremental: object) => object;
}

/** The context while a source function is called (resources are being declared, nothing runs). */
export interface SourceScope {
  readonly kind: "source";
  readonly sourceName: string;
  /**
   * The source's config section (`sources.<section>.<name>`); resources declared in the source
   * function take it for their own config (`sources.<section>.<resource>`).
   */
  readonly section?: string | undefined;
}

/** What the call context holds. */
export type ExtractScope = ResourceScope | SourceScope;

const storage = new AsyncLocalStorage<ExtractScope>();

/** Runs `fn` with `scope` as the call context. */
export function runInScope<T>(scope: ExtractScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The current call context, if any. */
export function currentScope(): ExtractScope | undefined {
  return storage.getStore();
}

function resourceScopeOrThrow(what: string): ResourceScope {
  const scope = storage.getStore();
  if (scope?.kind === "resource") return scope;
  const where =
    scope?.kind === "source"
      ? `was called while the source function \`${scope.sourceName}\` declared its resources; a source function runs when you call it, before any pipeline runs`
      : "was called outside a running resource";
  throw new ExtractError(
    `\`current.${what}\` ${where}. Call it inside the resource's generator or function body (or in a transformer, map or filter step), which the pipeline runs during extract.`,
    { code: "INVALID_ARGUMENT" },
  );
}

function sourceStateOf(scope: StateScope): SourceState {
  let state = scope.sources[scope.sourceName];
  if (state === undefined) {
    state = {};
    scope.sources[scope.sourceName] = state;
  }
  return state;
}

/** The state object of resource `name` in `scope` (created when missing). */
export function resourceStateOf(scope: StateScope, name: string): Record<string, unknown> {
  const source = sourceStateOf(scope);
  source.resources ??= {};
  let state = source.resources[name];
  if (state === undefined) {
    state = {};
    source.resources[name] = state;
  }
  return state;
}

/** Accessors of {@link current}. */
export interface Current {
  /**
   * The state of the running source: a plain object stored under `sources.<source name>` of the
   * pipeline state. Mutate it in place; it is saved (and stored at the destination) with the load
   * package of this run, and only when the extract succeeds. Values must be JSON-like (Date,
   * bigint and Uint8Array are kept).
   */
  sourceState(): SourceState;
  /** Alias of {@link Current.sourceState}. */
  state(): SourceState;
  /**
   * The state of the running resource, or of resource `name` of the same source:
   * `sources.<source>.resources.<resource>`. Incremental cursors live under its `incremental` key.
   */
  resourceState(name?: string): Record<string, unknown>;
  /** The name of the running resource. */
  resourceName(): string;
  /** The name of the running source (the schema name). */
  sourceName(): string;
}

/**
 * Access to the running source and resource from inside resource code (dlt's `dlt.current`).
 * Throws an {@link ExtractError} naming the accessor when called outside a running resource.
 *
 * @example
 * ```ts
 * const events = resource(async function* events() {
 *   const state = current.resourceState();
 *   const page = (state.page as number | undefined) ?? 0;
 *   yield await fetchPage(page);
 *   state.page = page + 1;
 * });
 * ```
 */
export const current: Current = Object.freeze({
  sourceState(): SourceState {
    return sourceStateOf(resourceScopeOrThrow("sourceState()").state);
  },
  state(): SourceState {
    return sourceStateOf(resourceScopeOrThrow("state()").state);
  },
  resourceState(name?: string): Record<string, unknown> {
    const scope = resourceScopeOrThrow("resourceState()");
    return resourceStateOf(scope.state, name ?? scope.resourceName);
  },
  resourceName(): string {
    return resourceScopeOrThrow("resourceName()").resourceName;
  },
  sourceName(): string {
    const scope = storage.getStore();
    if (scope?.kind === "source") return scope.sourceName;
    return resourceScopeOrThrow("sourceName()").state.sourceName;
  },
});
