import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  bumpStateVersion,
  compressState,
  decompressState,
  isTsdltError,
  newPipelineState,
  pipelineStateRow,
  STATE_ENGINE_VERSION,
  stateVersionHash,
} from "../src/index.js";

describe("pipeline state", () => {
  it("should create a fresh state at version 0 with a content hash", () => {
    const state = newPipelineState("my_pipeline");
    expect(state._state_version).toBe(0);
    expect(state._state_engine_version).toBe(STATE_ENGINE_VERSION);
    expect(STATE_ENGINE_VERSION).toBe(4);
    expect(state.pipeline_name).toBe("my_pipeline");
    expect(state._local).toEqual({ first_run: true });
    expect(state._version_hash).toBe(stateVersionHash(state));
    // base64 of a 32-byte SHA3-256 digest
    expect(Buffer.from(state._version_hash, "base64")).toHaveLength(32);
    expect(bumpStateVersion(state)).toBe(false);
  });

  it("should bump the version only when the content changes", () => {
    const state = newPipelineState("p");
    state.sources = { github: { token_expires: 1, resources: { issues: { cursor: "a" } } } };
    const before = state._version_hash;
    expect(bumpStateVersion(state)).toBe(true);
    expect(state._state_version).toBe(1);
    expect(state._version_hash).not.toBe(before);

    expect(bumpStateVersion(state)).toBe(false);
    expect(state._state_version).toBe(1);

    state.sources.github = { token_expires: 1, resources: { issues: { cursor: "b" } } };
    expect(bumpStateVersion(state)).toBe(true);
    expect(state._state_version).toBe(2);
  });

  it("should not bump the version when only _local changes", () => {
    const state = newPipelineState("p");
    const hash = state._version_hash;
    state._local.first_run = false;
    state._local._last_extracted_at = new Date();
    state._local._last_extracted_hash = "abc";
    expect(bumpStateVersion(state)).toBe(false);
    expect(state._state_version).toBe(0);
    expect(state._version_hash).toBe(hash);
  });

  it("should hash the same content the same regardless of key order", () => {
    const a = newPipelineState("p");
    a.sources = { s: { x: 1, y: 2 } };
    a.dataset_name = "d";
    const b = newPipelineState("p");
    b.dataset_name = "d";
    b.sources = { s: { y: 2, x: 1 } };
    expect(stateVersionHash(a)).toBe(stateVersionHash(b));
  });

  it("should round-trip through compressState/decompressState without _local", () => {
    const state = newPipelineState("p");
    state.dataset_name = "p_dataset";
    state.schema_names = ["a", "b"];
    state.sources = { src: { last_value: new Date("2024-03-04T05:06:07.000Z"), big: 2n ** 65n } };
    state._local._last_extracted_hash = "local-only";
    bumpStateVersion(state);

    const restored = decompressState(compressState(state));
    const { _local: _dropped, ...shared } = state;
    expect(restored).toEqual({ ...shared, _local: {} });
    expect(restored.sources?.src?.last_value).toBeInstanceOf(Date);
    expect(restored.sources?.src?.big).toBe(2n ** 65n);
  });

  it("should store the state as base64 of zlib-compressed typed JSON", () => {
    const state = newPipelineState("p");
    state.sources = { src: { at: new Date(0) } };
    const compressed = compressState(state);
    expect(compressed).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const bytes = Buffer.from(compressed, "base64");
    expect(bytes[0]).toBe(0x78); // zlib header (CMF: deflate, 32K window)
    expect(((bytes[0] as number) * 256 + (bytes[1] as number)) % 31).toBe(0); // header checksum
    const json = inflateSync(bytes).toString("utf8");
    expect(json).not.toContain("_local");
    expect(json).toContain('"pipeline_name":"p"');
    expect(json).toContain("\uf0271970-01-01T00:00:00.000Z");
  });

  it.each([["not base64 at all!!"], [Buffer.from("plain text, not zlib").toString("base64")], [""]])(
    "should raise STATE_CORRUPTED when decompressing garbage %j",
    (garbage) => {
      let thrown: unknown;
      try {
        decompressState(garbage);
      } catch (error) {
        thrown = error;
      }
      expect(isTsdltError(thrown, "STATE_CORRUPTED")).toBe(true);
      expect((thrown as Error).cause).toBeDefined();
    },
  );

  it("should build the _dlt_pipeline_state row", () => {
    const state = newPipelineState("p");
    state.sources = { s: { v: 1 } };
    bumpStateVersion(state);
    const createdAt = new Date("2024-01-01T00:00:00Z");
    const row = pipelineStateRow(state, createdAt);
    expect(row).toEqual({
      version: 1,
      engine_version: 4,
      pipeline_name: "p",
      state: compressState(state),
      created_at: createdAt,
      version_hash: state._version_hash,
    });
  });
});
