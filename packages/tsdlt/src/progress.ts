/**
 * Progress display (REFERENCE §12): `progress: "log"` prints periodic blocks of counters as dlt's
 * LogCollector does; `"bar"` shows live bars (cli-progress) on a TTY and falls back to log lines
 * elsewhere. dlt's names `tqdm`, `enlighten` and `alive_progress` are aliases of `bar`, so ported code runs.
 */
import { cpus, totalmem } from "node:os";
import { type Collector, type CollectorUpdate, nullCollector, TsdltError } from "@tsdlt/core";
import cliProgress from "cli-progress";

/** Progress option: a display name or a collector of your own. */
export type ProgressOption = "log" | "bar" | "tqdm" | "enlighten" | "alive_progress" | "none" | Collector;

interface Counter {
  name: string;
  label: string | undefined;
  count: number;
  total: number | undefined;
  message: string | undefined;
  startedAt: number;
}

function counterKey(name: string, label: string | undefined): string {
  return label ? `${name} (${label})` : name;
}

/** Applies one update to a counter map; returns the counter. */
function applyUpdate(
  counters: Map<string, Counter>,
  name: string,
  update: CollectorUpdate,
  now: number,
): Counter {
  const key = counterKey(name, update.label);
  let counter = counters.get(key);
  if (!counter) {
    counter = { name, label: update.label, count: 0, total: undefined, message: undefined, startedAt: now };
    counters.set(key, counter);
  }
  counter.count += update.inc ?? 1;
  if (update.total !== undefined) counter.total = update.total;
  if (update.incTotal !== undefined) counter.total = (counter.total ?? 0) + update.incTotal;
  if (update.message !== undefined) counter.message = update.message;
  return counter;
}

/** Centers `text` in `width` characters padded with `fill` (Python's `str.center`). */
function center(text: string, width: number, fill: string): string {
  const pad = Math.max(0, width - text.length);
  const left = Math.floor(pad / 2) + (pad & width & 1);
  return fill.repeat(left) + text + fill.repeat(pad - left);
}

/** Options of {@link LogCollector}. */
export interface LogCollectorOptions {
  /** Seconds between blocks. @default 1 */
  readonly logPeriod?: number;
  /** Where lines go. @default stdout */
  readonly write?: (text: string) => void;
  /** Append memory and CPU usage. @default true */
  readonly dumpSystemStats?: boolean;
}

/** Prints dlt's counter blocks every `logPeriod` seconds and at the end of each step. */
export class LogCollector implements Collector {
  readonly #period: number;
  readonly #write: (text: string) => void;
  readonly #stats: boolean;
  #counters = new Map<string, Counter>();
  #step = "";
  #lastLog = 0;
  #cpuAtStart = process.cpuUsage();
  #stepStartedAt = 0;

  constructor(options: LogCollectorOptions = {}) {
    this.#period = (options.logPeriod ?? 1) * 1000;
    this.#write = options.write ?? ((text) => process.stdout.write(text));
    this.#stats = options.dumpSystemStats ?? true;
  }

  start(step: string): void {
    this.#step = step;
    this.#counters = new Map();
    this.#stepStartedAt = performance.now();
    this.#lastLog = this.#stepStartedAt;
    this.#cpuAtStart = process.cpuUsage();
  }

