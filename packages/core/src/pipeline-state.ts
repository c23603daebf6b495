/**
 * The pipeline state document (`state.json`, REFERENCE §6.2) and its compressed form in the
 * `_dlt_pipeline_state` table. Keys are dlt's, so Python dlt can restore a tsdlt pipeline and back.
 */
import { createHash } from "node:crypto";
import { deflateSync, inflateSync } from "node:zlib";
import { TsdltError } from "./errors.js";
import { fromTypedJson, toTypedJson } from "./typed-json.js";

/** dlt's state engine version. */
export const STATE_ENGINE_VERSION = 4;

/** State kept only on this machine; never written to the destination. */
export interface LocalState {
  first_run?: boolean;
  initial_cwd?: string;
  _last_extracted_at?: Date;
  _last_extracted_hash?: string;
  _dev_mode?: boolean;
  [key: string]: unknown;
}

/** State of one source: user keys plus per-resource state. */
export interface SourceState {
  resources?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** The pipeline state document. */
export interface PipelineStateDoc {
  _state_version: number;
  _version_hash: string;
  _state_engine_version: number;
  pipeline_name: string;
  dataset_name?: string | undefined;
  default_schema_name?: string | undefined;
  schema_names?: string[];
  destination_type?: string | undefined;
  destination_name?: string | undefined;
  staging_type?: string | undefined;
  staging_name?: string | undefined;
  sources?: Record<string, SourceState>;
  _local: LocalState;
  [key: string]: unknown;
}

/** A fresh state for `pipelineName`. */
export function newPipelineState(pipelineName: string): PipelineStateDoc {
  const state: PipelineStateDoc = {
    _state_version: 0,
    _version_hash: "",
    _state_engine_version: STATE_ENGINE_VERSION,
    pipeline_name: pipelineName,
    _local: { first_run: true },
  };
  state._version_hash = stateVersionHash(state);
  return state;
}

const HASH_EXCLUDED = new Set(["_local", "_state_version", "_state_engine_version", "_version_hash"]);

/** The state without machine-local and versioning keys, keys sorted recursively. */
function hashableState(state: PipelineStateDoc): unknown {
  const sort = (value: unknown): unknown => {
    if (value === null || typeof value !== "object" || value instanceof Date || value instanceof Uint8Array) {
      return value;
    }
    if (Array.isArray(value)) return value.map(sort);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sort((value as Record<string, unknown>)[key]);
    return out;
  };
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) if (!HASH_EXCLUDED.has(k) && v !== undefined) copy[k] = v;
  return sort(copy);
}

/** base64 SHA3-256 of the typed JSON of the state without `_local` and versioning keys. */
export function stateVersionHash(state: PipelineStateDoc): string {
  return createHash("sha3-256")
    .update(toTypedJson(hashableState(state)), "utf8")
    .digest("base64");
}

/** Bumps `_state_version` when the content changed; returns true when it did. */
export function bumpStateVersion(state: PipelineStateDoc): boolean {
  const hash = stateVersionHash(state);
  if (hash === state._version_hash) return false;
  state._state_version += 1;
  state._version_hash = hash;
  return true;
}

/** The state as written to the destination: base64(zlib level 9(typed JSON without `_local`)). */
export function compressState(state: PipelineStateDoc): string {
  const { _local: _ignored, ...shared } = state;
  return deflateSync(Buffer.from(toTypedJson(shared), "utf8"), { level: 9 }).toString("base64");
}

/** Restores a state compressed by {@link compressState} (or by Python dlt). */
export function decompressState(encoded: string): PipelineStateDoc {
  try {
    const json = inflateSync(Buffer.from(encoded, "base64")).toString("utf8");
    const state = fromTypedJson<PipelineStateDoc>(json);
    state._local ??= {};
    return state;
  } catch (cause) {
    throw new TsdltError("The pipeline state stored in the destination cannot be decompressed.", {
      code: "STATE_CORRUPTED",
      cause,
    });
  }
}

/** The row of `_dlt_pipeline_state` that records `state` (without `_dlt_load_id` / `_dlt_id`). */
export function pipelineStateRow(
  state: PipelineStateDoc,
  createdAt: Date = new Date(),
): Record<string, unknown> {
  return {
    version: state._state_version,
    engine_version: state._state_engine_version,
    pipeline_name: state.pipeline_name,
    state: compressState(state),
    created_at: createdAt,
    version_hash: state._version_hash,
  };
}
