/**
 * The destination conformance suite of `@tsdlt/core/testing` against DuckDB: a database file in each
 * test's temp folder (`<localDir>/<pipelineName>.duckdb`, the default path), read back through SQL.
 * DuckDB claims every optional ability, so nothing is skipped.
 */

import { testDestination } from "@tsdlt/core/testing";
import * as vitest from "vitest";
import { duckdb } from "../src/index.js";

testDestination({ test: vitest, create: () => duckdb() });
