/**
 * @tsdlt/normalize — the normalize stage: turns extracted packages (typed JSONL items) into
 * normalized packages (relational rows in jsonl job files) and evolves the schema (REFERENCE §2).
 */
export type { NormalizeOptions, NormalizeResult } from "./normalize-package.js";
export {
  DEFAULT_NORMALIZE_FILE_MAX_BYTES,
  DEFAULT_PARALLEL_MIN_BYTES,
  normalizePackage,
} from "./normalize-package.js";
export type { StreamedJobFile, StreamingNormalizeOptions } from "./streaming-normalize.js";
export { StreamingNormalizer } from "./streaming-normalize.js";
