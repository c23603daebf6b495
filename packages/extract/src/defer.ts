/**
 * Deferred work (dlt's `@dlt.defer`): a call that is not run where it is made but handed to extract,
 * which runs up to `maxParallelItems` of them at a time and passes on their results as they finish.
 */

const DEFERRED_BRAND: unique symbol = Symbol.for("tsdlt.deferred");

/** A call of a {@link defer}red function, waiting to be run by extract. */
export class Deferred<T = unknown> {
  readonly #thunk: () => T | Promise<T>;

  constructor(thunk: () => T | Promise<T>) {
    this.#thunk = thunk;
    Object.defineProperty(this, DEFERRED_BRAND, { value: true });
  }

  /** Runs the call (extract does this when a slot is free). */
  run(): Promise<T> {
    try {
      return Promise.resolve(this.#thunk());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** True when `value` is a {@link Deferred} (also from another copy of this package). */
export function isDeferred(value: unknown): value is Deferred<unknown> {
  return (
    value instanceof Deferred ||
    (typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[DEFERRED_BRAND] === true)
  );
}

/**
 * Wraps `fn` so that calling it returns a {@link Deferred} instead of running it. Yield deferred calls
 * from a resource (or use a deferred function as a transformer) and extract runs them concurrently,
 * at most `maxParallelItems` (default 20) at a time across the extract; results arrive in completion
 * order. Each result is treated like a yielded value: an item, a page (array) of items, or nothing.
 *
 * @example
 * ```ts
 * const details = transformer(defer(async (issue: { number: number }) => fetchJson(`/issues/${issue.number}`)), {
 *   dataFrom: issues,
 * });
 * ```
 */
export function defer<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
): (...args: A) => Deferred<R> {
  const wrapped = (...args: A): Deferred<R> => new Deferred<R>(() => fn(...args));
  Object.defineProperty(wrapped, "name", { value: fn.name });
  Object.defineProperty(wrapped, DEFERRED_BRAND, { value: true });
  return wrapped;
}

/** True when `fn` was made by {@link defer}. */
export function isDeferredFunction(fn: unknown): boolean {
  return typeof fn === "function" && (fn as unknown as Record<symbol, unknown>)[DEFERRED_BRAND] === true;
}
