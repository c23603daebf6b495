/**
 * `attach()` and `attachSync()` (dlt's `dlt.attach()`, REFERENCE §1.3): a pipeline object for an
 * existing working folder, or — when the folder is gone — one restored from the state and schemas its
 * destination holds.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Logger, TsdltError } from "@tsdlt/core";
import type { DestinationReference } from "./destinations.js";
import { defaultPipelinesDir } from "./paths.js";
import { Pipeline, type PipelineOptions } from "./pipeline.js";

/** The pipeline options of `options`: its given values, `pipelinesDir` resolved, never dev mode. */
function pipelineOptions(options: AttachOptions, pipelinesDir: string): PipelineOptions {
  const { pipelineName, pipelinesDir: _dir, ...rest } = options;
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  // attaching never wipes the working folder, whatever config says about dev mode
  return { ...given, pipelineName, pipelinesDir, devMode: false };
}

/** Options of {@link attach} and {@link attachSync}. */
export interface AttachOptions {
  readonly pipelineName: string;
  readonly pipelinesDir?: string;
  /** The destination; when no working folder exists, the state and schemas are restored from it. */
  readonly destination?: DestinationReference;
  readonly credentials?: unknown;
  /** Dataset to restore from (and load into). @default `<pipelineName>_dataset` */
  readonly datasetName?: string;
  readonly logger?: Logger;
}

/**
 * Attaches to an existing pipeline working folder (its `state.json` must exist); never wipes it and
 * never reads the destination. The destination and dataset come from the stored state unless given.
 * Use {@link attach} to restore a pipeline whose working folder is gone.
 */
export function attachSync(options: AttachOptions): Pipeline {
  const pipelinesDir = resolve(options.pipelinesDir ?? defaultPipelinesDir());
  const stateFile = join(pipelinesDir, options.pipelineName, "state.json");
  if (!existsSync(stateFile)) {
    const known = existsSync(pipelinesDir) ? readdirSync(pipelinesDir) : [];
    throw new TsdltError(
      `Cannot attach to pipeline \`${options.pipelineName}\`: no state found in ${join(pipelinesDir, options.pipelineName)}.` +
        (known.length ? ` Pipelines in ${pipelinesDir}: ${known.join(", ")}.` : "") +
        " To restore it from its destination, use `await dlt.attach({ pipelineName, destination, datasetName })`.",
      { code: "PIPELINE_CONFIG_MISSING", pipelineName: options.pipelineName },
    );
  }
  return new Pipeline(pipelineOptions(options, pipelinesDir));
}

/**
 * Attaches to pipeline `pipelineName` (dlt's `dlt.attach()`, REFERENCE §1.3): to its working folder
 * when one exists (as {@link attachSync}); otherwise — on a new machine, or after the folder was
 * deleted — it creates the folder and restores the state and schemas from the destination's dataset
 * (`syncDestination()`), so the pipeline continues where it stopped.
 *
 * @throws TsdltError `CANNOT_RESTORE_PIPELINE` when there is no working folder and either no
 * destination is known (pass `destination`, or configure it) or the dataset holds no state of this
 * pipeline. The folder created for the attempt is removed again.
 *
 * @example
 * ```ts
 * const p = await dlt.attach({ pipelineName: "github", destination: "duckdb", datasetName: "github_data" });
 * await p.run(githubSource()); // the incremental cursors continue
 * ```
 */
export async function attach(options: AttachOptions): Promise<Pipeline> {
  const pipelinesDir = resolve(options.pipelinesDir ?? defaultPipelinesDir());
  if (existsSync(join(pipelinesDir, options.pipelineName, "state.json"))) return attachSync(options);
  const { pipelineName } = options;
  const p = new Pipeline(pipelineOptions(options, pipelinesDir));
  const cannotRestore = (reason: string, cause?: unknown): TsdltError => {
    rmSync(p.workingDir, { recursive: true, force: true });
    return new TsdltError(
      `Pipeline \`${pipelineName}\` in ${pipelinesDir} could not be restored: ${reason}`,
      {
        code: "CANNOT_RESTORE_PIPELINE",
        pipelineName,
        cause,
      },
    );
  };
  try {
    await p.syncDestination();
  } catch (error) {
    if (error instanceof TsdltError && error.code === "PIPELINE_CONFIG_MISSING") {
      throw cannotRestore(
        `no local state in ${p.workingDir}, and no destination to restore it from. Pass \`destination\` (and \`datasetName\`; the default is \`${pipelineName}_dataset\`), e.g. \`await dlt.attach({ pipelineName: "${pipelineName}", destination: "duckdb", datasetName: "<your dataset>" })\`, or configure the destination.`,
        error,
      );
    }
    rmSync(p.workingDir, { recursive: true, force: true });
    throw error;
  }
  if (p.state._state_version === 0) {
    throw cannotRestore(
      `checked the local state in ${p.workingDir} and dataset \`${p.datasetName}\` in the destination; neither holds a state of this pipeline. If the pipeline loaded into another dataset, pass that \`datasetName\`.`,
    );
  }
  return p;
}
