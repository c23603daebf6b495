/**
 * Schema, state and loads as files (dlt's filesystem layout): what is written where, and reading it
 * back through `WithStateSync` — only from loads whose `_dlt_loads` file exists.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compressState, decompressState, newPipelineState, supportsStateSync } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { filesystem } from "../src/index.js";
import { context, loadWith, tutorialSchema, usersRows, writePackage } from "./helpers.js";

let root: string;
let bucket: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-fs-state-"));
  bucket = join(root, "bucket");
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const dataset = (): string => join(bucket, "tutorial_data");
const list = (folder: string): string[] =>
  existsSync(join(dataset(), folder)) ? readdirSync(join(dataset(), folder)).sort() : [];

/** A `_dlt_pipeline_state` row as normalize writes it. */
function stateRow(loadId: string, cursor: number): Record<string, unknown> {
  const state = newPipelineState("tutorial");
  state.sources = {
    github: { resources: { issues: { incremental: { updated_at: { last_value: cursor } } } } },
  };
  return {
    version: cursor,
    engine_version: 4,
    pipeline_name: "tutorial",
    state: compressState(state),
    created_at: "2024-05-01T00:00:00.000000Z",
    version_hash: Buffer.from(`hash-${cursor}`).toString("base64"),
    _dlt_load_id: loadId,
    _dlt_id: `s-${loadId}`,
  };
}

describe("system files", () => {
  it("should initialize the dataset with dlt's init file", async () => {
    const destination = filesystem({ bucketUrl: bucket });
    await using client = await destination.createClient(tutorialSchema(), context(root));
    expect(supportsStateSync(client)).toBe(true);
    expect(await client.isStorageInitialized()).toBe(false);
    await client.initializeStorage();
    expect(await client.isStorageInitialized()).toBe(true);
    expect(JSON.parse(readFileSync(join(dataset(), "init"), "utf8"))).toEqual({
      initial_version: 2,
      current_version: 2,
    });
  });

  it("should write _dlt_version, _dlt_pipeline_state and _dlt_loads files in dlt's layout", async () => {
    const schema = tutorialSchema();
    const loadId = "1719000000.123456";
    const pkg = writePackage(join(root, "pk"), loadId, {
      users: usersRows(loadId),
      _dlt_pipeline_state: [stateRow(loadId, 7)],
    });
    await loadWith(filesystem({ bucketUrl: bucket }), schema, context(root), pkg);

    const hashHex = Buffer.from(schema.versionHash, "base64").toString("hex");
    const [versionFile] = list("_dlt_version");
    expect(versionFile).toMatch(new RegExp(`^tutorial__\\d+(\\.\\d+)?__${hashHex}\\.jsonl$`));
    const version = JSON.parse(readFileSync(join(dataset(), "_dlt_version", versionFile as string), "utf8"));
    expect(Object.keys(version)).toEqual([
      "version_hash",
      "schema_name",
      "version",
      "engine_version",
      "inserted_at",
      "schema",
    ]);
    expect(version).toMatchObject({
      version_hash: schema.versionHash,
      schema_name: "tutorial",
      version: schema.version,
    });
    expect(JSON.parse(version.schema).tables.users.columns.name.data_type).toBe("text");

    const stateHex = Buffer.from("hash-7").toString("hex");
    expect(list("_dlt_pipeline_state")).toEqual([`tutorial__${loadId}__${stateHex}.jsonl`]);
    const state = JSON.parse(
      readFileSync(join(dataset(), "_dlt_pipeline_state", `tutorial__${loadId}__${stateHex}.jsonl`), "utf8"),
    );
    // exactly the keys Python dlt's StateInfo takes (no _dlt_id)
    expect(Object.keys(state)).toEqual([
      "version",
      "engine_version",
      "pipeline_name",
      "state",
      "created_at",
      "version_hash",
      "_dlt_load_id",
    ]);

    expect(list("_dlt_loads")).toEqual([`tutorial__${loadId}.jsonl`]);
    const load = JSON.parse(readFileSync(join(dataset(), "_dlt_loads", `tutorial__${loadId}.jsonl`), "utf8"));
    expect(load).toMatchObject({
      load_id: loadId,
      schema_name: "tutorial",
      status: 0,
      schema_version_hash: schema.versionHash,
    });
    expect(Object.keys(load)).toEqual([
      "load_id",
      "schema_name",
      "status",
      "inserted_at",
      "schema_version_hash",
    ]);
    // the state table gets no data folder of its own beyond the state files
    expect(list("users")).toHaveLength(1);
  });
});

