export { GuardedClient } from "./guarded-client.js";
export type { FailedJob, LoadOptions, LoadResult } from "./load.js";
export { loadPackage } from "./load.js";
