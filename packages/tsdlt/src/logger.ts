/** The default logger: pino to stderr, level from config `runtime.log_level` (env `RUNTIME__LOG_LEVEL`). */
import { type Logger, redactingLogger } from "@tsdlt/core";
import { pino } from "pino";

const LEVELS: Record<string, string> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warn",
  WARN: "warn",
  ERROR: "error",
  CRITICAL: "fatal",
};

const loggers = new Map<string, Logger>();

/**
 * The process-wide logger for a dlt level name (`DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`; from
 * config `runtime.log_level`), writing to stderr. Messages pass through the secret redactor.
 */
export function defaultLogger(logLevel = "WARNING"): Logger {
  const level = LEVELS[logLevel.toUpperCase()] ?? logLevel.toLowerCase();
  let logger = loggers.get(level);
  if (!logger) {
    logger = redactingLogger(pino({ name: "tsdlt", level }, pino.destination({ fd: 2, sync: true })));
    loggers.set(level, logger);
  }
  return logger;
}
