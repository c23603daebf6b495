import type { Logger } from "@tsdlt/core";
import type { RetryOptions } from "../src/index.js";

/** A log line captured by {@link recordingLogger}. */
export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
}

/** A logger that keeps every line. */
export function recordingLogger(): Logger & { readonly lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  return {
    lines,
    text: () => lines.map((l) => `${l.level}: ${l.message}`).join("\n"),
    debug: (message) => lines.push({ level: "debug", message }),
    info: (message) => lines.push({ level: "info", message }),
    warn: (message) => lines.push({ level: "warn", message }),
    error: (message) => lines.push({ level: "error", message }),
  };
}

/** Retry settings with millisecond waits, so retry tests stay fast. */
export const FAST_RETRY: RetryOptions = { backoffBaseMs: 5, maxRetryDelayMs: 500, timeoutMs: 2_000 };

/** A committed recording under `test/fixtures/`. */
export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}

/** Every page of an async iterable of pages. */
export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const page of pages) out.push([...page]);
  return out;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
