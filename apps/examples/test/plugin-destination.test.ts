/**
 * The example third-party destination `tsdlt-destination-jsonfiles` (apps/examples/plugin-destination):
 * it passes the conformance suite of `@tsdlt/core/testing`, and a pipeline loads into it — nested
 * tables, and state restored from it on a fresh machine so an incremental cursor continues.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@tsdlt/core";
import { readJsonlFile, testDestination } from "@tsdlt/core/testing";
import * as dlt from "tsdlt";
import * as vitest from "vitest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JsonFilesClient, jsonfiles } from "../plugin-destination/src/index.js";

testDestination({
  test: vitest,
  create: () => jsonfiles(),
  // the files hold the job lines as written; read them back with exact big integers
  readTable: async (client, table) => {
    if (!(client instanceof JsonFilesClient)) throw new TypeError("not a jsonfiles client");
    const dir = client.tableDir(table);
    if (!existsSync(join(dir, "_table.json"))) throw new Error(`table \`${table}\` does not exist`);
    return readdirSync(dir)
      .filter((file) => file.endsWith(".jsonl"))
      .sort()
      .flatMap((file) => readJsonlFile(join(dir, file)));
  },
  // the example keeps to the required contract: no load transaction, no table dropping (`refresh`
  // warns and keeps its tables)
  skip: { loadTransaction: true, dropTables: true },
});

describe("jsonfiles() in a pipeline", () => {
  let root: string;
  const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-jsonfiles-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const out = (): string => join(root, "out");
  const rowsOf = (table: string): Record<string, unknown>[] => {
    const dir = join(out(), "shop", table);
    return readdirSync(dir)
      .filter((f) => f.endsWith(".jsonl"))
      .flatMap((f) => readJsonlFile(join(dir, f)));
  };
  const orders = (upTo: number): dlt.DltResource =>
    dlt.resource(
      async function* orders(cursor = dlt.sources.incremental("id", { initialValue: 0 })) {
        void cursor;
        for (let id = 1; id <= upTo; id++) yield { id, lines: [{ sku: `a${id}` }, { sku: `b${id}` }] };
      },
      { name: "orders" },
    );
  const pipeline = (machine: string): dlt.Pipeline =>
    dlt.pipeline({
      pipelineName: "shop_sync",
      pipelinesDir: join(root, machine),
      destination: jsonfiles({ path: out() }),
      datasetName: "shop",
      logger: silent,
    });

  it("should load tables and nested tables as JSON-lines files", async () => {
    const info = await pipeline("laptop").run(orders(3));

    expect(info.hasFailedJobs).toBe(false);
    expect(info.destinationName).toBe("jsonfiles");
    expect(rowsOf("orders").map((r) => r.id)).toEqual([1, 2, 3]);
    expect(
      rowsOf("orders__lines")
        .map((r) => r.sku)
        .sort(),
    ).toEqual(["a1", "a2", "a3", "b1", "b2", "b3"]);
    expect(rowsOf("_dlt_loads").map((r) => r.load_id)).toEqual(info.loadPackages.map((p) => p.loadId));
  });

  it("should give a fresh machine the pipeline state, so the incremental cursor continues", async () => {
    await pipeline("laptop").run(orders(3));
    // another working folder: nothing local, everything restored from the destination
    const fresh = pipeline("server");
    await fresh.run(orders(5));

    expect(
      rowsOf("orders")
        .map((r) => r.id)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5]); // without the restored cursor, 1–3 would be loaded twice
  });
});
