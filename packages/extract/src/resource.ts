/**
 * Resources: named, hinted producers of items. Anything iterable can be a resource: arrays,
 * iterables, sync and async generators (and functions returning them), yielding items or pages
 * (arrays) of items.
 */
import type { ColumnSchema, WriteDisposition } from "@tsdlt/core";
import { ExtractError, WRITE_DISPOSITIONS } from "@tsdlt/core";

/** Column hints: a map of column name → partial column schema, or a list of named columns. */
export type ColumnsHint = Record<string, ColumnSchema> | readonly (ColumnSchema & { name: string })[];

/** A value or a function computing it from an item (dynamic hints). */
export type TableNameHint = string | ((item: Record<string, unknown>) => string);

/** Table hints of a resource (user input, camelCase). */
export interface ResourceHints {
  /** Table to load into. Default: the resource name. */
  readonly tableName?: TableNameHint | undefined;
  /** @default "append" */
  readonly writeDisposition?: WriteDisposition | undefined;
  readonly primaryKey?: string | readonly string[] | undefined;
  readonly mergeKey?: string | readonly string[] | undefined;
  readonly columns?: ColumnsHint | undefined;
  /** Nesting budget for this resource's tables (0 → nested values become json columns). */
  readonly maxTableNesting?: number | undefined;
}

/** Options of {@link resource}. */
export interface ResourceOptions extends ResourceHints {
  /** Resource name; default the function name, else `content`. */
  readonly name?: string | undefined;
  /** Whether the resource is extracted when its source runs. @default true */
  readonly selected?: boolean | undefined;
}

/** What a resource can be built from. */
export type ResourceData =
  | Iterable<unknown>
  | AsyncIterable<unknown>
  | (() => Iterable<unknown> | AsyncIterable<unknown> | Promise<unknown>)
  | Record<string, unknown>;

const RESOURCE_BRAND: unique symbol = Symbol.for("tsdlt.resource");

/**
 * One-shot iterators (generator objects) already iterated by any resource. Kept per iterator, not per
 * resource: copies made by `applyHints`/`withName` share the iterator, and a generator function
 * returns a fresh one on every call.
 */
const consumedIterators = new WeakSet<object>();

/** A named producer of items with table hints. Create with {@link resource}. */
export class DltResource {
  readonly name: string;
  readonly hints: ResourceHints;
  readonly selected: boolean;
  readonly #data: ResourceData;

  constructor(data: ResourceData, options: ResourceOptions = {}) {
    this.#data = data;
    this.name = options.name ?? defaultResourceName(data);
    if (typeof this.name !== "string" || this.name.trim() === "") {
      throw new ExtractError("A resource needs a non-empty `name`.", { code: "INVALID_ARGUMENT" });
    }
    const { name: _name, selected, ...hints } = options;
    if (hints.writeDisposition !== undefined && !WRITE_DISPOSITIONS.includes(hints.writeDisposition)) {
      throw new ExtractError(
        `Resource \`${this.name}\` has writeDisposition ${JSON.stringify(hints.writeDisposition)}; expected one of ${WRITE_DISPOSITIONS.join(", ")}.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    this.hints = Object.freeze({ ...hints });
    this.selected = selected ?? true;
    Object.defineProperty(this, RESOURCE_BRAND, { value: true });
  }

  /** A copy of this resource with hints replaced where given. */
  applyHints(hints: ResourceHints): DltResource {
    return new DltResource(this.#data, {
      ...this.hints,
      ...stripUndefined(hints),
      name: this.name,
      selected: this.selected,
    });
  }

  /** A copy of this resource under another name. */
  withName(name: string): DltResource {
    return new DltResource(this.#data, { ...this.hints, name, selected: this.selected });
  }

  /**
   * Iterates the items of the resource as pages (arrays). Single items become one-element pages.
   * A one-shot iterator (a generator object) can be iterated once only.
   */
  async *pages(): AsyncGenerator<unknown[]> {
    let data: unknown = this.#data;
    if (typeof data === "function") data = await (data as () => unknown)();
    if (isAsyncIterable(data) || isIterable(data)) {
      if (isOneShot(data)) {
        if (consumedIterators.has(data)) {
          throw new ExtractError(
            `Resource \`${this.name}\` wraps a generator that was already iterated. Pass a generator function instead of a generator object to extract it again.`,
            { code: "INVALID_ARGUMENT" },
          );
        }
        consumedIterators.add(data);
      }
      if (Array.isArray(data)) {
        yield* chunkArray(data);
        return;
      }
      for await (const value of data as AsyncIterable<unknown>) {
        if (Array.isArray(value)) yield value;
        else if (value !== undefined) yield [value];
      }
      return;
    }
    if (data !== undefined && data !== null) yield [data];
  }
}

/** Arrays given directly are paged, so a huge array is not copied at once; nested arrays are pages. */
function* chunkArray(data: readonly unknown[]): Generator<unknown[]> {
  const size = 1000;
  let page: unknown[] = [];
  for (const value of data) {
    if (Array.isArray(value)) {
      if (page.length) yield page;
      page = [];
      yield value;
    } else if (value !== undefined) {
      page.push(value);
      if (page.length >= size) {
        yield page;
        page = [];
      }
    }
  }
  if (page.length) yield page;
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

/**
 * Creates a resource from data or a generator function.
 *
 * @example
 * ```ts
 * const users = resource([{ id: 1 }], { name: "users", primaryKey: "id" });
 * const events = resource(async function* events() { yield await fetchPage(1) }, { writeDisposition: "append" });
 * ```
 */
export function resource(data: ResourceData | DltResource, options: ResourceOptions = {}): DltResource {
  if (isResource(data))
    return options.name ? data.withName(options.name).applyHints(options) : data.applyHints(options);
  return new DltResource(data, options);
}

function defaultResourceName(data: ResourceData): string {
  if (typeof data === "function" && data.name) return data.name;
  return "content";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function"
  );
}

/** Generators and other iterators return themselves from `[Symbol.iterator]()`: they can run once. */
function isOneShot(value: object): boolean {
  const it = value as { [Symbol.iterator]?: () => unknown; [Symbol.asyncIterator]?: () => unknown };
  if (typeof it[Symbol.asyncIterator] === "function") return it[Symbol.asyncIterator]?.() === value;
  return typeof it[Symbol.iterator] === "function" && it[Symbol.iterator]?.() === value;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
