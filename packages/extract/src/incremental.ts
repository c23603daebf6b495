/**
 * Incremental loading (REFERENCE §5): a cursor over a field of the raw items, whose last value is
 * kept in the pipeline state so that the next run continues where this one stopped.
 *
 * Binding: {@link incremental} called while a resource function is being called (typically as a
 * default parameter) binds itself to that resource through the call context, so
 * `async function* (updatedAt = incremental("updated_at", { initialValue })) { ... updatedAt.lastValue ... }`
 * reads the stored cursor. Given as the `incremental` option of a resource, it is bound when the
 * resource runs. Every run binds a fresh copy; the instance you created stays unbound.
 *
 * ## Bounded boundary deduplication
 *
 * Rows are read in the half-open range `[start, end)`: rows whose cursor equals the previous run's
 * last value are read again and dropped when their hash (of the primary key, else of the whole row)
 * is among the hashes stored in state (`unique_hashes`), as dlt does. dlt keeps one hash per row
 * sharing the last cursor value, without limit; 100,000 such rows make a ~2 MB state row that is
 * rewritten at the destination on every run.
 *
 * tsdlt keeps at most {@link IncrementalOptions.maxUniqueHashes} hashes (default
 * {@link DEFAULT_MAX_UNIQUE_HASHES}). When more rows share the last value, the exact set cannot be
 * kept in bounded space, so the state stores only what the next run needs to decide: the last value,
 * no hashes, and the marker `unique_hashes_overflow: true`. On the next run, rows whose cursor equals
 * that value are then
 * - `"exclude"`d: treated as already loaded (as `rangeStart: "open"` for that one value). No
 *   duplicates; rows that appear later with exactly that cursor value are skipped.
 * - `"include"`d: read again. Nothing is skipped; the rows are loaded again, which is harmless for
 *   `merge` tables with a primary key (the merge replaces them) and duplicates them otherwise.
 *
 * {@link IncrementalOptions.onBoundaryOverflow} `"auto"` (default) picks `"include"` for `merge`
 * resources with a primary key and `"exclude"` otherwise, and a warning names the resource, cursor
 * and value. Once the cursor moves past the value, exact deduplication resumes. The state entry of a
 * cursor thus never exceeds about `maxUniqueHashes × 23` bytes of JSON (23 kB by default) and is a
 * few hundred bytes after an overflow; Python dlt reading it sees an empty `unique_hashes` list.
 */
import { ExtractError, type Logger, type WriteDisposition } from "@tsdlt/core";
import { currentScope, resourceStateOf, type StateScope } from "./context.js";
import {
  applyLag,
  CursorComparisonError,
  type CursorPath,
  compareCursorValues,
  compileCursorPath,
  cursorValuesEqual,
  describe,
  findCursorValue,
  uniqueRowHash,
} from "./cursor.js";

/** What to do with an item whose cursor path is missing or holds null/undefined. */
export const ON_CURSOR_VALUE_MISSING = ["raise", "include", "exclude"] as const;
/** See {@link ON_CURSOR_VALUE_MISSING}. */
export type OnCursorValueMissing = (typeof ON_CURSOR_VALUE_MISSING)[number];
/** Whether a range end is included (`closed`) or excluded (`open`). */
export type IncrementalRange = "open" | "closed";
/** Order of the cursor in the data, which lets extract stop reading early. */
export type RowOrder = "asc" | "desc";
/** How to treat rows at an overflowed deduplication boundary (see the module documentation). */
export const BOUNDARY_OVERFLOW_POLICIES = ["auto", "exclude", "include"] as const;
/** See {@link BOUNDARY_OVERFLOW_POLICIES}. */
export type BoundaryOverflowPolicy = (typeof BOUNDARY_OVERFLOW_POLICIES)[number];
/**
 * A function picking the "last" of a list of cursor values. Declared with a method signature so that
 * an `Incremental<number>` is usable where an `Incremental<unknown>` is expected (bivariant parameter).
 */
export type LastValueFunction<T> = { bivarianceHack(values: readonly T[]): T }["bivarianceHack"];
/** `"max"`, `"min"` or a {@link LastValueFunction}. */
export type LastValueFunc<T> = "max" | "min" | LastValueFunction<T>;

/** Default cap of boundary hashes kept in state per cursor. */
export const DEFAULT_MAX_UNIQUE_HASHES = 1000;

