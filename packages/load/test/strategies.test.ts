/**
 * Strategy resolution and ability detection from `@tsdlt/core` as the load stage uses them
 * (REFERENCE §4.2–4.3): the merge strategy from `x-merge-strategy` or the destination's default,
 * dlt's append fallback, replace strategies from configuration, and the staging type guards.
 */
import {
  DEFAULT_CAPABILITIES,
  type DestinationClient,
  defineCapabilities,
  resolveMergeStrategy,
  resolveReplaceStrategy,
  stagingDatasetName,
  supportsStagingDataset,
  supportsTableChainFollowupJobs,
  type TableSchema,
} from "@tsdlt/core";
import { describe, expect, it } from "vitest";

const caps = defineCapabilities({
  supportedMergeStrategies: ["delete-insert", "upsert"],
  supportedReplaceStrategies: ["truncate-and-insert", "insert-from-staging"],
});
const table = (hint?: string): TableSchema => ({
  name: "t",
  columns: {},
  write_disposition: "merge",
  ...(hint === undefined ? {} : { "x-merge-strategy": hint }),
});

describe("resolveMergeStrategy", () => {
  it("should take the hint, else the destination's first strategy", () => {
    expect(resolveMergeStrategy(table("upsert"), caps)).toBe("upsert");
    expect(resolveMergeStrategy(table(), caps)).toBe("delete-insert");
  });

  it("should return undefined (append fallback) when the destination supports no merge strategy", () => {
    expect(resolveMergeStrategy(table("scd2"), DEFAULT_CAPABILITIES)).toBeUndefined();
  });

  it("should reject unknown and unsupported strategies terminally", () => {
    expect(() => resolveMergeStrategy(table("scd2"), caps, "dest")).toThrow(
      /Merge strategy `scd2` of table `t` is not supported by this destination; it supports `delete-insert`, `upsert`/,
    );
    expect(() => resolveMergeStrategy(table("merge-all"), caps)).toThrow(/"merge-all", which does not exist/);
  });
});

describe("resolveReplaceStrategy", () => {
  it("should default to the first supported strategy and reject unsupported ones", () => {
    expect(resolveReplaceStrategy(undefined, caps)).toBe("truncate-and-insert");
    expect(resolveReplaceStrategy("insert-from-staging", caps)).toBe("insert-from-staging");
    expect(() => resolveReplaceStrategy("staging-optimized", caps)).toThrow(/not supported/);
  });
});

describe("staging abilities", () => {
  it("should name the staging dataset after the layout", () => {
    expect(stagingDatasetName("data")).toBe("data_staging");
    expect(stagingDatasetName("data", "staging_%s")).toBe("staging_data");
    expect(stagingDatasetName("data", "shared_staging")).toBe("shared_staging");
  });

  it("should detect the optional abilities by their members", () => {
    const base = {} as DestinationClient;
    expect(supportsStagingDataset(base)).toBe(false);
    expect(supportsTableChainFollowupJobs(base)).toBe(false);
    const staged = Object.assign({} as DestinationClient, {
      stagingDatasetName: "d_staging",
      initializeStagingDataset: async () => ({ tables: {}, statements: [] }),
      createStagingLoadJob: async () => ({ jobId: "j", run: async () => {} }),
      createTableChainFollowupJobs: async () => [],
    });
    expect(supportsStagingDataset(staged)).toBe(true);
    expect(supportsTableChainFollowupJobs(staged)).toBe(true);
  });
});
