import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  bumpStateVersion,
  type DestinationContext,
  DestinationError,
  decompressState,
  type LoadJobFile,
  newPipelineState,
  parseJobFileName,
  pipelineStateRow,
  pipelineStateTable,
  Schema,
  supportsSql,
  supportsStagingDataset,
  supportsStateSync,
  supportsTableChainFollowupJobs,
  type TableChain,
  type TableSchema,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DuckDBClient, defaultDuckDBMemoryLimit, duckdb } from "../src/index.js";

const LOAD_ID = "1714557600.123456";

function usersTable(): TableSchema {
  return {
    name: "users",
    write_disposition: "append",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: false, primary_key: true },
      name: { name: "name", data_type: "text" },
      score: { name: "score", data_type: "double" },
      active: { name: "active", data_type: "bool" },
      created_at: { name: "created_at", data_type: "timestamp" },
      seen_at: { name: "seen_at", data_type: "timestamp" },
      payload: { name: "payload", data_type: "binary" },
      meta: { name: "meta", data_type: "json" },
      amount: { name: "amount", data_type: "decimal" },
      birthday: { name: "birthday", data_type: "date" },
      wake: { name: "wake", data_type: "time" },
      local_ts: { name: "local_ts", data_type: "timestamp", timezone: false },
      pending: { name: "pending" },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true },
    },
  };
}

function shopSchema(): Schema {
  const schema = new Schema("shop");
  schema.updateTable(usersTable());
  schema.bumpVersion();
  return schema;
}

function stateTable(): TableSchema {
  const table = pipelineStateTable();
  return {
    ...table,
    columns: { ...table.columns, _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false } },
  };
}

let dir: string;
let context: DestinationContext;
const clients: DuckDBClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tsdlt-duckdb-"));
  context = {
    pipelineName: "shop_pipeline",
    datasetName: "shop_data",
    workingDir: join(dir, "wd"),
    localDir: dir,
  };
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

async function openClient(schema: Schema = shopSchema()): Promise<DuckDBClient> {
  const client = await duckdb().createClient(schema, context);
  clients.push(client);
  return client;
}

async function ready(schema: Schema = shopSchema()): Promise<DuckDBClient> {
  const client = await openClient(schema);
  await client.initializeStorage();
  await client.updateStoredSchema();
  return client;
}

async function jobFile(
  fileName: string,
  lines: readonly unknown[] | string,
  compress = false,
): Promise<LoadJobFile> {
  const path = join(dir, fileName);
  const text =
    typeof lines === "string"
      ? lines
      : lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n");
  await writeFile(path, compress ? await promisify(gzip)(text) : `${text}\n`);
  return { path, fileName, parsed: parseJobFileName(fileName) };
}

async function load(
  client: DuckDBClient,
  table: TableSchema,
  file: LoadJobFile,
  loadId = LOAD_ID,
): Promise<void> {
  const job = await client.createLoadJob(table, file, loadId);
  await job.run();
}

async function columnsOf(client: DuckDBClient, table: string): Promise<Record<string, string>> {
  const rows = await client.query(
    "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
    ["shop_data", table],
  );
  return Object.fromEntries(
    rows.map((r) => [String(r.column_name), `${r.data_type}${r.is_nullable === "NO" ? " NOT NULL" : ""}`]),
  );
}