describe("WithStateSync", () => {
  it("should give back the newest state of a completed load only", async () => {
    const destination = filesystem({ bucketUrl: bucket });
    const schema = tutorialSchema();
    const first = "1719000000.1";
    await loadWith(
      destination,
      schema,
      context(root),
      writePackage(join(root, "pk"), first, { _dlt_pipeline_state: [stateRow(first, 1)] }),
    );
    const second = "1719000000.2";
    await loadWith(
      destination,
      schema,
      context(root),
      writePackage(join(root, "pk"), second, { _dlt_pipeline_state: [stateRow(second, 2)] }),
      { complete: false },
    );
    await using client = await destination.createClient(schema, context(root));
    const stored = await client.getStoredState("tutorial");
    expect(stored).toMatchObject({
      version: 1,
      engineVersion: 4,
      pipelineName: "tutorial",
      loadId: first,
      versionHash: Buffer.from("hash-1").toString("base64"),
      createdAt: new Date("2024-05-01T00:00:00Z"),
    });
    expect(decompressState(stored?.state as string).sources).toEqual({
      github: { resources: { issues: { incremental: { updated_at: { last_value: 1 } } } } },
    });
    await client.completeLoad(second);
    expect((await client.getStoredState("tutorial"))?.loadId).toBe(second);
    expect(await client.getStoredState("other_pipeline")).toBeUndefined();
  });

  it("should give back the newest stored schema, and store each version once", async () => {
    const destination = filesystem({ bucketUrl: bucket });
    const schema = tutorialSchema();
    await using client = await destination.createClient(schema, context(root));
    await client.initializeStorage();
    expect(await client.getStoredSchema()).toBeUndefined();
    const first = await client.updateStoredSchema();
    expect(first.tables).toMatchObject({ users: ["id", "name", "_dlt_load_id", "_dlt_id"] });
    expect(await client.updateStoredSchema()).toEqual({ tables: {}, statements: [] });
    expect(list("_dlt_version")).toHaveLength(1);

    const evolved = tutorialSchema();
    evolved.updateTable({
      name: "users",
      columns: { email: { name: "email", data_type: "text", nullable: true } },
    });
    evolved.bumpVersion();
    await using next = await destination.createClient(evolved, context(root));
    expect((await next.updateStoredSchema()).tables).toEqual({ users: ["email"] });
    expect(list("_dlt_version")).toHaveLength(2);

    const restored = await client.getStoredSchema("tutorial");
    expect(restored?.versionHash).toBe(evolved.versionHash);
    expect(restored?.getTable("users")?.columns.email?.data_type).toBe("text");
    expect((await client.getStoredSchemaByHash(schema.versionHash))?.version).toBe(schema.version);
    expect(await client.getStoredSchema("unknown")).toBeUndefined();
  });

  it("should keep only the newest maxStateFiles state files of a pipeline", async () => {
    const destination = filesystem({ bucketUrl: bucket, maxStateFiles: 2 });
    const schema = tutorialSchema();
    for (const [i, loadId] of ["1719000000.1", "1719000000.2", "1719000000.3"].entries()) {
      await loadWith(
        destination,
        schema,
        context(root),
        writePackage(join(root, "pk"), loadId, { _dlt_pipeline_state: [stateRow(loadId, i)] }),
      );
    }
    expect(list("_dlt_pipeline_state").map((f) => f.split("__")[1])).toEqual([
      "1719000000.2",
      "1719000000.3",
    ]);
  });
});
