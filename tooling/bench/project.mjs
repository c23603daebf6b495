/**
 * Access to the project's own built code. The bench runs against the packages' `dist/` (what users
 * get), loaded by path from the repository, so `tooling` needs no workspace dependencies:
 * `packages/<name>/dist/index.js`, and `@duckdb/node-api` resolved the way the DuckDB destination
 * resolves it.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Absolute path of the repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Path of a workspace package's built entry (`packages/tsdlt`, `tooling/fixture-server`, ...), or
 * undefined when it has not been built.
 * @param {string} folder relative to the repository root
 * @returns {string | undefined}
 */
export function builtEntry(folder) {
  const path = join(REPO_ROOT, folder, "dist", "index.js");
  return existsSync(path) ? path : undefined;
}

/**
 * Imports a built workspace package; fails with a hint when it is not built.
 * @param {string} folder relative to the repository root
 * @returns {Promise<Record<string, unknown>>}
 */
export async function importBuilt(folder) {
  const path = builtEntry(folder);
  if (path === undefined) {
    throw new Error(
      `${folder}/dist/index.js is missing: build first (\`pnpm build\`, or use \`pnpm bench\`).`,
    );
  }
  return import(pathToFileURL(path).href);
}

/**
 * The public `tsdlt` API from `packages/tsdlt/dist`.
 * @returns {Promise<any>}
 */
export function importTsdlt() {
  return importBuilt("packages/tsdlt");
}

/**
 * `@duckdb/node-api`, the same copy the DuckDB destination loads.
 * @returns {any}
 */
export function requireDuckDB() {
  return createRequire(join(REPO_ROOT, "packages", "destination-duckdb", "package.json"))("@duckdb/node-api");
}