describe("DuckDBClient storage and schema", () => {
  it("should implement the optional abilities", async () => {
    const client = await openClient();
    expect(supportsStateSync(client)).toBe(true);
    expect(supportsSql(client)).toBe(true);
    expect(supportsStagingDataset(client)).toBe(true);
    expect(supportsTableChainFollowupJobs(client)).toBe(true);
    expect(client.stagingDatasetName).toBe("shop_data_staging");
    expect(client.qualifiedTableName("users")).toBe('"shop_data"."users"');
    expect(client.databasePath).toBe(join(dir, "shop_pipeline.duckdb"));
  });

  it("should create the dataset and the system tables", async () => {
    const client = await openClient();
    expect(await client.isStorageInitialized()).toBe(false);
    await client.initializeStorage();
    expect(await client.isStorageInitialized()).toBe(true);
    await client.initializeStorage();
    expect(await columnsOf(client, "_dlt_version")).toEqual({
      version: "BIGINT NOT NULL",
      engine_version: "BIGINT NOT NULL",
      inserted_at: "TIMESTAMP WITH TIME ZONE NOT NULL",
      schema_name: "VARCHAR NOT NULL",
      version_hash: "VARCHAR NOT NULL",
      schema: "VARCHAR NOT NULL",
    });
    expect(await columnsOf(client, "_dlt_loads")).toEqual({
      load_id: "VARCHAR NOT NULL",
      schema_name: "VARCHAR",
      status: "BIGINT NOT NULL",
      inserted_at: "TIMESTAMP WITH TIME ZONE NOT NULL",
      schema_version_hash: "VARCHAR",
    });
  });

  it("should create tables with mapped types and record the version once", async () => {
    const schema = shopSchema();
    const client = await openClient(schema);
    await client.initializeStorage();
    const update = await client.updateStoredSchema();
    expect(Object.keys(update.tables)).toEqual(["users"]);
    expect(update.tables.users).not.toContain("pending");
    expect(update.statements).toHaveLength(1);
    expect(await columnsOf(client, "users")).toEqual({
      id: "BIGINT NOT NULL",
      name: "VARCHAR",
      score: "DOUBLE",
      active: "BOOLEAN",
      created_at: "TIMESTAMP WITH TIME ZONE",
      seen_at: "TIMESTAMP WITH TIME ZONE",
      payload: "BLOB",
      meta: "JSON",
      amount: "DECIMAL(38,9)",
      birthday: "DATE",
      wake: "TIME",
      local_ts: "TIMESTAMP",
      _dlt_load_id: "VARCHAR NOT NULL",
      _dlt_id: "VARCHAR NOT NULL",
    });

    expect(await client.updateStoredSchema()).toEqual({ tables: {}, statements: [] });
    const versions = await client.query(
      'SELECT version, version_hash, schema_name, engine_version FROM "shop_data"."_dlt_version"',
    );
    expect(versions).toEqual([
      {
        version: BigInt(schema.version),
        version_hash: schema.versionHash,
        schema_name: "shop",
        engine_version: 11n,
      },
    ]);
  });

  it("should add new columns with ALTER after a version bump", async () => {
    const schema = shopSchema();
    const client = await ready(schema);
    const firstHash = schema.versionHash;
    schema.updateTable({
      name: "users",
      columns: {
        email: { name: "email", data_type: "text" },
        rank: { name: "rank", data_type: "bigint", nullable: false },
      },
    });
    schema.bumpVersion();
    const update = await client.updateStoredSchema();
    expect(update).toEqual({
      tables: { users: ["email", "rank"] },
      statements: [
        'ALTER TABLE "shop_data"."users"\nADD COLUMN "email" VARCHAR',
        'ALTER TABLE "shop_data"."users"\nADD COLUMN "rank" BIGINT',
      ],
    });
    const columns = await columnsOf(client, "users");
    expect(columns.email).toBe("VARCHAR");
    expect(columns.rank).toBe("BIGINT");
    const rows = await client.query(
      'SELECT version_hash FROM "shop_data"."_dlt_version" ORDER BY inserted_at',
    );
    expect(rows.map((r) => r.version_hash)).toEqual([firstHash, schema.versionHash]);
    expect((await client.getStoredSchemaByHash(firstHash))?.versionHash).toBe(firstHash);
  });

  it("should migrate even when storage was not initialized first", async () => {
    const client = await openClient();
    const update = await client.updateStoredSchema({ onlyTables: ["users"] });
    expect(update.statements[0]).toBe('CREATE SCHEMA IF NOT EXISTS "shop_data"');
    expect(Object.keys(update.tables)).toEqual(["_dlt_version", "_dlt_loads", "users"]);
  });

  it("should empty truncateTables that exist", async () => {
    const client = await ready();
    await load(
      client,
      usersTable(),
      await jobFile("users.aaaaaaaaaa.0.jsonl", [{ id: 1, _dlt_load_id: LOAD_ID, _dlt_id: "a" }]),
    );
    await client.initializeStorage({ truncateTables: ["users", "not_there"] });
    expect(await client.query('SELECT count(*) AS n FROM "shop_data"."users"')).toEqual([{ n: 0n }]);
  });

  it("should return the stored schema by name", async () => {
    const schema = shopSchema();
    const client = await ready(schema);
    const stored = await client.getStoredSchema();
    expect(stored?.versionHash).toBe(schema.versionHash);
    expect(stored?.toDict()).toEqual(schema.toDict());
    expect(await client.getStoredSchema("nope")).toBeUndefined();
  });

  it("should return no stored schema or state from an empty database", async () => {
    const client = await openClient();
    expect(await client.getStoredSchema()).toBeUndefined();
    expect(await client.getStoredState("shop_pipeline")).toBeUndefined();
  });
});

