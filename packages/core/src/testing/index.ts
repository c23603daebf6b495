/**
 * `@tsdlt/core/testing`: what destination authors test with. `testDestination()` is the
 * conformance suite every destination runs; `dummyDestination()` is an in-memory destination with
 * injectable failures for testing the load stage and pipelines. No test framework is needed at run
 * time: the suite takes vitest's `describe`/`it`/`beforeEach`/`afterEach` as a parameter and asserts
 * with `node:assert`.
 */
export {
  chainTables,
  conformanceTable,
  eventsTable,
  NESTED_SYSTEM_COLUMNS,
  OTHER_TYPE_VALUES,
  ROOT_SYSTEM_COLUMNS,
  scd2Table,
  stateTable,
  TYPE_VALUES,
  TYPES_TABLE,
  typeColumn,
  typesRows,
  typesTable,
} from "./conformance-schema.js";
export type {
  FixtureJob,
  FixtureLoadOptions,
  FixtureLoadResult,
  ReadTable,
} from "./destination-fixture.js";
export { canonicalRows, conformanceSchema, DestinationFixture } from "./destination-fixture.js";
export type {
  DummyDestination,
  DummyDestinationOptions,
  DummyFailure,
  DummyJobAttempt,
  DummyJobFailure,
  DummyStep,
} from "./dummy-destination.js";
export {
  DUMMY_DESTINATION_NAME,
  DummyClient,
  dummyDestination,
  readDummyTable,
} from "./dummy-destination.js";
export type { Row } from "./jsonl.js";
export { parseJsonLine, readJsonlFile, toJsonLine } from "./jsonl.js";
export type { TestApi, TestFunction } from "./test-api.js";
export type { TestDestinationOptions, TestDestinationSkip } from "./test-destination.js";
export { testDestination } from "./test-destination.js";
export { canonicalValue, rowProblem, valueProblem } from "./values.js";
