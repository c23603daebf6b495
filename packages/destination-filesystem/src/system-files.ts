/**
 * dlt's system tables as files (dlt's filesystem destination layout, which ignores `layout`): each
 * table is a folder of one-line `jsonl` files whose names carry what lookups need.
 *
 * ```
 * <dataset>/init                                                   {"initial_version": 2, "current_version": 2}
 * <dataset>/_dlt_loads/<schema_name>__<load_id>.jsonl              one `_dlt_loads` row: the load completed
 * <dataset>/_dlt_version/<schema_name>__<time>__<hash hex>.jsonl   one `_dlt_version` row (schema JSON in `schema`)
 * <dataset>/_dlt_pipeline_state/<pipeline>__<load_id>__<hash hex>.jsonl   one `_dlt_pipeline_state` row
 * ```
 * `<hash hex>` is the base64 version hash as hex, so names are path-safe. Python dlt reads and writes
 * the same files, so a dataset can be continued by either.
 */
import { LOADS_TABLE_NAME, PIPELINE_STATE_TABLE_NAME, VERSION_TABLE_NAME } from "@tsdlt/core";

/** Name of the file that marks an initialized dataset folder. */
export const INIT_FILE_NAME = "init";
/** Storage version written to the init file (dlt's version 2: compressed files carry `.gz`). */
export const STORAGE_VERSION = 2;
/** Separator of the parts of a system file name. */
export const FILENAME_SEPARATOR = "__";

/** The content of the init file. */
export function initFileContent(): string {
  return JSON.stringify({ initial_version: STORAGE_VERSION, current_version: STORAGE_VERSION });
}

/** A base64 version hash as hex (path-safe); empty text stays empty. */
export function hashToPathSafe(versionHash: string | undefined): string {
  return versionHash ? Buffer.from(versionHash, "base64").toString("hex") : "";
}

/** The folder of a system table inside the dataset, with a trailing `/`. */
export function systemTableFolder(
  dataset: string,
  table: typeof LOADS_TABLE_NAME | typeof VERSION_TABLE_NAME | typeof PIPELINE_STATE_TABLE_NAME,
): string {
  return `${dataset}/${table}/`;
}

/** `_dlt_loads/<schema>__<load_id>.jsonl`. */
export function loadsFilePath(dataset: string, schemaName: string, loadId: string): string {
  return `${systemTableFolder(dataset, LOADS_TABLE_NAME)}${schemaName}${FILENAME_SEPARATOR}${loadId}.jsonl`;
}

/** `_dlt_version/<schema>__<id>__<hash hex>.jsonl`; `id` is the time the schema was stored. */
export function versionFilePath(
  dataset: string,
  schemaName: string,
  id: string,
  versionHash: string,
): string {
  return `${systemTableFolder(dataset, VERSION_TABLE_NAME)}${schemaName}${FILENAME_SEPARATOR}${id}${FILENAME_SEPARATOR}${hashToPathSafe(versionHash)}.jsonl`;
}

/** `_dlt_pipeline_state/<pipeline>__<load_id>__<hash hex>.jsonl`. */
export function stateFilePath(
  dataset: string,
  pipelineName: string,
  loadId: string,
  versionHash: string | undefined,
): string {
  return `${systemTableFolder(dataset, PIPELINE_STATE_TABLE_NAME)}${pipelineName}${FILENAME_SEPARATOR}${loadId}${FILENAME_SEPARATOR}${hashToPathSafe(versionHash)}.jsonl`;
}

/** The parts of a system file name, split from the right (names may themselves contain `__`). */
export interface SystemFileName {
  readonly path: string;
  /** Schema or pipeline name. */
  readonly name: string;
  readonly loadId: string;
  /** Hex version hash (absent for `_dlt_loads` files). */
  readonly hash: string | undefined;
}

/**
 * Parses `<name>__<load_id>[__<hash>].jsonl` at the end of `path`; `parts` is 2 for `_dlt_loads`
 * files and 3 for the others. Undefined for files that do not follow the pattern.
 */
export function parseSystemFileName(path: string, parts: 2 | 3): SystemFileName | undefined {
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (!base.endsWith(".jsonl")) return undefined;
  const stem = base.slice(0, -".jsonl".length);
  const pieces: string[] = [];
  let rest = stem;
  for (let i = 1; i < parts; i++) {
    const at = rest.lastIndexOf(FILENAME_SEPARATOR);
    if (at <= 0) return undefined;
    pieces.unshift(rest.slice(at + FILENAME_SEPARATOR.length));
    rest = rest.slice(0, at);
  }
  const [loadId, hash] = pieces as [string, string | undefined];
  if (loadId === "" || !/^\d+(?:\.\d+)?$/.test(loadId)) return undefined;
  return { path, name: rest, loadId, hash };
}