describe("DuckDBClient csv load jobs and batch jobs", () => {
  // normalize's csv contract: header, NULL = unquoted empty, "" = empty string, json quoted, binary \x hex
  const header =
    "_dlt_id,id,name,score,active,created_at,seen_at,payload,meta,amount,birthday,wake,local_ts,_dlt_load_id";
  const full = [
    "row1",
    "9007199254740993",
    '"Alice ""A"", O\'Hara\\n\n"',
    "1.25",
    "true",
    "2024-05-01T12:00:00.123456+02:00",
    "2024-05-01T12:00:00",
    '"\\x68656c6c6f"',
    '"{""tags"":[""a"",""b""],""n"":1}"',
    "12.345",
    "1990-01-31",
    "07:30:00.5",
    "2024-05-01T12:00:00+02:00",
    LOAD_ID,
  ].join(",");
  const sparse = ["row2", "2", '""', "", "", "", "", "", '"""a string"""', "", "", "", "", LOAD_ID].join(",");

  it("should bulk-load every data type from a csv file, keeping NULL and the empty string apart", async () => {
    const client = await ready();
    await load(
      client,
      usersTable(),
      await jobFile("users.csv0000001.0.csv", `${header}\n${full}\n${sparse}`),
    );
    const rows = await client.query(
      'SELECT id::VARCHAR AS id_text, name, score, active, created_at::VARCHAR AS created_text, seen_at::VARCHAR AS seen_text, payload, meta, amount, birthday, wake, local_ts::VARCHAR AS local_text, _dlt_id FROM "shop_data"."users" ORDER BY _dlt_id',
    );
    expect(rows).toEqual([
      {
        id_text: "9007199254740993",
        name: 'Alice "A", O\'Hara\\n\n',
        score: 1.25,
        active: true,
        created_text: "2024-05-01 10:00:00.123456+00",
        seen_text: "2024-05-01 12:00:00+00",
        payload: new Uint8Array(Buffer.from("hello")),
        meta: '{"tags":["a","b"],"n":1}',
        amount: "12.345000000",
        birthday: "1990-01-31",
        wake: "07:30:00.5",
        local_text: "2024-05-01 10:00:00",
        _dlt_id: "row1",
      },
      {
        id_text: "2",
        name: "",
        score: null,
        active: null,
        created_text: null,
        seen_text: null,
        payload: null,
        meta: '"a string"',
        amount: null,
        birthday: null,
        wake: null,
        local_text: null,
        _dlt_id: "row2",
      },
    ]);
  });

  it("should load a batch of files with different headers, skipping empty and header-only files", async () => {
    const client = await ready();
    const files = [
      await jobFile("users.batch00001.0.csv", "_dlt_id,id,_dlt_load_id\na,1,L\nb,2,L"),
      await jobFile("users.batch00002.0.csv", "id,name,_dlt_id,_dlt_load_id\n3,three,c,L"),
      await jobFile("users.batch00003.0.csv", "_dlt_id,id,_dlt_load_id\nd,4,L"),
      await jobFile("users.batch00004.0.csv", "id,name,_dlt_id,_dlt_load_id"),
      await jobFile("users.batch00005.0.csv", ""),
    ];
    const job = await client.createBatchLoadJob(usersTable(), files, LOAD_ID, { staging: false });
    await job?.run();
    expect(
      await client.query('SELECT id::INT AS id, name, _dlt_id FROM "shop_data"."users" ORDER BY id'),
    ).toEqual([
      { id: 1, name: null, _dlt_id: "a" },
      { id: 2, name: null, _dlt_id: "b" },
      { id: 3, name: "three", _dlt_id: "c" },
      { id: 4, name: null, _dlt_id: "d" },
    ]);
    // several jsonl files (one gzip-compressed) in one job too; other formats are declined
    const jsonl = [
      await jobFile("users.batchjson1.0.jsonl", [{ id: 5, _dlt_load_id: "L", _dlt_id: "e" }]),
      await jobFile("users.batchjson2.0.jsonl", [{ id: 6, _dlt_load_id: "L", _dlt_id: "f" }], true),
    ];
    await (await client.createBatchLoadJob(usersTable(), jsonl, LOAD_ID, { staging: false }))?.run();
    expect(await client.query('SELECT count(*)::INT AS n FROM "shop_data"."users"')).toEqual([{ n: 6 }]);
    const parquet = await jobFile("users.batchparq1.0.parquet", "PAR1");
    expect(await client.createBatchLoadJob(usersTable(), [parquet], LOAD_ID, { staging: false })).toBe(
      undefined,
    );
  });

  it("should fail a csv job whose header names a column the table lacks, naming file and column", async () => {
    const client = await ready();
    const file = await jobFile("users.badheader0.0.csv", "id,nickname,_dlt_id,_dlt_load_id\n1,x,a,L");
    await expect(load(client, usersTable(), file)).rejects.toMatchObject({
      name: "DestinationError",
      retryable: false,
      message: expect.stringContaining(
        "`users.badheader0.0.csv` cannot load: its header names column `nickname`, which table `users` does not have",
      ),
    });
    expect(await client.query('SELECT count(*)::INT AS n FROM "shop_data"."users"')).toEqual([{ n: 0 }]);
  });
});

