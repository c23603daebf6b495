/** `dlt.sources`: helpers used inside resources, as in dlt (`dlt.sources.incremental`). */
import { incremental } from "@tsdlt/extract";

/**
 * `dlt.sources.incremental(cursorPath, options)` — declares an incremental cursor.
 *
 * @example
 * ```ts
 * const issues = dlt.resource(async function* (updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" })) {
 *   yield* fetchIssuesSince(updatedAt.lastValue);
 * }, { name: "issues", writeDisposition: "merge", primaryKey: "id" });
 * ```
 */
export const sources: { readonly incremental: typeof incremental } = Object.freeze({ incremental });
