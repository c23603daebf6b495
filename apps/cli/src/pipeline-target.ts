/**
 * Attaching to a pipeline working folder from the CLI, pointed at the destination its last load used.
 * The state stores the destination type but not its credentials: for DuckDB the database file is taken
 * from the last trace's load info (`duckdb:///<path>`), so the CLI finds the file wherever the script ran.
 */
import { existsSync } from "node:fs";
import {
  attachSync,
  createDataset,
  type Dataset,
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

/** Attaches to the pipeline without touching the destination (fails when there is no such pipeline). */
export function attachLocal(target: PipelineTarget): Pipeline {
  return attachSync({ pipelineName: target.name, pipelinesDir: target.pipelinesDir });
}

/**
 * Attaches to the pipeline with its destination resolved: explicit options first, then the DuckDB
 * file of the last load. Fails clearly when that file is gone, instead of creating an empty database.
 */
export function attachWithDestination(
  target: PipelineTarget,
  local: Pipeline = attachLocal(target),
): Pipeline {
  const options: {
    destination?: DestinationReference;
    credentials?: unknown;
    datasetName?: string;
  } = {};
  if (target.datasetName !== undefined) options.datasetName = target.datasetName;
  const isDuckDB =
    (target.destination ?? local.state.destination_type ?? "").replace(/^dlt\.destinations\./, "") ===
    "duckdb";
  if (target.destination !== undefined && !isDuckDB) {
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