describe("DuckDBClient jsonl load jobs", () => {
  const fullRow = {
    id: "9007199254740993",
    name: 'Alice "A" O\'Hara\\n\n',
    score: 1.25,
    active: true,
    created_at: "2024-05-01T12:00:00.123456+02:00",
    seen_at: "2024-05-01T12:00:00",
    payload: "aGVsbG8=",
    meta: { tags: ["a", "b"], n: 1 },
    amount: "12.345",
    birthday: "1990-01-31",
    wake: "07:30:00.5",
    local_ts: "2024-05-01T12:00:00+02:00",
    _dlt_load_id: LOAD_ID,
    _dlt_id: "row1",
  };

  function fullLine(): string {
    // bigint beyond 2^53 as raw JSON digits, as normalize writes it
    return JSON.stringify(fullRow).replace('"9007199254740993"', "9007199254740993");
  }

  it("should bulk-load every data type exactly and leave missing keys NULL", async () => {
    const client = await ready();
    const file = await jobFile("users.abc12def34.0.jsonl", [
      fullLine(),
      { id: 2, _dlt_load_id: LOAD_ID, _dlt_id: "row2", unknown_key: 1 },
    ]);
    const job = await client.createLoadJob(usersTable(), file, LOAD_ID);
    expect(job.jobId).toBe("users.abc12def34.jsonl");
    await job.run();
    await client.completeLoad(LOAD_ID);

    const rows = await client.query(
      'SELECT id, id::VARCHAR AS id_text, name, score, active, created_at, created_at::VARCHAR AS created_text, seen_at::VARCHAR AS seen_text, payload, meta, amount, birthday, wake, local_ts::VARCHAR AS local_text, _dlt_id FROM "shop_data"."users" ORDER BY _dlt_id',
    );
    expect(rows).toEqual([
      {
        id: 9007199254740993n,
        id_text: "9007199254740993",
        name: 'Alice "A" O\'Hara\\n\n',
        score: 1.25,
        active: true,
        created_at: new Date("2024-05-01T10:00:00.123Z"),
        created_text: "2024-05-01 10:00:00.123456+00",
        seen_text: "2024-05-01 12:00:00+00",
        payload: new Uint8Array(Buffer.from("hello")),
        meta: '{"tags":["a","b"],"n":1}',
        amount: "12.345000000",
        birthday: "1990-01-31",
        wake: "07:30:00.5",
        local_text: "2024-05-01 10:00:00",
        _dlt_id: "row1",
      },
      {
        id: 2n,
        id_text: "2",
        name: null,
        score: null,
        active: null,
        created_at: null,
        created_text: null,
        seen_text: null,
        payload: null,
        meta: null,
        amount: null,
        birthday: null,
        wake: null,
        local_text: null,
        _dlt_id: "row2",
      },
    ]);
    const loads = await client.query(
      'SELECT load_id, schema_name, status, inserted_at, schema_version_hash FROM "shop_data"."_dlt_loads"',
    );
    expect(loads).toEqual([
      {
        load_id: LOAD_ID,
        schema_name: "shop",
        status: 0n,
        inserted_at: expect.any(Date),
        schema_version_hash: client.schema.versionHash,
      },
    ]);
  });

  it("should load gzip-compressed job files", async () => {
    const client = await ready();
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      id: i,
      name: `n${i}`,
      _dlt_load_id: LOAD_ID,
      _dlt_id: `r${i}`,
    }));
    await load(client, usersTable(), await jobFile("users.0123456789.0.jsonl", rows, true));
    expect(await client.query('SELECT count(*) AS n, sum(id) AS s FROM "shop_data"."users"')).toEqual([
      { n: 3000n, s: 4498500n },
    ]);
  });

  it("should run jobs in parallel on their own connections", async () => {
    const client = await ready();
    const jobs = await Promise.all(
      Array.from({ length: 8 }, async (_, n) => {
        const rows = Array.from({ length: 100 }, (_, i) => ({
          id: n * 100 + i,
          _dlt_load_id: LOAD_ID,
          _dlt_id: `${n}-${i}`,
        }));
        return client.createLoadJob(
          usersTable(),
          await jobFile(`users.${String(n).repeat(10)}.0.jsonl`, rows),
          LOAD_ID,
        );
      }),
    );
    await Promise.all(jobs.map((job) => job.run()));
    expect(await client.query('SELECT count(DISTINCT id) AS n FROM "shop_data"."users"')).toEqual([
      { n: 800n },
    ]);
  });

  it("should load a file that holds a subset of the columns", async () => {
    const client = await ready();
    const table = usersTable();
    await load(
      client,
      table,
      await jobFile("users.1111111111.0.jsonl", [{ id: 7, _dlt_load_id: LOAD_ID, _dlt_id: "x" }]),
    );
    expect(await client.query('SELECT id, name FROM "shop_data"."users"')).toEqual([{ id: 7n, name: null }]);
  });

  it("should fail a job with a bad value terminally, naming the file", async () => {
    const client = await ready();
    const file = await jobFile("users.badbadbad0.0.jsonl", [
      { id: "not a number", _dlt_load_id: LOAD_ID, _dlt_id: "x" },
    ]);
    const job = await client.createLoadJob(usersTable(), file, LOAD_ID);
    const error = await job.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DestinationError);
    const e = error as DestinationError;
    expect(e.retryable).toBe(false);
    expect(e.code).toBe("DESTINATION_TERMINAL");
    expect(e.jobId).toBe("users.badbadbad0.jsonl");
    expect(e.loadId).toBe(LOAD_ID);
    expect(e.message).toMatch(
      /^\[tsdlt\] \[duckdb\] Job `users\.badbadbad0\.0\.jsonl` in load `1714557600\.123456` failed terminally: .+\. Retrying will not help: fix the file or the schema of table `users`\.$/,
    );
    expect(await client.query('SELECT count(*) AS n FROM "shop_data"."users"')).toEqual([{ n: 0n }]);
  });

  it("should fail a job with a missing NOT NULL value terminally", async () => {
    const client = await ready();
    const file = await jobFile("users.nonull0000.0.jsonl", [{ id: 1, _dlt_id: "x" }]);
    await expect(load(client, usersTable(), file)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining("NOT NULL constraint"),
    });
  });

  it("should fail a missing file terminally", async () => {
    const client = await ready();
    const fileName = "users.missing000.0.jsonl";
    const file: LoadJobFile = { path: join(dir, fileName), fileName, parsed: parseJobFileName(fileName) };
    await expect(load(client, usersTable(), file)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining(fileName),
    });
  });

  it("should refuse unsupported formats with a terminal error naming file and format", async () => {
    const client = await ready();
    const file = await jobFile("users.abcdefabcd.0.parquet", "PAR1");
    await expect(client.createLoadJob(usersTable(), file, LOAD_ID)).rejects.toMatchObject({
      name: "DestinationError",
      retryable: false,
      message: expect.stringMatching(
        /Job `users\.abcdefabcd\.0\.parquet` in load .* failed terminally: DuckDB loads `jsonl` and `csv` files, not `parquet`/,
      ),
    });
  });

  it("should not start a job whose signal is already aborted", async () => {
    const client = await ready();
    const job = await client.createLoadJob(
      usersTable(),
      await jobFile("users.abortabort.0.jsonl", [{ id: 1, _dlt_load_id: LOAD_ID, _dlt_id: "a" }]),
      LOAD_ID,
    );
    await expect(job.run(AbortSignal.abort())).rejects.toMatchObject({ retryable: true });
  });
});

