/** The default logger: pino to stderr, level from env `RUNTIME__LOG_LEVEL` (dlt's `runtime.log_level`). */
import type { Logger } from "@tsdlt/core";
import { pino } from "pino";

const LEVELS: Record<string, string> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warn",
  WARN: "warn",
  ERROR: "error",
  CRITICAL: "fatal",
};

let shared: Logger | undefined;

/** The process-wide default logger (created on first use). @default level `warn` */
export function defaultLogger(): Logger {
  if (!shared) {
    const raw = process.env.RUNTIME__LOG_LEVEL ?? process.env.LOG_LEVEL ?? "WARNING";
    const level = LEVELS[raw.toUpperCase()] ?? raw.toLowerCase();
    shared = pino({ name: "tsdlt", level }, pino.destination({ fd: 2, sync: true }));
  }
  return shared;
}
