import { describe, expect, it } from "vitest";
import {
  DEFAULT_CAPABILITIES,
  type DestinationClient,
  defineCapabilities,
  supportsSql,
  supportsStateSync,
} from "../src/index.js";

function fakeClient(extra: Record<string, unknown> = {}): DestinationClient {
  const client = {
    capabilities: DEFAULT_CAPABILITIES,
    initializeStorage: async () => {},
    isStorageInitialized: async () => true,
    updateStoredSchema: async () => ({ tables: {}, statements: [] }),
    createLoadJob: async () => ({ jobId: "t.abc.jsonl", run: async () => {} }),
    completeLoad: async () => {},
    [Symbol.asyncDispose]: async () => {},
    ...extra,
  };
  return client as DestinationClient;
}

describe("defineCapabilities", () => {
  it("should fill every field not given from the defaults", () => {
    const caps = defineCapabilities({ preferredLoaderFileFormat: "insert_values", maxIdentifierLength: 63 });
    expect(caps.preferredLoaderFileFormat).toBe("insert_values");
    expect(caps.maxIdentifierLength).toBe(63);
    for (const key of Object.keys(DEFAULT_CAPABILITIES) as (keyof typeof DEFAULT_CAPABILITIES)[]) {
      if (key === "preferredLoaderFileFormat" || key === "maxIdentifierLength") continue;
      expect(caps[key], key).toEqual(DEFAULT_CAPABILITIES[key]);
    }
    expect(Object.keys(caps).sort()).toEqual(Object.keys(DEFAULT_CAPABILITIES).sort());
  });

  it("should use dlt's generic defaults", () => {
    const caps = defineCapabilities({});
    expect(caps.preferredLoaderFileFormat).toBe("jsonl");
    expect(caps.decimalPrecision).toEqual([38, 9]);
    expect(caps.weiPrecision).toEqual([78, 0]);
    expect(caps.timestampPrecision).toBe(6);
    expect(caps.supportedReplaceStrategies).toEqual(["truncate-and-insert"]);
    expect(caps.namingConvention).toBe("snake_case");
  });

  it("should return a frozen object", () => {
    const caps = defineCapabilities({ maxIdentifierLength: 63 });
    expect(Object.isFrozen(caps)).toBe(true);
    expect(Object.isFrozen(DEFAULT_CAPABILITIES)).toBe(true);
    expect(() => {
      (caps as { maxIdentifierLength: number }).maxIdentifierLength = 1;
    }).toThrow(TypeError);
    expect(caps.maxIdentifierLength).toBe(63);
  });

  it("should not let one destination change the defaults another one inherits", () => {
    const a = defineCapabilities({});
    expect(() => (a.supportedLoaderFileFormats as string[]).push("reference")).toThrow(TypeError);
    expect(() => ((a.decimalPrecision as unknown as number[])[0] = 10)).toThrow(TypeError);
    const b = defineCapabilities({});
    expect(b.supportedLoaderFileFormats).not.toContain("reference");
    expect(b.decimalPrecision).toEqual([38, 9]);
  });
});

describe("capability guards", () => {
  it("should detect state sync only when both methods exist", () => {
    expect(supportsStateSync(fakeClient())).toBe(false);
    expect(supportsStateSync(fakeClient({ getStoredSchema: async () => undefined }))).toBe(false);
    expect(
      supportsStateSync(
        fakeClient({ getStoredSchema: async () => undefined, getStoredState: async () => undefined }),
      ),
    ).toBe(true);
    expect(supportsStateSync(fakeClient({ getStoredSchema: "x", getStoredState: "y" }))).toBe(false);
  });

  it("should detect SQL access only when both methods exist", () => {
    expect(supportsSql(fakeClient())).toBe(false);
    expect(supportsSql(fakeClient({ query: async () => [] }))).toBe(false);
    const client = fakeClient({
      query: async () => [{ n: 1 }],
      qualifiedTableName: (t: string) => `"d"."${t}"`,
    });
    expect(supportsSql(client)).toBe(true);
    if (supportsSql(client)) expect(client.qualifiedTableName("users")).toBe('"d"."users"');
  });
});
