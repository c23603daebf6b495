import type { Logger } from "@tsdlt/core";

/** The default logger of the REST client: warnings and errors to stderr, debug and info dropped. */
export const consoleLogger: Logger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
});
