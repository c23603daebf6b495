import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isTsdltError, resolvePipelineSettings } from "../../src/index.js";
import { type ConfigSandbox, createSandbox } from "./sandbox.js";

describe("resolvePipelineSettings", () => {
  let sb: ConfigSandbox;

  beforeEach(() => {
    sb = createSandbox();
  });

  afterEach(() => {
    sb.restore();
  });

  it("should return dlt's defaults when nothing is configured", () => {
    const settings = resolvePipelineSettings({ pipelineName: "p", destinationName: "duckdb" });
    expect(settings.runtime.logLevel).toBe("WARNING");
    expect(settings.load).toEqual({
      workers: 20,
      raiseOnFailedJobs: true,
      raiseOnMaxRetries: 5,
      deleteCompletedJobs: false,
      truncateStagingDataset: false,
    });
    // tsdlt: no `workers` means the cores, at most 4 (dlt: one process)
    expect(settings.normalize).toEqual({});
    expect(settings.extract).toEqual({ workers: 5, maxParallelItems: 20, nextItemMode: "round_robin" });
    expect(settings.normalizeDataWriter).toEqual({ bufferMaxItems: 5000, disableCompression: false });
    expect(settings.destination?.replaceStrategy).toBe("truncate-and-insert");
    expect(settings.schema.naming).toBeUndefined();
    expect(settings.pipeline).toMatchObject({ devMode: false, restoreFromDestination: true });
  });

  it("should read each section from env and TOML with provenance", () => {
    sb.setEnv({ RUNTIME__LOG_LEVEL: "info", P__LOAD__RAISE_ON_FAILED_JOBS: "false" });
    sb.writeProject(
      "config.toml",
      [
        "[schema]",
        'naming = "duck_case"',
        "[normalize.data_writer]",
        "buffer_max_items = 100",
        "file_max_items = 1000",
        "[data_writer]",
        "disable_compression = true",
        "[destination.duckdb]",
        'replace_strategy = "insert-from-staging"',
        "[pipelines.p]",
        'dataset_name = "from_config"',
        "dev_mode = true",
        "[extract]",
        "workers = 2",
      ].join("\n"),
    );
    const settings = resolvePipelineSettings({ pipelineName: "p", destinationName: "duckdb" });
    expect(settings.runtime.logLevel).toBe("INFO");
    expect(settings.load.raiseOnFailedJobs).toBe(false);
    expect(settings.schema.naming).toBe("duck_case");
    expect(settings.normalizeDataWriter).toEqual({
      bufferMaxItems: 100,
      fileMaxItems: 1000,
      disableCompression: true,
    });
    expect(settings.extractDataWriter).toEqual({ bufferMaxItems: 5000, disableCompression: true });
    expect(settings.destination?.replaceStrategy).toBe("insert-from-staging");
    expect(settings.pipeline.datasetName).toBe("from_config");
    expect(settings.pipeline.devMode).toBe(true);
    expect(settings.extract.workers).toBe(2);
    const byField = Object.fromEntries(settings.fields.map((f) => [f.field, f]));
    expect(byField["runtime.logLevel"]).toMatchObject({
      provider: "Environment Variables",
      providerKey: "RUNTIME__LOG_LEVEL",
    });
    expect(byField["load.raiseOnFailedJobs"]?.providerKey).toBe("P__LOAD__RAISE_ON_FAILED_JOBS");
    expect(byField["pipeline.datasetName"]?.providerKey).toBe("pipelines.p.dataset_name");
    expect(byField["normalizeDataWriter.disableCompression"]?.providerKey).toBe(
      "data_writer.disable_compression",
    );
  });

  it("should read per-source extract and writer settings", () => {
    sb.writeProject(
      "config.toml",
      "[sources.github.extract]\nworkers = 9\n[sources.github.data_writer]\nfile_max_items = 10\n[sources.github.schema]\nnaming = 'direct'\n",
    );
    const settings = resolvePipelineSettings({ pipelineName: "p", sourceSection: "github" });
    expect(settings.extract.workers).toBe(9);
    expect(settings.extractDataWriter.fileMaxItems).toBe(10);
    expect(settings.schema.naming).toBe("direct");
    expect(settings.destination).toBeUndefined();
  });

  it("should read the json normalizer of `[schema]` from TOML and from env", () => {
    sb.writeProject(
      "config.toml",
      '[schema]\njson_normalizer = { module = "relational_no_coercion", config = { max_nesting = 2 } }\n',
    );
    expect(resolvePipelineSettings({ pipelineName: "p" }).schema.jsonNormalizer).toEqual({
      module: "relational_no_coercion",
      config: { max_nesting: 2 },
    });
    sb.writeProject("config.toml", "");
    sb.setEnv({ SCHEMA__JSON_NORMALIZER: '{"module": "dlt.common.normalizers.json.relational"}' });
    expect(resolvePipelineSettings({ pipelineName: "p" }).schema.jsonNormalizer).toEqual({
      module: "dlt.common.normalizers.json.relational",
    });
  });

  it("should let explicit pipeline options win and validate dataset_name_layout", () => {
    sb.writeProject("config.toml", '[pipelines.p]\ndataset_name = "from_config"\n');
    const settings = resolvePipelineSettings({
      pipelineName: "p",
      explicit: { pipeline: { datasetName: "explicit" } },
    });
    expect(settings.pipeline.datasetName).toBe("explicit");
    sb.writeProject("config.toml", '[pipelines]\ndataset_name_layout = "no_placeholder"\n');
    let caught: unknown;
    try {
      resolvePipelineSettings({ pipelineName: "p" });
    } catch (error) {
      caught = error;
    }
    expect(isTsdltError(caught, "CONFIG_VALUE_INVALID")).toBe(true);
    expect((caught as Error).message).toContain(
      "`datasetNameLayout` (from config.toml `pipelines.dataset_name_layout`)",
    );
  });

  it("should refuse a pipeline salt in config.toml (it is a secret)", () => {
    sb.writeProject("config.toml", '[pipelines.p]\npipeline_salt = "salty"\n');
    expect(() => resolvePipelineSettings({ pipelineName: "p" })).toThrow(/Secret `pipelineSalt`/);
  });
});
