/**
 * Progress collectors (REFERENCE §12): the stages report counters; a collector displays them.
 * Step labels follow dlt: `Extract <source>`, `Normalize <schema> in <load_id>`, `Load <schema> in <load_id>`.
 */

/** One counter update. */
export interface CollectorUpdate {
  /** Increment of the counter. @default 1 */
  readonly inc?: number;
  /** Sets the counter's total. */
  readonly total?: number;
  /** Increments the counter's total. */
  readonly incTotal?: number;
  /** A short message shown with the counter (e.g. a warning). */
  readonly message?: string;
  /** Distinguishes counters of the same name (e.g. `Jobs` / `Failed`). */
  readonly label?: string;
}

/** Receives progress counters from the pipeline steps. */
export interface Collector {
  /** A step begins; counters are reset. */
  start(step: string): void;
  /** Updates the counter `name` (rows per table, `Resources`, `Files`, `Jobs`). */
  update(name: string, update?: CollectorUpdate): void;
  /** The step ended; a display flushes and closes. */
  stop(): void;
}

/** A collector that ignores everything (the default). */
export const nullCollector: Collector = Object.freeze({
  start: () => {},
  update: () => {},
  stop: () => {},
});
