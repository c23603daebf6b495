/**
 * The few functions of a test framework the conformance suite calls. vitest's `describe`, `it`,
 * `beforeEach` and `afterEach` fit as they are (`import * as vitest from "vitest"` and pass
 * `vitest`), so `@tsdlt/core` needs no test framework at run time or in its types. Assertions use
 * `node:assert/strict`, which every framework reports as a failure.
 */

/** Registers one test. */
export type TestFunction = (name: string, body: () => Promise<void>) => unknown;

/** The test framework functions {@link testDestination} uses (vitest's, or any with the same shape). */
export interface TestApi {
  describe(name: string, body: () => void): unknown;
  /** `it(name, body)`, and `it.skipIf(condition)(name, body)` for capability-gated cases. */
  readonly it: TestFunction & { skipIf(condition: boolean): TestFunction };
  beforeEach(hook: () => Promise<void>): unknown;
  afterEach(hook: () => Promise<void>): unknown;
}
