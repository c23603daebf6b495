/**
 * Destination references: a name resolved by lazy import, or a destination object. `duckdb` ships with
 * tsdlt; `postgres`, `filesystem`, ... resolve `@tsdlt/destination-<name>` when installed, and any
 * other name finds a third-party `tsdlt-destination-<name>`.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Destination, duckdbCredentials, resolveConfig, TsdltError, z } from "@tsdlt/core";
import { type DuckDBDestinationOptions, duckdb } from "@tsdlt/destination-duckdb";

/** A destination given by name or as an object. */
export type DestinationReference = string | Destination;

/** Destination factories bundled with tsdlt, as `dlt.destinations.<name>(...)`. */
export const destinations: { duckdb: (options?: DuckDBDestinationOptions) => Destination } = Object.freeze({
  duckdb,
});

/** Options every named destination factory accepts. */
interface FactoryOptions {
  credentials?: unknown;
  destinationName?: string;
}

type Factory = (options?: FactoryOptions) => Destination;

const BUILT_IN: Record<string, Factory> = { duckdb: duckdb as Factory };

/** True for values that look like a destination object. */
export function isDestination(value: unknown): value is Destination {
  const d = value as Partial<Destination> | null;
  return (
    typeof d === "object" && d !== null && typeof d.name === "string" && typeof d.createClient === "function"
  );
}

/** Short name from a reference or a stored destination type (`dlt.destinations.duckdb` → `duckdb`). */
export function destinationShortName(reference: string): string {
  return reference.replace(/^dlt\.destinations\./, "").replace(/^tsdlt_destination_/, "");
}

/**
 * Resolves a destination reference. Names import the destination package lazily; a missing package
 * fails with the exact install command.
 */
export async function resolveDestination(
  reference: DestinationReference,
  credentials?: unknown,
): Promise<Destination> {
  if (isDestination(reference)) return reference;
  if (typeof reference !== "string" || reference.trim() === "") {
    throw new TsdltError(
      `\`destination\` must be a destination name such as "duckdb" or a destination object.`,
      {
        code: "INVALID_ARGUMENT",
      },
    );
  }
  const name = destinationShortName(reference.trim());
  const options: FactoryOptions = credentials === undefined ? {} : { credentials };
  const builtIn = BUILT_IN[name];
  if (builtIn) return builtIn(name === "duckdb" ? withConfiguredDuckDBCredentials(options) : options);
  const candidates = [`@tsdlt/destination-${name}`, `tsdlt-destination-${name}`];
  for (const specifier of candidates) {
    const mod = await importInstalled(specifier);
    if (mod === undefined) continue;
    const factory = (mod[camelCase(name)] ?? mod.default ?? mod.destination) as Factory | undefined;
    if (typeof factory !== "function") {
      throw new TsdltError(
        `Package \`${specifier}\` does not export a destination factory \`${camelCase(name)}\` or a default export.`,
        { code: "DESTINATION_NOT_FOUND", destination: name },
      );
    }
    return factory(options);
  }
  throw new TsdltError(
    `Destination \`${name}\` is not installed. Install it with \`npm install ${candidates[0]}\` (or \`${candidates[1]}\` for a third-party destination), or pass a destination object.`,
    { code: "DESTINATION_NOT_FOUND", destination: name },
  );
}

/**
 * DuckDB credentials (a database path) from config when none were given in code:
 * `DESTINATION__DUCKDB__CREDENTIALS`, or `credentials` under `[destination.duckdb]` in the TOML files.
 */
function withConfiguredDuckDBCredentials(options: FactoryOptions): FactoryOptions {
  if (options.credentials !== undefined) return options;
  const resolved = resolveConfig(z.object({ credentials: duckdbCredentials.optional() }), {
    sections: ["destination", "duckdb"],
  });
  const database = resolved.credentials?.database;
  return database === undefined ? options : { ...options, credentials: database };
}

/**
 * Imports `specifier` as installed next to tsdlt, or else in the user's project (the current folder):
 * with strict package layouts (pnpm) a destination the user installed is not visible from tsdlt's own
 * folder. Resolves to undefined when it is installed in neither.
 */
async function importInstalled(specifier: string): Promise<Record<string, unknown> | undefined> {
  const notFound = (error: unknown): boolean =>
    ["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND"].includes((error as { code?: string }).code ?? "");
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    if (!notFound(error)) throw error;
  }
  let resolved: string;
  try {
    resolved = createRequire(join(process.cwd(), "package.json")).resolve(specifier);
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  }
  return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
}

function camelCase(name: string): string {
  return name.replace(/[_-](\w)/g, (_, c: string) => c.toUpperCase());
}
