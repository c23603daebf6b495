/**
 * Global DuckDB settings held while bulk inserts run (issue 12): a bounded buffer pool
 * (`memory_limit`), so that a long load keeps a flat memory profile instead of caching every block it
 * wrote, fewer `threads` for a `read_json` insert, and `preserve_insertion_order` off for a large one
 * that may run in parallel. Other statements (follow-up SQL, the pipeline's
 * `dataset()` and `sqlClient()` queries) keep the database's own settings.
 *
 * A setting changes when its first holder enters and gets its previous value back when the last one
 * leaves; every client of one database (clients share a cached instance) shares the count, so
 * overlapping loads never restore a setting under each other. The first holder's value wins while the
 * setting is held. Changing or restoring a setting never fails the work: a setting DuckDB refuses
 * (e.g. a memory limit below what it holds right now) only affects speed and memory.
 */
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { duckdbDialect } from "./duckdb-dialect.js";

/** Names of the settings held here. */
export type HeldSettingName = "memory_limit" | "threads" | "preserve_insertion_order";

/** A DuckDB value as SQL: a string literal, or a number as is. */
function sqlValue(value: string | number | bigint | boolean): string {
  return typeof value === "string" ? duckdbDialect.escapeLiteral(value) : String(value);
}

const UNIT_BYTES: Readonly<Record<string, number>> = {
  bytes: 1,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

/**
 * Values that may give back the reading `value` of `current_setting` when set, best first. DuckDB
 * renders a memory size truncated to one decimal (`18.8 GiB` for 18.83 GiB) and keeps a limit a
 * little below what was set, so setting `18.8 GiB` reads back as `18.7 GiB` (each restore would lower
 * the limit); `18.8 GiB` plus a MiB reads back as `18.8 GiB`.
 */
function restoreCandidates(
  value: string | number | bigint | boolean,
): (string | number | bigint | boolean)[] {
  if (typeof value !== "string") return [value];
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(value);
  const unit = match ? UNIT_BYTES[(match[2] as string).toLowerCase()] : undefined;
  if (match === null || unit === undefined) return [value];
  const mib = Math.ceil((Number(match[1]) * unit) / 2 ** 20);
  return [value, `${mib}MiB`, `${mib + 1}MiB`];
}

/** One global setting of one database, held at a value while anyone holds it. */
class HeldSetting {
  readonly #name: HeldSettingName;
  #holders = 0;
  /** The value before the first holder entered; undefined when the setting was not changed. */
  #previous: string | number | bigint | boolean | undefined;
  /** Enter and leave steps run one after another. */
  #queue: Promise<void> = Promise.resolve();

  constructor(name: HeldSettingName) {
    this.#name = name;
  }

  /** Holds the setting at `value` (when nobody holds it yet), using a connection of `instance`. */
  enter(instance: DuckDBInstance, value: string | number): Promise<void> {
    return this.#step(async () => {
      if (this.#holders++ > 0) return;
      await withConnection(instance, async (c) => {
        const previous = await this.#current(c);
        if (previous === undefined) return;
        await c.run(`SET GLOBAL ${this.#name} = ${sqlValue(value)}`);
        this.#previous = previous;
      });
    });
  }

  /** Releases a hold; the last one restores the previous value. */
  leave(instance: DuckDBInstance): Promise<void> {
    return this.#step(async () => {
      if (--this.#holders > 0) return;
      const previous = this.#previous;
      this.#previous = undefined;
      if (previous === undefined) return;
      // not RESET: DuckDB 1.5 resets the configured `memory_limit` but its buffer pool keeps the lower
      // limit (`PRAGMA database_size` shows it)
      const candidates = restoreCandidates(previous);
      for (const [i, candidate] of candidates.entries()) {
        const restored = await withConnection(instance, async (c) => {
          await c.run(`SET GLOBAL ${this.#name} = ${sqlValue(candidate)}`);
          // a single candidate (a number) reads back as set
          return i === candidates.length - 1 || String(await this.#current(c)) === String(previous);
        });
        if (restored === true) break;
      }
    });
  }

  #step(work: () => Promise<void>): Promise<void> {
    const step = this.#queue.then(work).catch(() => {});
    this.#queue = step;
    return step;
  }

  async #current(c: DuckDBConnection): Promise<string | number | bigint | boolean | undefined> {
    const reader = await c.runAndReadAll(`SELECT current_setting('${this.#name}') AS v`);
    return reader.getRowObjects()[0]?.v as string | number | bigint | boolean | undefined;
  }
}

/**
 * Runs `work` on a connection of its own (a job's connection may be in a failed transaction);
 * undefined when it fails.
 */
async function withConnection<T>(
  instance: DuckDBInstance,
  work: (c: DuckDBConnection) => Promise<T>,
): Promise<T | undefined> {
  try {
    const c = await instance.connect();
    try {
      return await work(c);
    } finally {
      c.closeSync();
    }
  } catch {
    return undefined;
  }
}

/** Held settings of database files, by path (every client of a file shares its DuckDB database). */
const byPath = new Map<string, Map<HeldSettingName, HeldSetting>>();
/** Held settings of in-memory databases, by instance (each is a database of its own). */
const byInstance = new WeakMap<DuckDBInstance, Map<HeldSettingName, HeldSetting>>();

/**
 * Holds the global setting `name` of the database at `databasePath` (opened as `instance`) at `value`
 * (see the module comment) until the returned function is called (once; later calls do nothing).
 */
export async function holdSetting(
  instance: DuckDBInstance,
  databasePath: string,
  name: HeldSettingName,
  value: string | number,
): Promise<() => Promise<void>> {
  let settings = databasePath === ":memory:" ? byInstance.get(instance) : byPath.get(databasePath);
  if (settings === undefined) {
    settings = new Map();
    if (databasePath === ":memory:") byInstance.set(instance, settings);
    else byPath.set(databasePath, settings);
  }
  let setting = settings.get(name);
  if (setting === undefined) {
    setting = new HeldSetting(name);
    settings.set(name, setting);
  }
  const held = setting;
  await held.enter(instance, value);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await held.leave(instance);
  };
}

/**
 * Runs `work` with the global setting `name` held at `value` (see {@link holdSetting}); `value`
 * undefined runs `work` as it is.
 */
export async function withHeldSetting<T>(
  instance: DuckDBInstance,
  databasePath: string,
  name: HeldSettingName,
  value: string | number | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (value === undefined) return work();
  const release = await holdSetting(instance, databasePath, name, value);
  try {
    return await work();
  } finally {
    await release();
  }
}