  update(name: string, update: CollectorUpdate = {}): void {
    const now = performance.now();
    applyUpdate(this.#counters, name, update, now);
    if (now - this.#lastLog >= this.#period) this.#dump(now);
  }

  stop(): void {
    this.#dump(performance.now());
    this.#counters = new Map();
  }

  #dump(now: number): void {
    this.#lastLog = now;
    const lines = [center(` ${this.#step} `, 80, "-")];
    for (const c of this.#counters.values()) {
      const seconds = (now - c.startedAt) / 1000;
      const rate = seconds > 0 ? c.count / seconds : 0;
      const name = counterKey(c.name, c.label);
      const total = c.total !== undefined ? `/${c.total}` : "";
      const pct = c.total ? ` (${((c.count / c.total) * 100).toFixed(1)}%)` : "";
      const message = c.message ? ` ${c.message}` : "";
      lines.push(
        `${name}: ${c.count}${total}${pct} | Time: ${seconds.toFixed(2)}s | Rate: ${rate.toFixed(2)}/s${message}`,
      );
    }
    if (this.#stats) {
      const rss = process.memoryUsage().rss;
      const cpu = process.cpuUsage(this.#cpuAtStart);
      const wall = Math.max(1, now - this.#stepStartedAt) * 1000;
      const cpuPct = ((cpu.user + cpu.system) / wall / cpus().length) * 100;
      lines.push(
        `Memory usage: ${(rss / 1024 / 1024).toFixed(2)} MB (${((rss / totalmem()) * 100).toFixed(2)}%) | CPU usage: ${cpuPct.toFixed(2)}%`,
      );
    }
    this.#write(`${lines.join("\n")}\n`);
  }
}

/** Options of {@link BarCollector}. */
export interface BarCollectorOptions {
  /** Stream the bars render to. @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
}

/** Live progress bars, one per counter (cli-progress). Use on a TTY. */
export class BarCollector implements Collector {
  readonly #stream: NodeJS.WriteStream;
  #multibar: cliProgress.MultiBar | undefined;
  #bars = new Map<string, cliProgress.SingleBar>();
  #counters = new Map<string, Counter>();
  #step = "";

  constructor(options: BarCollectorOptions = {}) {
    this.#stream = options.stream ?? process.stderr;
  }

  start(step: string): void {
    this.stop();
    this.#step = step;
    this.#multibar = new cliProgress.MultiBar(
      {
        stream: this.#stream,
        clearOnComplete: false,
        hideCursor: true,
        format: "{step} {name} |{bar}| {value}{totalText} | {rate}/s {message}",
        barsize: 30,
        forceRedraw: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(name: string, update: CollectorUpdate = {}): void {
    const now = performance.now();
    const counter = applyUpdate(this.#counters, name, update, now);
    const key = counterKey(name, update.label);
    const payload = {
      step: this.#bars.size === 0 ? `${this.#step}:` : " ".repeat(this.#step.length + 1),
      name: key,
      totalText: counter.total !== undefined ? `/${counter.total}` : "",
      rate: (counter.count / Math.max(0.001, (now - counter.startedAt) / 1000) || 0).toFixed(1),
      message: counter.message ?? "",
    };
    let bar = this.#bars.get(key);
    if (!bar) {
      bar = this.#multibar?.create(counter.total ?? Math.max(counter.count, 1), counter.count, payload);
      if (bar) this.#bars.set(key, bar);
    }
    if (!bar) return;
    bar.setTotal(counter.total ?? Math.max(counter.count, 1));
    bar.update(counter.count, payload);
  }

  stop(): void {
    this.#multibar?.stop();
    this.#multibar = undefined;
    this.#bars = new Map();
    this.#counters = new Map();
  }
}

const BAR_ALIASES = new Set(["bar", "tqdm", "enlighten", "alive_progress"]);

/** Resolves a progress option to a collector. `bar` on a non-TTY stderr falls back to log lines. */
export function createCollector(
  option: ProgressOption | undefined,
  stream: NodeJS.WriteStream = process.stderr,
): Collector {
  if (option === undefined || option === "none") return nullCollector;
  if (typeof option === "object") {
    if (
      typeof option.start !== "function" ||
      typeof option.update !== "function" ||
      typeof option.stop !== "function"
    ) {
      throw new TsdltError(
        '`progress` must be "log", "bar" or an object with start(), update() and stop().',
        {
          code: "INVALID_ARGUMENT",
        },
      );
    }
    return option;
  }
  if (option === "log") return new LogCollector();
  if (BAR_ALIASES.has(option))
    return stream.isTTY ? new BarCollector({ stream }) : new LogCollector({ write: (t) => stream.write(t) });
  throw new TsdltError(
    `Unknown progress ${JSON.stringify(option)}: use "log", "bar" (aliases "tqdm", "enlighten", "alive_progress"), "none" or a collector object.`,
    { code: "INVALID_ARGUMENT" },
  );
}
