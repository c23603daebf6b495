export type { ExtractOptions, ExtractResult } from "./extract.js";
export { DEFAULT_BUFFER_MAX_ITEMS, extractResources } from "./extract.js";
export { encodeItems } from "./item-encoder.js";
export type {
  ColumnsHint,
  ResourceData,
  ResourceHints,
  ResourceOptions,
  TableNameHint,
} from "./resource.js";
export { DltResource, isResource, resource } from "./resource.js";
