/**
 * Test helpers: a schema and normalized job files shaped like the getting-started tutorial's data
 * (the quick start's `users` and GitHub issues with a nested `labels` table), written as normalize
 * writes them, and a driver that calls a client in the load stage's order.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  type DestinationContext,
  formatJobFileName,
  type LoadJobFile,
  LoadPackage,
  newFileId,
  parseJobFileName,
  Schema,
  type TableSchema,
  toTypedJson,
  type WriteDisposition,
} from "@tsdlt/core";
import type { FilesystemClient, FilesystemDestination } from "../src/index.js";

export const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** The tutorial schema: `users`, `issues` and its nested `issues__labels`, plus `_dlt_pipeline_state`. */
export function tutorialSchema(
  dispositions: { users?: WriteDisposition; issues?: WriteDisposition } = {},
): Schema {
  const schema = new Schema("tutorial");
  const dlt = {
    _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
    _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
  } as const;
  schema.updateTable({
    name: "users",
    write_disposition: dispositions.users ?? "append",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: true },
      name: { name: "name", data_type: "text", nullable: true },
      ...dlt,
    },
  });
  schema.updateTable({
    name: "issues",
    write_disposition: dispositions.issues ?? "append",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: true },
      number: { name: "number", data_type: "bigint", nullable: true },
      title: { name: "title", data_type: "text", nullable: true },
      locked: { name: "locked", data_type: "bool", nullable: true },
      score: { name: "score", data_type: "double", nullable: true },
      created_at: { name: "created_at", data_type: "timestamp", nullable: true },
      closed_on: { name: "closed_on", data_type: "date", nullable: true },
      reminder: { name: "reminder", data_type: "time", nullable: true },
      amount: { name: "amount", data_type: "decimal", nullable: true },
      reactions: { name: "reactions", data_type: "json", nullable: true },
      avatar: { name: "avatar", data_type: "binary", nullable: true },
      user__login: { name: "user__login", data_type: "text", nullable: true },
      ...dlt,
    },
  });
  schema.updateTable({
    name: "issues__labels",
    parent: "issues",
    columns: {
      name: { name: "name", data_type: "text", nullable: true },
      color: { name: "color", data_type: "text", nullable: true },
      _dlt_parent_id: { name: "_dlt_parent_id", data_type: "text", nullable: false, parent_key: true },
      _dlt_list_idx: { name: "_dlt_list_idx", data_type: "bigint", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
    },
  });
  schema.updateTable({
    name: "_dlt_pipeline_state",
    write_disposition: "append",
    columns: {
      version: { name: "version", data_type: "bigint", nullable: false },
      engine_version: { name: "engine_version", data_type: "bigint", nullable: false },
      pipeline_name: { name: "pipeline_name", data_type: "text", nullable: false },
      state: { name: "state", data_type: "text", nullable: false },
      created_at: { name: "created_at", data_type: "timestamp", nullable: false },
      version_hash: { name: "version_hash", data_type: "text", nullable: true },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false },
    },
  });
  schema.bumpVersion();
  return schema;
}

/** Rows as normalize writes them to jsonl: timestamps as UTC ISO text, decimals as text, binary as base64. */
export function usersRows(loadId: string): Record<string, unknown>[] {
  return [
    { id: 1, name: "Alice", _dlt_load_id: loadId, _dlt_id: `u1-${loadId}` },
    { id: 2, name: "Bob", _dlt_load_id: loadId, _dlt_id: `u2-${loadId}` },
  ];
}

export function issuesRows(loadId: string): Record<string, unknown>[] {
  return [
    {
      id: 2_147_483_648_001,
      number: 1,
      title: 'Filesystem destination, "quoted", with a comma',
      locked: false,
      score: 0.5,
      created_at: "2024-03-01T10:20:30.123456Z",
      closed_on: "2024-03-02",
      reminder: "08:30:00.250000",
      amount: "12.340000000",
      reactions: { total_count: 3, "+1": 2 },
      avatar: Buffer.from("hello").toString("base64"),
      user__login: "rudolfix",
      _dlt_load_id: loadId,
      _dlt_id: `i1-${loadId}`,
    },
    {
      id: 2,
      number: 2,
      title: "Pre-1970 and nulls",
      locked: true,
      score: -1.25,
      created_at: "1969-07-20T20:17:40.000001Z",
      _dlt_load_id: loadId,
      _dlt_id: `i2-${loadId}`,
    },
  ];
}