/** Options of {@link incremental} (dlt's `dlt.sources.incremental` arguments, camelCase). */
export interface IncrementalOptions<T> {
  /** `lastValue` when no state exists yet. */
  readonly initialValue?: T | undefined;
  /**
   * Upper bound (exclusive unless `rangeEnd: "closed"`). Makes the incremental stateless: nothing is
   * read from or written to state (backfills). Requires `initialValue`.
   */
  readonly endValue?: T | undefined;
  /** @default "max" */
  readonly lastValueFunc?: LastValueFunc<T> | undefined;
  /**
   * Key of the deduplication hash. Default: the resource's primary key, else the whole row; `[]`
   * disables deduplication.
   */
  readonly primaryKey?: string | readonly string[] | undefined;
  /** Order of the cursor in the data: `"asc"` stops at the first row past `endValue`, `"desc"` at the first row before the start. */
  readonly rowOrder?: RowOrder | undefined;
  /** @default "raise" */
  readonly onCursorValueMissing?: OnCursorValueMissing | undefined;
  /**
   * Re-read window: the start moves back by `lag` (seconds for dates/timestamps, days for
   * `YYYY-MM-DD` strings, units for numbers) for `"max"`, forward for `"min"`. Disables deduplication.
   */
  readonly lag?: number | undefined;
  /** `"open"` excludes rows equal to the start value (and disables deduplication). @default "closed" */
  readonly rangeStart?: IncrementalRange | undefined;
  /** `"closed"` includes rows equal to `endValue`. @default "open" */
  readonly rangeEnd?: IncrementalRange | undefined;
  /** Most boundary hashes kept in state. @default {@link DEFAULT_MAX_UNIQUE_HASHES} */
  readonly maxUniqueHashes?: number | undefined;
  /** Rows at an overflowed boundary on the next run. @default "auto" */
  readonly onBoundaryOverflow?: BoundaryOverflowPolicy | undefined;
}

/** The state of one cursor: `sources.<source>.resources.<resource>.incremental.<cursor_path>`. */
export interface IncrementalColumnState {
  initial_value: unknown;
  last_value: unknown;
  unique_hashes: string[];
  start_value?: unknown;
  /** tsdlt: more rows shared `last_value` than hashes are kept (see {@link IncrementalOptions.maxUniqueHashes}). */
  unique_hashes_overflow?: boolean;
}

/** What a resource tells its incremental when binding it. @internal */
export interface IncrementalBindContext {
  readonly resourceName: string;
  readonly state: StateScope;
  readonly resourcePrimaryKey: readonly string[] | undefined;
  readonly writeDisposition: WriteDisposition;
  readonly logger: Logger;
}

function keyList(key: string | readonly string[] | undefined): readonly string[] | undefined {
  if (key === undefined) return undefined;
  return typeof key === "string" ? [key] : key;
}

function fail(message: string): never {
  throw new ExtractError(message, { code: "INVALID_ARGUMENT" });
}

function builtinFunc(name: "max" | "min"): (values: readonly unknown[]) => unknown {
  return (values) => {
    let best = values[0];
    for (let i = 1; i < values.length; i++) {
      const c = compareCursorValues(values[i], best);
      if ((name === "max" && c > 0) || (name === "min" && c < 0)) best = values[i];
    }
    return best;
  };
}

const runs = new WeakMap<Incremental<unknown>, IncrementalRun>();

/**
 * An incremental cursor. Create it with {@link incremental}. `lastValue` and `startValue` are
 * readable inside the resource while it runs.
 */
export class Incremental<T = unknown> {
  /** The field (or path, `user.updated_at`) in the raw items holding the cursor. */
  readonly cursorPath: string;
  readonly initialValue: T | undefined;
  readonly endValue: T | undefined;
  readonly lastValueFunc: LastValueFunc<T>;
  readonly primaryKey: string | readonly string[] | undefined;
  readonly rowOrder: RowOrder | undefined;
  readonly onCursorValueMissing: OnCursorValueMissing;
  readonly lag: number | undefined;
  readonly rangeStart: IncrementalRange;
  readonly rangeEnd: IncrementalRange;
  readonly maxUniqueHashes: number;
  readonly onBoundaryOverflow: BoundaryOverflowPolicy;
  /** @internal */
  readonly compiledPath: CursorPath;