describe("DuckDBClient staging dataset and follow-up jobs", () => {
  const row = (id: number, name: string) => ({ id, name, _dlt_load_id: LOAD_ID, _dlt_id: `r${id}` });
  const replaceUsers = (): TableSchema => ({ ...usersTable(), write_disposition: "replace" });

  async function staged(client: DuckDBClient, rows: readonly unknown[]): Promise<void> {
    await client.initializeStagingDataset({ tables: ["users"], truncateTables: ["users"] });
    const file = await jobFile(`users.st${rows.length}aged000.0.jsonl`, rows);
    await (await client.createStagingLoadJob(replaceUsers(), file, LOAD_ID)).run();
  }

  async function followup(client: DuckDBClient, chain: TableChain): Promise<LoadJobFile> {
    const [job] = await client.createTableChainFollowupJobs(chain, LOAD_ID);
    expect(job).toMatchObject({ tableName: "users", fileFormat: "sql" });
    return jobFile("users.f011000000.0.sql", job?.content ?? "");
  }

  const replaceChain: TableChain = {
    tables: [replaceUsers()],
    disposition: { kind: "replace", strategy: "insert-from-staging" },
    packageCreatedAt: new Date(0),
  };

  it("should create, migrate and empty staging tables without touching the dataset", async () => {
    const client = await ready();
    await load(client, usersTable(), await jobFile("users.keep000000.0.jsonl", [row(1, "kept")]));
    await staged(client, [row(2, "staged")]);
    expect(await client.query("SELECT id FROM shop_data_staging.users")).toEqual([{ id: 2n }]);
    expect(await client.query("SELECT id FROM shop_data.users")).toEqual([{ id: 1n }]);
    // a second package empties staging first; no `_dlt_version` in staging
    await staged(client, [row(3, "next")]);
    expect(await client.query("SELECT id FROM shop_data_staging.users")).toEqual([{ id: 3n }]);
    const stagingTables = await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop_data_staging' ORDER BY 1",
    );
    // like dlt, the staging dataset also carries `_dlt_version`
    expect(stagingTables).toEqual([{ table_name: "_dlt_version" }, { table_name: "users" }]);
  });

  it("should run a follow-up job's statements in one transaction", async () => {
    const client = await ready();
    await load(client, usersTable(), await jobFile("users.keep000000.0.jsonl", [row(1, "old")]));
    await staged(client, [row(2, "new")]);
    const file = await followup(client, replaceChain);
    await (await client.createLoadJob(replaceUsers(), file, LOAD_ID)).run();
    expect(await client.query("SELECT id, name FROM shop_data.users")).toEqual([{ id: 2n, name: "new" }]);
  });

  it("should roll the whole follow-up back when a statement fails", async () => {
    const client = await ready();
    await load(client, usersTable(), await jobFile("users.keep000000.0.jsonl", [row(1, "old")]));
    const file = await jobFile(
      "users.f0ba000000.0.sql",
      'DELETE FROM "shop_data"."users"\nINSERT INTO "shop_data"."users" ("id") VALUES (NULL)',
    );
    await expect((await client.createLoadJob(replaceUsers(), file, LOAD_ID)).run()).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/users\.f0ba000000\.0\.sql.*keep their previous rows/),
    });
    expect(await client.query("SELECT id, name FROM shop_data.users")).toEqual([{ id: 1n, name: "old" }]);
  });

  it("should load nothing from an empty job file", async () => {
    const client = await ready();
    const path = join(dir, "users.empty00000.0.jsonl");
    await writeFile(path, "");
    await load(client, usersTable(), {
      path,
      fileName: "users.empty00000.0.jsonl",
      parsed: parseJobFileName("users.empty00000.0.jsonl"),
    });
    expect(await client.query("SELECT count(*)::INT AS n FROM shop_data.users")).toEqual([{ n: 0 }]);
  });

  it("should refuse a follow-up that the chain's hints do not allow", async () => {
    const client = await ready();
    const chain: TableChain = { ...replaceChain, disposition: { kind: "merge", strategy: "scd2" } };
    await expect(client.createTableChainFollowupJobs(chain, LOAD_ID)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/scd2 table has no `x-valid-from` column/),
    });
  });

  it("should accept only strategies DuckDB supports as `replaceStrategy`", () => {
    expect(duckdb({ replaceStrategy: "insert-from-staging" }).replaceStrategy).toBe("insert-from-staging");
    expect(duckdb().replaceStrategy).toBeUndefined();
    expect(() => duckdb({ replaceStrategy: "clone" as never })).toThrow(
      /Option `replaceStrategy` is "clone"/,
    );
  });
});