export function labelsRows(loadId: string): Record<string, unknown>[] {
  return [
    {
      name: "bug",
      color: "d73a4a",
      _dlt_parent_id: `i1-${loadId}`,
      _dlt_list_idx: 0,
      _dlt_id: `l1-${loadId}`,
    },
    {
      name: "help wanted",
      color: "008672",
      _dlt_parent_id: `i1-${loadId}`,
      _dlt_list_idx: 1,
      _dlt_id: `l2-${loadId}`,
    },
  ];
}

/** A fake normalized package folder with jsonl jobs. */
export interface FakePackage {
  readonly loadId: string;
  readonly jobs: LoadJobFile[];
}

/** Writes a package `<root>/<loadId>` whose `new_jobs` hold one jsonl file per table. */
export function writePackage(
  root: string,
  loadId: string,
  tables: Record<string, readonly Record<string, unknown>[]>,
  createdAt: Date = new Date(Number(loadId) * 1000),
): FakePackage {
  const pkg = new LoadPackage(loadId, join(root, loadId));
  pkg.ensureLayout();
  writeFileSync(join(pkg.path, "load_package_state.json"), toTypedJson({ created_at: createdAt }));
  const jobs: LoadJobFile[] = [];
  for (const [table, rows] of Object.entries(tables)) {
    const fileName = formatJobFileName({
      tableName: table,
      fileId: newFileId(),
      retryCount: 0,
      fileFormat: "jsonl",
      compressed: false,
    });
    const path = pkg.jobPath("new_jobs", fileName);
    mkdirSync(join(pkg.path, "new_jobs"), { recursive: true });
    writeFileSync(path, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    jobs.push({ path, fileName, parsed: parseJobFileName(fileName) });
  }
  return { loadId, jobs };
}

/** A destination context for tests. */
export function context(root: string, datasetName = "tutorial_data"): DestinationContext {
  return {
    pipelineName: "tutorial",
    datasetName,
    workingDir: join(root, "work"),
    localDir: root,
    logger: silent,
  };
}

/**
 * Loads a package with a client in the load stage's order: initialize (emptying replace tables),
 * migrate, run every job, complete. `complete: false` stops before `completeLoad`.
 */
export async function loadWith(
  destination: FilesystemDestination,
  schema: Schema,
  ctx: DestinationContext,
  pkg: FakePackage,
  options: { complete?: boolean } = {},
): Promise<FilesystemClient> {
  const client = await destination.createClient(schema, ctx);
  try {
    await client.initializeStorage();
    const replaceTables = pkg.jobs
      .map((j) => j.parsed.tableName)
      .flatMap((t) => {
        const root = schema.rootTable(t)?.name ?? t;
        return schema.writeDisposition(root) === "replace" ? schema.tableChain(root).map((x) => x.name) : [];
      });
    if (replaceTables.length > 0)
      await client.initializeStorage({ truncateTables: [...new Set(replaceTables)] });
    await client.updateStoredSchema();
    for (const job of pkg.jobs) {
      const table = schema.getTable(job.parsed.tableName) as TableSchema;
      const resolved = { ...table, write_disposition: schema.writeDisposition(table.name) };
      await (await client.createLoadJob(resolved, job, pkg.loadId)).run();
    }
    if (options.complete !== false) await client.completeLoad(pkg.loadId);
  } finally {
    await client[Symbol.asyncDispose]();
  }
  return client;
}

/** Runs SQL on an in-memory DuckDB; every value cast to text by the caller where exactness matters. */
export async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Column name → DuckDB type of a query's result. */
export async function duckTypes(sql: string): Promise<Record<string, string>> {
  const rows = await duck(`DESCRIBE ${sql}`);
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}