  constructor(cursorPath: string, options: IncrementalOptions<T> = {}) {
    const where = `Incremental \`${String(cursorPath)}\``;
    if (typeof cursorPath !== "string" || cursorPath.trim() === "")
      fail('An incremental needs a non-empty cursor path, e.g. `incremental("updated_at")`.');
    const compiled = compileCursorPath(cursorPath);
    if (!compiled)
      fail(
        `${where}: the cursor path cannot be parsed; use field names joined by dots, e.g. \`user.updated_at\`.`,
      );
    this.cursorPath = cursorPath;
    this.compiledPath = compiled;
    this.initialValue = options.initialValue;
    this.endValue = options.endValue;
    const lvf = options.lastValueFunc ?? "max";
    if (typeof lvf !== "function" && lvf !== "max" && lvf !== "min")
      fail(`${where}: lastValueFunc ${JSON.stringify(lvf)} is invalid; expected "max", "min" or a function.`);
    this.lastValueFunc = lvf;
    this.primaryKey = options.primaryKey;
    const rowOrder = options.rowOrder;
    if (rowOrder !== undefined && rowOrder !== "asc" && rowOrder !== "desc")
      fail(`${where}: rowOrder ${JSON.stringify(rowOrder)} is invalid; expected "asc" or "desc".`);
    this.rowOrder = rowOrder;
    const missing = options.onCursorValueMissing ?? "raise";
    if (!ON_CURSOR_VALUE_MISSING.includes(missing))
      fail(
        `${where}: onCursorValueMissing ${JSON.stringify(missing)} is invalid; expected one of ${ON_CURSOR_VALUE_MISSING.join(", ")}.`,
      );
    this.onCursorValueMissing = missing;
    if (options.lag !== undefined && !(typeof options.lag === "number" && options.lag >= 0))
      fail(`${where}: lag must be a number >= 0.`);
    this.lag = options.lag;
    for (const [name, value] of [
      ["rangeStart", options.rangeStart],
      ["rangeEnd", options.rangeEnd],
    ] as const) {
      if (value !== undefined && value !== "open" && value !== "closed")
        fail(`${where}: ${name} ${JSON.stringify(value)} is invalid; expected "open" or "closed".`);
    }
    this.rangeStart = options.rangeStart ?? "closed";
    this.rangeEnd = options.rangeEnd ?? "open";
    const cap = options.maxUniqueHashes ?? DEFAULT_MAX_UNIQUE_HASHES;
    if (!Number.isInteger(cap) || cap < 0) fail(`${where}: maxUniqueHashes must be an integer >= 0.`);
    this.maxUniqueHashes = cap;
    const overflow = options.onBoundaryOverflow ?? "auto";
    if (!BOUNDARY_OVERFLOW_POLICIES.includes(overflow))
      fail(
        `${where}: onBoundaryOverflow ${JSON.stringify(overflow)} is invalid; expected one of ${BOUNDARY_OVERFLOW_POLICIES.join(", ")}.`,
      );
    this.onBoundaryOverflow = overflow;
    if (this.endValue !== undefined) {
      if (this.initialValue === undefined)
        fail(`${where}: endValue needs initialValue as well (a backfill reads [initialValue, endValue)).`);
      const f = this.valueFunc();
      let last: unknown;
      try {
        last = f([this.endValue, this.initialValue]);
      } catch (error) {
        fail(`${where}: initialValue and endValue cannot be compared: ${(error as Error).message}.`);
      }
      if (!cursorValuesEqual(last, this.endValue))
        fail(
          `${where}: endValue ${describe(this.endValue)} lies before initialValue ${describe(this.initialValue)} for lastValueFunc ${typeof lvf === "string" ? lvf : "(custom)"}.`,
        );
    }
  }

  /** The options this incremental was created with. */
  get options(): IncrementalOptions<T> {
    return {
      initialValue: this.initialValue,
      endValue: this.endValue,
      lastValueFunc: this.lastValueFunc,
      primaryKey: this.primaryKey,
      rowOrder: this.rowOrder,
      onCursorValueMissing: this.onCursorValueMissing,
      lag: this.lag,
      rangeStart: this.rangeStart,
      rangeEnd: this.rangeEnd,
      maxUniqueHashes: this.maxUniqueHashes,
      onBoundaryOverflow: this.onBoundaryOverflow,
    };
  }

  /** True while bound to a running resource. */
  get isBound(): boolean {
    return runs.has(this as Incremental<unknown>);
  }

  /**
   * The last cursor value: the stored one at the start of the run (lag applied), then updated as
   * items pass. Unbound: `initialValue`.
   */
  get lastValue(): T | undefined {
    const run = runs.get(this as Incremental<unknown>);
    return (run ? run.lastValueView() : this.initialValue) as T | undefined;
  }