describe("DuckDBClient state sync", () => {
  it("should round-trip pipeline state through _dlt_pipeline_state and _dlt_loads", async () => {
    const schema = shopSchema();
    schema.updateTable(stateTable());
    schema.bumpVersion();
    const client = await ready(schema);
    expect(await columnsOf(client, "_dlt_pipeline_state")).toMatchObject({
      state: "VARCHAR NOT NULL",
      created_at: "TIMESTAMP WITH TIME ZONE NOT NULL",
    });

    const state = newPipelineState("shop_pipeline");
    state.sources = { shop: { resources: { users: { incremental: { last_value: 42 } } } } };
    bumpStateVersion(state);
    const createdAt = new Date("2024-05-01T10:00:00.000Z");
    const stateRow = pipelineStateRow(state, createdAt);
    const row = {
      ...stateRow,
      created_at: createdAt.toISOString(),
      _dlt_load_id: LOAD_ID,
      _dlt_id: "s1",
    };
    await load(client, stateTable(), await jobFile("_dlt_pipeline_state.5555555555.0.jsonl", [row]));

    // not visible until the load completes
    expect(await client.getStoredState("shop_pipeline")).toBeUndefined();
    await client.completeLoad(LOAD_ID);

    const stored = await client.getStoredState("shop_pipeline");
    expect(stored).toEqual({
      version: state._state_version,
      engineVersion: state._state_engine_version,
      pipelineName: "shop_pipeline",
      state: stateRow.state,
      createdAt,
      versionHash: state._version_hash,
      loadId: LOAD_ID,
    });
    const restored = decompressState(stored?.state ?? "");
    expect(restored.sources).toEqual(state.sources);
    expect(await client.getStoredState("other_pipeline")).toBeUndefined();
  });
});

describe("DuckDBClient SQL access", () => {
  it("should bind parameters and convert values", async () => {
    const client = await openClient();
    const at = new Date("2024-05-01T10:00:00.000Z");
    const [row] = await client.query(
      "SELECT $1::VARCHAR AS s, $2::INTEGER AS i, $3 AS big, $4::TIMESTAMPTZ AS ts, $5::BLOB AS b, $6::BOOLEAN AS f, NULL AS n, 1.5::DECIMAL(5,2) AS d",
      ["x", 3, 12n, at, new Uint8Array([1, 2]), false],
    );
    expect(row).toEqual({
      s: "x",
      i: 3,
      big: 12n,
      ts: at,
      b: new Uint8Array([1, 2]),
      f: false,
      n: null,
      d: "1.50",
    });
  });

  it("should keep bound parameters out of error messages", async () => {
    const client = await openClient();
    const error = await client
      .query("SELECT CAST($1 AS BIGINT)", ["secret-token-123"])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationError);
    expect((error as Error).message).not.toContain("secret-token-123");
    expect((error as Error).message).toMatch(
      /^\[tsdlt\] \[duckdb\] Query failed terminally: Conversion Error/,
    );
  });

  it("should classify syntax errors as terminal", async () => {
    const client = await openClient();
    await expect(client.query("SELEC 1")).rejects.toMatchObject({
      retryable: false,
      code: "DESTINATION_TERMINAL",
    });
  });
});

describe("DuckDBClient lifecycle", () => {
  it("should release the database file on dispose", async () => {
    const client = await ready();
    await load(
      client,
      usersTable(),
      await jobFile("users.aaaaaaaaaa.0.jsonl", [{ id: 1, _dlt_load_id: LOAD_ID, _dlt_id: "a" }]),
    );
    await client[Symbol.asyncDispose]();
    await client[Symbol.asyncDispose]();
    clients.splice(clients.indexOf(client), 1);

    const instance = await DuckDBInstance.create(client.databasePath);
    try {
      const connection = await instance.connect();
      try {
        const reader = await connection.runAndReadAll(
          'SELECT count(*)::INTEGER AS n FROM "shop_data"."users"',
        );
        expect(reader.getRowObjectsJS()).toEqual([{ n: 1 }]);
      } finally {
        connection.closeSync();
      }
    } finally {
      instance.closeSync();
    }
    expect(await childCanOpen(client.databasePath)).toBe("opened");
  });

  it("should reject use after dispose", async () => {
    const client = await openClient();
    await client[Symbol.asyncDispose]();
    await expect(client.query("SELECT 1")).rejects.toMatchObject({ code: "CLIENT_DISPOSED" });
    await expect(client.completeLoad("1")).rejects.toMatchObject({ code: "CLIENT_DISPOSED" });
  });

  it("should share one database between clients of the same file in a process", async () => {
    const a = await ready();
    const b = await openClient();
    expect(await b.isStorageInitialized()).toBe(true);
    await a[Symbol.asyncDispose]();
    expect(await b.query('SELECT count(*) AS n FROM "shop_data"."_dlt_version"')).toEqual([{ n: 1n }]);
  });

  it("should report a file locked by another process as retryable", async () => {
    const path = join(dir, "shop_pipeline.duckdb");
    const holder = await holdLock(path);
    try {
      const error = await duckdb()
        .createClient(shopSchema(), context)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationError);
      expect(error).toMatchObject({ retryable: true, code: "DESTINATION_TRANSIENT" });
      expect((error as Error).message).toMatch(
        /Opening database `.*shop_pipeline\.duckdb` failed transiently: IO Error: Could not set lock/,
      );
    } finally {
      await holder.release();
    }
  });

  it("should create the database folder on first use only", async () => {
    const destination = duckdb({ credentials: "nested/dir/db.duckdb" });
    expect(existsSync(join(dir, "nested"))).toBe(false);
    const client = await destination.createClient(shopSchema(), context);
    clients.push(client);
    expect(client.databasePath).toBe(join(dir, "nested/dir/db.duckdb"));
    expect(existsSync(client.databasePath)).toBe(true);
  });

  it("should open a private in-memory database", async () => {
    const client = await duckdb({ credentials: ":memory:" }).createClient(shopSchema(), context);
    clients.push(client);
    await client.initializeStorage();
    expect(await client.isStorageInitialized()).toBe(true);
  });
});

