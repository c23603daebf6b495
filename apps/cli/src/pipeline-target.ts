/**
 * Attaching to a pipeline working folder from the CLI, pointed at the destination its last load used.
 * The state stores the destination type but not its credentials: for DuckDB the database file is taken
 * from the last trace's load info (`duckdb:///<path>`), so the CLI finds the file wherever the script ran;
 * other destinations take their credentials from config (`DESTINATION__POSTGRES__CREDENTIALS`,
 * `.dlt/secrets.toml` in the current folder) or `--credentials`. The destinations the CLI bundles
 * (Postgres) are imported from the CLI's own dependencies, so they work from any folder; others are
 * resolved by name from the current project.
 */
import { existsSync } from "node:fs";
import {
  attachSync,
  createDataset,
  type Dataset,
  type Destination,
  type DestinationReference,
  destinations,
  type Pipeline,
} from "tsdlt";
import { CliError } from "./io.js";

/** Prefix of the displayable location of DuckDB destinations (`duckdb:///` + absolute path). */
export const DUCKDB_LOCATION_PREFIX = "duckdb:///";

/** Options shared by the pipeline commands. */
export interface PipelineTarget {
  readonly name: string;
  readonly pipelinesDir: string;
  /** Overrides the destination stored in the state (name such as `duckdb`). */
  readonly destination?: string | undefined;
  readonly datasetName?: string | undefined;
  /** Destination credentials (a DuckDB file path, a connection string). */
  readonly credentials?: string | undefined;
}

/** The location the last successful load reported (`duckdb:///...`, a masked URL), if any. */
export function lastLoadLocation(pipeline: Pipeline): string | undefined {
  const info = pipeline.lastTrace?.lastLoadInfo as
    | { destination_displayable_credentials?: string }
    | undefined;
  return info?.destination_displayable_credentials;
}

/** The DuckDB file of the last load, when the pipeline loads into DuckDB and a load happened. */
export function duckdbFileOf(pipeline: Pipeline): string | undefined {
  const location = lastLoadLocation(pipeline);
  return location?.startsWith(DUCKDB_LOCATION_PREFIX)
    ? location.slice(DUCKDB_LOCATION_PREFIX.length)
    : undefined;
}

/** A destination factory as the destination packages export it. */
type DestinationFactory = (options?: { credentials?: unknown; destinationName?: string }) => Destination;

/** Destinations bundled with the CLI, imported when a command needs one. */
const BUNDLED_DESTINATIONS: Readonly<Record<string, () => Promise<DestinationFactory>>> = {
  postgres: async () => (await import("@tsdlt/destination-postgres")).postgres as DestinationFactory,
};

/** `dlt.destinations.postgres` / `postgres` → `postgres`. */
function shortName(reference: string): string {
  return reference.replace(/^dlt\.destinations\./, "");
}

/**
 * The destination called `reference` (a name such as `postgres` or a stored type such as
 * `dlt.destinations.postgres`): a bundled one as an object (with `credentials`, else credentials from
 * config under `destination.<destinationName>`), anything else as the name for tsdlt to resolve.
 */
export async function cliDestination(
  reference: string,
  options: { readonly credentials?: string | undefined; readonly destinationName?: string | undefined } = {},
): Promise<DestinationReference> {
  const load = BUNDLED_DESTINATIONS[shortName(reference)];
  if (!load) return reference;
  const factory = await load();
  return factory({
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.destinationName === undefined ? {} : { destinationName: options.destinationName }),
  });
}

/** Attaches to the pipeline without touching the destination (fails when there is no such pipeline). */
export function attachLocal(target: PipelineTarget): Pipeline {
  return attachSync({ pipelineName: target.name, pipelinesDir: target.pipelinesDir });
}

/**
 * Attaches to the pipeline with its destination resolved: explicit options first, then the DuckDB
 * file of the last load, or a bundled destination (Postgres) with credentials from config. Fails
 * clearly when the DuckDB file is gone, instead of creating an empty database.
 */
export async function attachWithDestination(
  target: PipelineTarget,
  local: Pipeline = attachLocal(target),
): Promise<Pipeline> {
  const options: {
    destination?: DestinationReference;
    credentials?: unknown;
    datasetName?: string;
  } = {};
  if (target.datasetName !== undefined) options.datasetName = target.datasetName;
  const type = shortName(target.destination ?? local.state.destination_type ?? "");
  const isDuckDB = type === "duckdb";
  if (!isDuckDB && BUNDLED_DESTINATIONS[type] !== undefined) {
    // a named destination (`postgres({ destinationName: "warehouse" })`) reads config under its name
    const stateName = target.destination === undefined ? local.state.destination_name : undefined;
    options.destination = await cliDestination(type, {
      credentials: target.credentials,
      destinationName: typeof stateName === "string" ? stateName : undefined,
    });
  } else if (target.destination !== undefined && !isDuckDB) {
    options.destination = target.destination;
    if (target.credentials !== undefined) options.credentials = target.credentials;
  } else if (isDuckDB) {
    const file = target.credentials ?? duckdbFileOf(local);
    if (file !== undefined) {
      if (!existsSync(file)) {
        throw new CliError(
          `Destination database ${file} of pipeline \`${target.name}\` not found. Pass --credentials <file> if it moved.`,
        );
      }
      options.destination = destinations.duckdb({ credentials: file });
    } else if (target.destination !== undefined) {
      options.destination = "duckdb";
    }
  } else if (target.credentials !== undefined) {
    options.credentials = target.credentials;
  }
  if (Object.keys(options).length === 0) return local;
  return attachSync({ pipelineName: target.name, pipelinesDir: target.pipelinesDir, ...options });
}

/**
 * The dataset as the destination names it (`MyData` → `my_data`, from the destination's SQL client),
 * or the configured name when the destination offers no SQL client.
 */
export async function destinationDatasetName(pipeline: Pipeline): Promise<string | undefined> {
  try {
    await using client = await pipeline.sqlClient();
    return client.datasetName ?? pipeline.datasetName;
  } catch {
    return pipeline.datasetName;
  }
}

/** True when the pipeline has a destination to read from. */
export function hasDestination(pipeline: Pipeline): boolean {
  return pipeline.state.destination_type !== undefined;
}

/** The dataset API over the pipeline's destination (what `pipeline.dataset()` returns). */
export function datasetOf(pipeline: Pipeline): Dataset {
  return createDataset({
    sqlClient: () => pipeline.sqlClient(),
    schema: pipeline.defaultSchema,
    datasetName: pipeline.datasetName ?? `${pipeline.pipelineName}_dataset`,
  });
}