  /** The cursor value this run started from (lag applied). Unbound: `initialValue`. */
  get startValue(): T | undefined {
    const run = runs.get(this as Incremental<unknown>);
    return (run ? run.start : this.initialValue) as T | undefined;
  }

  /** @internal The comparison function of {@link Incremental.lastValueFunc}. */
  valueFunc(): (values: readonly unknown[]) => unknown {
    const lvf = this.lastValueFunc;
    return typeof lvf === "function" ? (lvf as (values: readonly unknown[]) => unknown) : builtinFunc(lvf);
  }

  /** Name of the single column the cursor maps to, or undefined for nested paths. */
  get cursorColumn(): string | undefined {
    const [first, ...rest] = this.compiledPath;
    return rest.length === 0 && typeof first === "string" ? first : undefined;
  }
}

/**
 * Creates an incremental cursor over `cursorPath` (a field name, or a dotted path into nested
 * objects). Used as a default parameter of a resource function it binds to that resource when the
 * pipeline calls it; it also works as the `incremental` option of {@link resource}.
 *
 * @example
 * ```ts
 * const issues = resource(
 *   async function* issues(updatedAt = incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" })) {
 *     yield* paginate(URL, { params: { since: updatedAt.lastValue } });
 *   },
 *   { writeDisposition: "merge", primaryKey: "id" },
 * );
 * ```
 */
export function incremental<T = unknown>(
  cursorPath: string,
  options: IncrementalOptions<T> = {},
): Incremental<T> {
  const created = new Incremental<T>(cursorPath, options);
  const scope = currentScope();
  return scope?.kind === "resource" ? (scope.bindIncremental(created) as Incremental<T>) : created;
}

/** True when `value` is an {@link Incremental}. */
export function isIncremental(value: unknown): value is Incremental<unknown> {
  return value instanceof Incremental;
}

/** @internal A bound copy of `template` running with `context`. */
export function bindIncremental(
  template: Incremental<unknown>,
  context: IncrementalBindContext,
): Incremental<unknown> {
  const bound = new Incremental<unknown>(template.cursorPath, template.options);
  runs.set(bound, new IncrementalRun(bound, context));
  return bound;
}

/** @internal The run of a bound incremental. */
export function incrementalRun(incremental: Incremental<unknown>): IncrementalRun | undefined {
  return runs.get(incremental);
}

/** The per-run filter and state keeper of a bound incremental (REFERENCE §5.3–5.4). @internal */
export class IncrementalRun {
  readonly incremental: Incremental<unknown>;
  readonly context: IncrementalBindContext;
  readonly columnState: IncrementalColumnState;
  readonly stateless: boolean;
  readonly start: unknown;
  readonly dedup: boolean;
  readonly key: readonly string[] | undefined;
  readonly overflowPolicy: "exclude" | "include";
  /** Set when a row beyond `endValue` / before the start was dropped (for `rowOrder`). */
  endOutOfRange = false;
  startOutOfRange = false;
  readonly #f: (values: readonly unknown[]) => unknown;
  readonly #storedLast: unknown;
  readonly #lagDirection: "max" | "min" | undefined;
  readonly #previousHashes: ReadonlySet<string>;
  readonly #previousOverflow: boolean;
  #last: unknown;
  #boundary: Set<string>;
  #overflow: boolean;
  #dirty = false;
  #passed = false;
  #warned = false;