const CHILD_OPEN = `
import { DuckDBInstance } from "@duckdb/node-api";
try { const i = await DuckDBInstance.create(process.argv[1]); i.closeSync(); console.log("opened"); }
catch (e) { console.log(e.message); }
`;

const CHILD_HOLD = `
import { DuckDBInstance } from "@duckdb/node-api";
const i = await DuckDBInstance.create(process.argv[1]);
console.log("ready");
process.stdin.on("data", () => { i.closeSync(); process.exit(0); });
`;

async function childCanOpen(path: string): Promise<string> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD_OPEN, path], {
    cwd: import.meta.dirname,
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise((resolve) => child.on("close", resolve));
  return out.trim();
}

async function holdLock(path: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD_HOLD, path], {
    cwd: import.meta.dirname,
  });
  const closed = new Promise((resolve) => child.on("close", resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.on("error", reject);
    child.on("close", () => reject(new Error("lock holder exited early")));
  });
  return {
    async release() {
      child.stdin.write("x");
      child.stdin.end();
      await closed;
    },
  };
}

describe("load transactions (exactly-once packages)", () => {
  it("should make a package's rows and its _dlt_loads row visible together, or neither", async () => {
    const client = await ready();
    const users = usersTable();
    const file = await jobFile("users.aaaaaaaaaa.0.jsonl", [
      { id: 1, name: "Ann", _dlt_load_id: LOAD_ID, _dlt_id: "a1" },
    ]);

    // a failure after a job ran rolls everything back
    await expect(
      client.runInLoadTransaction(LOAD_ID, async () => {
        await load(client, users, file);
        await client.completeLoad(LOAD_ID);
        throw new Error("crash before commit");
      }),
    ).rejects.toThrow("crash before commit");
    expect(await client.query('SELECT count(*)::INT AS n FROM "shop_data"."users"')).toEqual([{ n: 0 }]);
    expect(await client.isLoadCompleted(LOAD_ID)).toBe(false);

    // a committed transaction shows both
    await client.runInLoadTransaction(LOAD_ID, async () => {
      await load(client, users, file);
      await client.completeLoad(LOAD_ID);
    });
    expect(await client.query('SELECT count(*)::INT AS n FROM "shop_data"."users"')).toEqual([{ n: 1 }]);
    expect(await client.isLoadCompleted(LOAD_ID)).toBe(true);
    expect(await client.isLoadCompleted("1714557601.000001")).toBe(false);
  });

  it("should refuse a nested load transaction", async () => {
    const client = await ready();
    await expect(
      client.runInLoadTransaction(LOAD_ID, () => client.runInLoadTransaction(LOAD_ID, async () => 1)),
    ).rejects.toThrow(/A load transaction is already running/);
  });
});

