/**
 * Lazy access to `@duckdb/node-api`: the native binding loads on the first `createClient`, not when
 * `@tsdlt/destination-duckdb` is imported, so a pipeline that loads elsewhere never pays for it.
 */
import { DestinationError } from "@tsdlt/core";

/** The `@duckdb/node-api` module. */
export type DuckDBModule = typeof import("@duckdb/node-api");

let loading: Promise<DuckDBModule> | undefined;

/** Imports `@duckdb/node-api` once; a failed import is retried on the next call. */
export function loadDuckDB(): Promise<DuckDBModule> {
  loading ??= import("@duckdb/node-api").catch((cause: unknown) => {
    loading = undefined;
    throw new DestinationError(
      "[tsdlt] [duckdb] `@duckdb/node-api` could not be loaded, so no DuckDB database can be opened. " +
        "Reinstall it (`npm install @duckdb/node-api`) and check that a prebuilt binary exists for this platform.",
      { code: "DESTINATION_TERMINAL", retryable: false, destination: "duckdb", cause },
    );
  });
  return loading;
}