  constructor(incremental: Incremental<unknown>, context: IncrementalBindContext) {
    this.incremental = incremental;
    this.context = context;
    this.stateless = incremental.endValue !== undefined;
    const fresh = (): IncrementalColumnState => ({
      initial_value: incremental.initialValue,
      last_value: incremental.initialValue,
      unique_hashes: [],
      start_value: incremental.initialValue,
    });
    if (this.stateless || !context.state.persistent) {
      this.columnState = this.stateless ? fresh() : structuredClone(this.persistedState() ?? fresh());
    } else {
      const resourceState = resourceStateOf(context.state, context.resourceName);
      resourceState.incremental ??= {};
      const all = resourceState.incremental as Record<string, IncrementalColumnState>;
      all[incremental.cursorPath] ??= fresh();
      this.columnState = all[incremental.cursorPath] as IncrementalColumnState;
      this.columnState.unique_hashes ??= [];
    }
    this.#f = incremental.valueFunc();
    const lvf = incremental.lastValueFunc;
    this.#lagDirection = incremental.lag && typeof lvf === "string" ? lvf : undefined;
    if (incremental.lag && typeof lvf === "function") {
      context.logger.warn(
        `Resource \`${context.resourceName}\`: incremental \`${incremental.cursorPath}\` ignores lag with a custom lastValueFunc (lag applies to "max" and "min" only).`,
      );
    }
    this.#storedLast = this.columnState.last_value;
    this.start =
      this.#lagDirection !== undefined && !this.stateless
        ? applyLag(incremental.lag ?? 0, this.columnState.initial_value, this.#storedLast, this.#lagDirection)
        : this.#storedLast;
    this.#last = this.start;
    const explicitKey = keyList(incremental.primaryKey);
    this.key = explicitKey ?? context.resourcePrimaryKey;
    this.dedup = !(
      incremental.rangeStart === "open" ||
      this.stateless ||
      this.#lagDirection !== undefined ||
      (explicitKey !== undefined && explicitKey.length === 0)
    );
    const policy = incremental.onBoundaryOverflow;
    this.overflowPolicy =
      policy === "auto"
        ? context.writeDisposition === "merge" && (this.key?.length ?? 0) > 0
          ? "include"
          : "exclude"
        : policy;
    this.#previousHashes = new Set(this.columnState.unique_hashes);
    this.#previousOverflow = this.columnState.unique_hashes_overflow === true;
    this.#boundary = new Set(this.#previousHashes);
    this.#overflow = this.#previousOverflow;
    if (this.#boundary.size > incremental.maxUniqueHashes) this.#setOverflow();
  }

  /** The state persisted for this cursor, if any (read-only peek for standalone iteration). */
  private persistedState(): IncrementalColumnState | undefined {
    const resources = this.context.state.sources[this.context.state.sourceName]?.resources;
    const incremental = resources?.[this.context.resourceName]?.incremental as
      | Record<string, IncrementalColumnState>
      | undefined;
    return incremental?.[this.incremental.cursorPath];
  }

  /** `lastValue` as the resource sees it: the state's last value with lag applied. */
  lastValueView(): unknown {
    if (this.#lagDirection === undefined || this.stateless) return this.columnState.last_value;
    return applyLag(
      this.incremental.lag ?? 0,
      this.columnState.initial_value,
      this.columnState.last_value,
      this.#lagDirection,
    );
  }

  #call(values: readonly unknown[], against: string, other: unknown, value: unknown): unknown {
    try {
      return this.#f(values);
    } catch (error) {
      const reason =
        error instanceof CursorComparisonError ? error.message : String((error as Error)?.message);
      throw new ExtractError(
        `Resource \`${this.context.resourceName}\`: the value ${describe(value)} at cursor \`${this.incremental.cursorPath}\` cannot be compared with ${against} ${describe(other)}: ${reason}. Make the cursor values and initialValue/endValue the same kind (e.g. all ISO strings or all Dates).`,
        { code: "EXTRACT_INVALID_DATA", path: this.incremental.cursorPath, cause: error },
      );
    }
  }

  #setOverflow(): void {
    this.#overflow = true;
    this.#boundary = new Set();
    this.#dirty = true;
    if (this.#warned) return;
    this.#warned = true;
    const inc = this.incremental;
    this.context.logger.warn(
      `Resource \`${this.context.resourceName}\`: more than ${inc.maxUniqueHashes} rows share the value ${describe(this.#last)} of incremental cursor \`${inc.cursorPath}\`. Their hashes are not kept (the state stays small); on the next run rows with exactly this cursor value are ${this.overflowPolicy === "exclude" ? "skipped as already loaded" : "loaded again"} (onBoundaryOverflow: "${inc.onBoundaryOverflow}"). Use a finer cursor, raise maxUniqueHashes or set onBoundaryOverflow.`,
    );
  }

  #remember(hash: string): void {
    if (this.#overflow) return;
    if (!this.#boundary.has(hash)) {
      this.#boundary.add(hash);
      this.#dirty = true;
    }
    if (this.#boundary.size > this.incremental.maxUniqueHashes) this.#setOverflow();
  }

  /** Whether `row` passes; updates the live last value and the boundary set. */
  accepts(row: unknown, table: string | undefined): boolean {
    const inc = this.incremental;
    const where = `Resource \`${this.context.resourceName}\``;
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      throw new ExtractError(
        `${where} yielded ${describe(row)} as an item, but its incremental cursor \`${inc.cursorPath}\` needs objects. Yield objects (rows), or pages (arrays) of objects.`,
        { code: "EXTRACT_INVALID_DATA", table, path: inc.cursorPath },
      );
    }
    const { found, value } = findCursorValue(row, inc.compiledPath);
    if (!found || value === null || value === undefined) {
      if (inc.onCursorValueMissing === "include") return true;
      if (inc.onCursorValueMissing === "exclude") return false;
      const what = found ? `holds ${value === null ? "null" : "undefined"}` : "is missing";
      throw new ExtractError(
        `${where}: the incremental cursor path \`${inc.cursorPath}\` ${what} in an item${table ? ` of table \`${table}\`` : ""}: ${describe(row)}. Set \`onCursorValueMissing: "include"\` to load such items without moving the cursor, or \`"exclude"\` to skip them.`,
        { code: "EXTRACT_INVALID_DATA", table, path: inc.cursorPath },
      );
    }
    const f = (values: readonly unknown[], against: string, other: unknown): unknown =>
      this.#call(values, against, other, value);
    const end = inc.endValue;
    if (end !== undefined) {
      if (!cursorValuesEqual(f([value, end], "endValue", end), end)) {
        this.endOutOfRange = true;
        return false;
      }
      if (inc.rangeEnd === "open" && cursorValuesEqual(f([value], "endValue", end), end)) {
        this.endOutOfRange = true;
        return false;
      }
    }
    const last = this.#last;
    const hasLast = last !== undefined && last !== null;
    const newValue = hasLast ? f([value, last], "the last value", last) : f([value], "the last value", last);
    if (hasLast && cursorValuesEqual(last, newValue)) {
      const start = this.start;
      const hasStart = start !== undefined && start !== null;
      const processed = f([value], "itself", value);
      if (inc.rangeStart === "open" && hasStart && cursorValuesEqual(processed, start)) {
        this.startOutOfRange = true;
        return false;
      }
      const againstStart = hasStart
        ? f([value, start], "the start value", start)
        : f([value], "the start value", start);
      let hash: string | undefined;
      if (hasStart && cursorValuesEqual(againstStart, start)) {
        if (cursorValuesEqual(processed, start)) {
          if (this.dedup) {
            if (this.#previousOverflow && this.overflowPolicy === "exclude") {
              this.startOutOfRange = true;
              return false;
            }
            if (this.#previousHashes.size > 0) {
              hash = uniqueRowHash(row, this.key);
              if (this.#previousHashes.has(hash)) {
                this.startOutOfRange = true;
                return false;
              }
            }
          }
        } else {
          this.startOutOfRange = true;
          return false;
        }
      }
      if (this.dedup && !this.#overflow && cursorValuesEqual(processed, last)) {
        this.#remember(hash ?? uniqueRowHash(row, this.key));
      }
    } else {
      this.#last = newValue;
      this.#dirty = true;
      if (this.dedup) {
        this.#boundary = new Set();
        this.#overflow = false;
        this.#remember(uniqueRowHash(row, this.key));
      }
    }
    this.#passed = true;
    return true;
  }

  /** Writes the live values into the state (after each page). */
  commit(): void {
    if (!this.#dirty && !this.#passed) return;
    const state = this.columnState;
    let last = this.#last;
    if (this.#lagDirection !== undefined && this.#storedLast !== undefined && this.#storedLast !== null) {
      // with lag the run starts before the stored value; the stored value never moves back
      try {
        last = this.#f([this.#storedLast, last]);
      } catch {
        // incomparable values were reported by accepts()
      }
    }
    const moved = !cursorValuesEqual(state.last_value, last) && last !== state.last_value;
    state.last_value = last;
    if (this.#passed) state.start_value = this.start;
    if (this.dedup) {
      state.unique_hashes = this.#overflow ? [] : [...this.#boundary];
      if (this.#overflow) state.unique_hashes_overflow = true;
      else delete state.unique_hashes_overflow;
    } else if (moved) {
      state.unique_hashes = [];
      delete state.unique_hashes_overflow;
    }
    this.#dirty = false;
  }

  /** True when `rowOrder` says no further row can pass: the generator may be closed. */
  get canStop(): boolean {
    const order = this.incremental.rowOrder;
    return (order === "asc" && this.endOutOfRange) || (order === "desc" && this.startOutOfRange);
  }
}