// issue 12: a bounded buffer pool and one thread per bulk insert keep a long load's memory flat;
// other statements and queries keep the database's settings
describe("DuckDB memory and threads while loading", () => {
  const settings = async (client: DuckDBClient): Promise<{ threads: number; memory: string }> => {
    // the buffer pool's limit (PRAGMA database_size): after a RESET, current_setting may show another
    const [row] = await client.query("SELECT current_setting('threads') AS threads");
    const [size] = await client.query("PRAGMA database_size");
    return { threads: Number(row?.threads), memory: String(size?.memory_limit) };
  };

  it("should run jsonl jobs under memoryLimit and restore the database's limit afterwards", async () => {
    // read_json needs a 32 MB buffer: under a 16 MB limit the bulk insert fails, which shows the limit
    // was in force while the job ran
    const client = await duckdb({ memoryLimit: "16MB" }).createClient(shopSchema(), context);
    clients.push(client);
    await client.initializeStorage();
    await client.updateStoredSchema();
    const before = await settings(client);
    expect(before.memory).not.toBe("15.2 MiB");
    const file = await jobFile("users.a1.0.jsonl", [{ id: 1, _dlt_load_id: "1", _dlt_id: "a" }]);
    await expect(load(client, usersTable(), file)).rejects.toThrow(/Out of Memory/);
    expect(await settings(client)).toEqual(before);
    // the same inside a load transaction, whose other statements run with the database's limit
    await expect(
      client.runInLoadTransaction(LOAD_ID, async () => {
        expect((await settings(client)).memory).toBe(before.memory);
        await load(client, usersTable(), file);
      }),
    ).rejects.toThrow(/Out of Memory/);
    expect(await settings(client)).toEqual(before);
  });

  it("should lift a default limit that a bulk insert ran out of memory under, and warn", async () => {
    const warnings: string[] = [];
    const client = await DuckDBClient.open({
      schema: shopSchema(),
      context: {
        ...context,
        logger: { debug: () => {}, info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} },
      },
      databasePath: join(dir, "lift.duckdb"),
      memoryLimit: "16MB",
      memoryLimitIsDefault: true,
    });
    clients.push(client);
    await client.initializeStorage();
    await client.updateStoredSchema();
    const file = await jobFile("users.a1.0.jsonl", [{ id: 1, _dlt_load_id: "1", _dlt_id: "a" }]);
    await expect(load(client, usersTable(), file)).rejects.toMatchObject({ retryable: true });
    expect(warnings).toEqual([
      expect.stringMatching(/ran out of memory under the default memory limit .*16MB/),
    ]);
    await load(client, usersTable(), file);
    const [row] = await client.query('SELECT count(*) AS n FROM "shop_data"."users"');
    expect(Number(row?.n)).toBe(1);
  });

  it("should keep the limit across a transaction's bulk jobs and lift it for its follow-up SQL", async () => {
    const client = await duckdb({ memoryLimit: "300MB" }).createClient(shopSchema(), context);
    clients.push(client);
    await client.initializeStorage();
    await client.updateStoredSchema();
    const before = await settings(client);
    const seen = await client.runInLoadTransaction(LOAD_ID, async () => {
      await load(
        client,
        usersTable(),
        await jobFile("users.a1.0.jsonl", [{ id: 1, _dlt_load_id: "1", _dlt_id: "a" }]),
      );
      const afterBulk = (await settings(client)).memory;
      const sql = await jobFile("users.f0a1000000.0.sql", 'DELETE FROM "shop_data"."users" WHERE "id" = 2');
      await (await client.createLoadJob(usersTable(), sql, LOAD_ID)).run();
      return { afterBulk, afterFollowup: (await settings(client)).memory };
    });
    expect(seen).toEqual({ afterBulk: "286.1 MiB", afterFollowup: before.memory });
    expect(await settings(client)).toEqual(before);
  });

  it("should load under no limit with memoryLimit: false, and bound a load by default", async () => {
    const client = await duckdb({ memoryLimit: false }).createClient(shopSchema(), context);
    clients.push(client);
    await client.initializeStorage();
    await client.updateStoredSchema();
    await load(
      client,
      usersTable(),
      await jobFile("users.a1.0.jsonl", [{ id: 1, _dlt_load_id: "1", _dlt_id: "a" }]),
    );
    const [row] = await client.query('SELECT count(*) AS n FROM "shop_data"."users"');
    expect(Number(row?.n)).toBe(1);
    expect(defaultDuckDBMemoryLimit(1)).toBe("96MB");
    expect(defaultDuckDBMemoryLimit(1, 20)).toBe("96MB");
    expect(defaultDuckDBMemoryLimit(1, 300)).toBe("364MB");
    expect(defaultDuckDBMemoryLimit(8)).toBe("512MB");
  });

  it("should not limit an in-memory database, whose data must stay in memory", async () => {
    const client = await duckdb({ credentials: ":memory:", memoryLimit: "16MB" }).createClient(
      shopSchema(),
      context,
    );
    clients.push(client);
    await client.initializeStorage();
    await client.updateStoredSchema();
    await load(
      client,
      usersTable(),
      await jobFile("users.a1.0.jsonl", [{ id: 1, _dlt_load_id: "1", _dlt_id: "a" }]),
    );
    const [row] = await client.query('SELECT count(*) AS n FROM "shop_data"."users"');
    expect(Number(row?.n)).toBe(1);
  });

  it("should restore the threads after jsonl jobs, also after a failure", async () => {
    const client = await duckdb({ threads: 3, loadThreads: 1 }).createClient(shopSchema(), context);
    clients.push(client);
    await client.initializeStorage();
    await client.updateStoredSchema();
    const table = usersTable();
    await load(
      client,
      table,
      await jobFile("users.a1.0.jsonl", [{ id: 1, _dlt_load_id: "1", _dlt_id: "a" }]),
    );
    expect((await settings(client)).threads).toBe(3);
    const bad = await jobFile("users.b1.0.jsonl", [{ id: "not a number", _dlt_load_id: "1", _dlt_id: "b" }]);
    await expect(load(client, table, bad)).rejects.toThrow(DestinationError);
    expect((await settings(client)).threads).toBe(3);
    const [row] = await client.query('SELECT count(*) AS n FROM "shop_data"."users"');
    expect(Number(row?.n)).toBe(1);
  });

  it("should insert in any order with preserveInsertionOrder: false, and restore the setting", async () => {
    const order = async (client: DuckDBClient): Promise<boolean> => {
      const [row] = await client.query("SELECT current_setting('preserve_insertion_order') AS v");
      return row?.v === true;
    };
    const client = await duckdb({ threads: 3, preserveInsertionOrder: false }).createClient(
      shopSchema(),
      context,
    );
    clients.push(client);
    await client.initializeStorage();
    await client.updateStoredSchema();
    expect(await order(client)).toBe(true);
    const rows = (from: number) =>
      Array.from({ length: 3000 }, (_, i) => ({ id: from + i, _dlt_load_id: "1", _dlt_id: `r${from + i}` }));
    const files = [await jobFile("users.a1.0.jsonl", rows(0)), await jobFile("users.b1.0.jsonl", rows(3000))];
    await (await client.createBatchLoadJob(usersTable(), files, LOAD_ID, { staging: false }))?.run();
    // the setting and the threads are the database's again; every row is there, once
    expect(await order(client)).toBe(true);
    expect((await settings(client)).threads).toBe(3);
    const [row] = await client.query(
      'SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi FROM "shop_data"."users"',
    );
    expect([row?.n, row?.ids, row?.lo, row?.hi].map(Number)).toEqual([6000, 6000, 0, 5999]);
  });

  it("should reject invalid memory and thread options", () => {
    expect(() => duckdb({ memoryLimit: "lots" })).toThrow(/memoryLimit/);
    expect(() => duckdb({ threads: 0 })).toThrow(/threads/);
    expect(() => duckdb({ loadThreads: 1.5 })).toThrow(/loadThreads/);
    expect(() => duckdb({ preserveInsertionOrder: "no" as never })).toThrow(/preserveInsertionOrder/);
  });
});
