/**
 * The Postgres client against a real server: `TSDLT_POSTGRES_URL` (`.ci/run` starts a throw-away
 * cluster and sets it). Every test works in datasets of its own and drops them afterwards.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import {
  bumpStateVersion,
  type DestinationContext,
  DestinationError,
  decompressState,
  type LoadJobFile,
  newPipelineState,
  parseJobFileName,
  parsePostgresCredentials,
  pipelineStateRow,
  pipelineStateTable,
  Schema,
  supportsLoadTransaction,
  supportsSql,
  supportsStagingDataset,
  supportsStateSync,
  supportsTableChainFollowupJobs,
  type TableChain,
  type TableSchema,
} from "@tsdlt/core";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { classifyPostgresError, type PostgresClient, postgres } from "../src/index.js";
import { dropDataset, POSTGRES_URL, postgresTitle } from "./server.js";

const LOAD_ID = "1714557600.123456";

/** Row `t1` of `all_types` as text: every type, at its extremes, as both COPY paths must load it. */
const ALL_TYPES_FIRST_ROW = {
  big: "9007199254740993",
  small: -32768,
  txt: 'a, "quoted"\nline\\ ✓ 🚀',
  dbl: "-1.5e-07",
  flag: true,
  ts: "2024-05-01 10:00:00.123456+00",
  naive: "2024-05-01 10:00:00",
  day: "2024-02-29",
  clock: "23:59:59.999999",
  dec: "12345678901234567890123456789.123456789",
  wei: `115792089237316195423570985008687907853269984665640564039457584007913129639935.${"0".repeat(78)}`,
  bin: "0001feff",
  doc: '{"a": [1, 2.5, {"b": null}], "s": "x\\"y"}',
};

function usersTable(disposition: "append" | "merge" | "replace" = "append"): TableSchema {
  return {
    name: "users",
    write_disposition: disposition,
    columns: {
      id: { name: "id", data_type: "bigint", nullable: false, primary_key: true },
      name: { name: "name", data_type: "text" },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
    },
  };
}

function typesTable(): TableSchema {
  return {
    name: "all_types",
    write_disposition: "append",
    columns: {
      big: { name: "big", data_type: "bigint", nullable: false },
      small: { name: "small", data_type: "bigint", precision: 16 },
      txt: { name: "txt", data_type: "text" },
      dbl: { name: "dbl", data_type: "double" },
      flag: { name: "flag", data_type: "bool" },
      ts: { name: "ts", data_type: "timestamp" },
      naive: { name: "naive", data_type: "timestamp", timezone: false },
      day: { name: "day", data_type: "date" },
      clock: { name: "clock", data_type: "time" },
      dec: { name: "dec", data_type: "decimal" },
      wei: { name: "wei", data_type: "wei" },
      bin: { name: "bin", data_type: "binary" },
      doc: { name: "doc", data_type: "json" },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true },
    },
  };
}

function stateTable(): TableSchema {
  const table = pipelineStateTable();
  return {
    ...table,
    columns: { ...table.columns, _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false } },
  };
}

function shopSchema(...tables: TableSchema[]): Schema {
  const schema = new Schema("shop");
  for (const table of tables.length > 0 ? tables : [usersTable()]) schema.updateTable(table);
  schema.bumpVersion();
  return schema;
}

/** A TCP proxy to the test server that can swallow the server's answer to one `COMMIT` and cut the connection. */
interface CommitDroppingProxy {
  /** `TSDLT_POSTGRES_URL` with the proxy's host and port. */
  readonly url: string;
  dropNextCommitAnswer: boolean;
  droppedCommits: number;
  close(): Promise<void>;
}

async function commitDroppingProxy(): Promise<CommitDroppingProxy> {
  const target = parsePostgresCredentials(POSTGRES_URL ?? "");
  const sockets = new Set<Socket>();
  const state = { dropNextCommitAnswer: false, droppedCommits: 0 };
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.host, port: target.port });
    sockets.add(client).add(upstream);
    let commitSent = false;
    client.on("data", (chunk: Buffer) => {
      // a simple-query message ('Q') whose text is COMMIT
      if (
        state.dropNextCommitAnswer &&
        chunk[0] === 0x51 &&
        chunk.toString("latin1", 5).startsWith("COMMIT")
      ) {
        state.dropNextCommitAnswer = false;
        commitSent = true;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (commitSent) {
        // the server committed; the client never hears of it
        state.droppedCommits++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  const url = target
    .toUrl({ redact: false })
    .replace(`@${target.host}:${target.port}/`, `@127.0.0.1:${port}/`);
  return Object.assign(state, {
    url,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  });
}

let dir: string;
let dataset: string;
let context: DestinationContext;
let admin: pg.Client;
const clients: PostgresClient[] = [];

describe.skipIf(!POSTGRES_URL)(postgresTitle("PostgresClient against a server"), () => {
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: POSTGRES_URL, options: "-c TimeZone=UTC" });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tsdlt-postgres-"));
    dataset = `pgtest_${randomBytes(4).toString("hex")}`;
    context = { pipelineName: "shop_pipeline", datasetName: dataset, workingDir: dir, localDir: dir };
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) await client[Symbol.asyncDispose]();
    await dropDataset(admin, dataset);
    await rm(dir, { recursive: true, force: true });
  });

  async function openClient(
    schema: Schema = shopSchema(),
    credentials = POSTGRES_URL,
  ): Promise<PostgresClient> {
    const client = await postgres(credentials === undefined ? {} : { credentials }).createClient(
      schema,
      context,
    );
    clients.push(client);
    return client;
  }

  async function ready(schema: Schema = shopSchema()): Promise<PostgresClient> {
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
    await writeFile(path, compress ? await promisify(gzip)(text) : text === "" ? "" : `${text}\n`);
    return { path, fileName, parsed: parseJobFileName(fileName) };
  }

  async function load(client: PostgresClient, table: TableSchema, file: LoadJobFile): Promise<void> {
    await (await client.createLoadJob(table, file, LOAD_ID)).run();
  }

  /** Rows read on the test's own connection (what other sessions see). */
  async function rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await admin.query(sql)).rows;
  }

  /** `all_types` as text, by `_dlt_id` (the jsonl and the csv path load the same values). */
  const allTypesAsText = (): Promise<Record<string, unknown>[]> =>
    rows(
      `SELECT big::text, small, txt, dbl::text, flag, ts::text, naive::text, day::text, clock::text, dec::text, wei::text, encode(bin, 'hex') AS bin, doc::text FROM "${dataset}".all_types ORDER BY _dlt_id`,
    );

  const user = (id: number, name: string) => ({ id, name, _dlt_load_id: LOAD_ID, _dlt_id: `r${id}` });

  describe("storage and schema", () => {
    it("should implement every optional ability", async () => {
      const client = await openClient();
      expect(supportsStateSync(client)).toBe(true);
      expect(supportsSql(client)).toBe(true);
      expect(supportsStagingDataset(client)).toBe(true);
      expect(supportsTableChainFollowupJobs(client)).toBe(true);
      expect(supportsLoadTransaction(client)).toBe(true);
    });

    it("should create the dataset and the system tables, idempotently", async () => {
      const client = await openClient();
      expect(await client.isStorageInitialized()).toBe(false);
      await client.initializeStorage();
      await client.initializeStorage();
      expect(await client.isStorageInitialized()).toBe(true);
      const columns = await rows(
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = '${dataset}' ORDER BY table_name, ordinal_position`,
      );
      expect(columns.map((c) => `${c.table_name}.${c.column_name} ${c.data_type} ${c.is_nullable}`)).toEqual([
        "_dlt_loads.load_id character varying NO",
        "_dlt_loads.schema_name character varying YES",
        "_dlt_loads.status bigint NO",
        "_dlt_loads.inserted_at timestamp with time zone NO",
        "_dlt_loads.schema_version_hash character varying YES",
        "_dlt_version.version bigint NO",
        "_dlt_version.engine_version bigint NO",
        "_dlt_version.inserted_at timestamp with time zone NO",
        "_dlt_version.schema_name character varying NO",
        "_dlt_version.version_hash character varying NO",
        "_dlt_version.schema character varying NO",
      ]);
    });

    it("should create tables with Postgres types, add new columns in one ALTER, and record each version once", async () => {
      const schema = shopSchema(typesTable());
      const client = await ready(schema);
      const types = await rows(
        `SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = '${dataset}' AND table_name = 'all_types' ORDER BY ordinal_position`,
      );
      expect(Object.fromEntries(types.map((t) => [t.column_name, t.data_type]))).toEqual({
        big: "bigint",
        small: "smallint",
        txt: "character varying",
        dbl: "double precision",
        flag: "boolean",
        ts: "timestamp with time zone",
        naive: "timestamp without time zone",
        day: "date",
        clock: "time without time zone",
        dec: "numeric",
        wei: "numeric",
        bin: "bytea",
        doc: "jsonb",
        _dlt_load_id: "character varying",
        _dlt_id: "character varying",
      });
      expect(types.find((t) => t.column_name === "wei")).toMatchObject({
        numeric_precision: 156,
        numeric_scale: 78,
      });
      const unique = await rows(
        `SELECT count(*)::int AS n FROM information_schema.table_constraints WHERE table_schema = '${dataset}' AND table_name = 'all_types' AND constraint_type = 'UNIQUE'`,
      );
      expect(unique).toEqual([{ n: 1 }]);
      expect(await client.updateStoredSchema()).toEqual({ tables: {}, statements: [] });

      const evolved = Schema.fromDict(schema.toDict());
      const table = evolved.getTable("all_types") as TableSchema;
      evolved.updateTable({
        ...table,
        columns: {
          ...table.columns,
          extra_a: { name: "extra_a", data_type: "text" },
          extra_b: { name: "extra_b", data_type: "json" },
        },
      });
      evolved.bumpVersion();
      const next = await openClient(evolved);
      const update = await next.updateStoredSchema();
      expect(update.tables).toEqual({ all_types: ["extra_a", "extra_b"] });
      expect(update.statements).toEqual([
        `ALTER TABLE "${dataset}"."all_types"\nADD COLUMN "extra_a" varchar,\nADD COLUMN "extra_b" jsonb`,
      ]);
      expect(await rows(`SELECT version FROM "${dataset}"._dlt_version ORDER BY inserted_at`)).toEqual([
        { version: String(schema.version) },
        { version: String(evolved.version) },
      ]);
    });

    it("should roll back the whole migration when one statement fails", async () => {
      const client = await ready();
      const broken = shopSchema(usersTable(), {
        name: "bad",
        columns: { x: { name: "x", data_type: "text", nullable: false } },
      });
      // a table of the same name but another kind of object makes CREATE TABLE fail
      await admin.query(`CREATE VIEW "${dataset}"."bad" AS SELECT 1 AS y`);
      const other = await openClient(broken);
      await expect(other.updateStoredSchema()).rejects.toMatchObject({ retryable: false });
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}"._dlt_version`)).toEqual([{ n: 1 }]);
      expect(await client.updateStoredSchema()).toEqual({ tables: {}, statements: [] });
    });
  });

  describe("COPY of jsonl job files", () => {
    const b64 = (bytes: number[]) => Buffer.from(bytes).toString("base64");

    it("should load every data type exactly", async () => {
      const client = await ready(shopSchema(typesTable()));
      const lines = [
        // as normalize writes them: bigints as bare digits, timestamps in UTC, binary as base64, json raw
        `{"big":9007199254740993,"small":-32768,"txt":"a, \\"quoted\\"\\nline\\\\ ✓ 🚀","dbl":-1.5e-7,"flag":true,"ts":"2024-05-01T10:00:00.123456Z","naive":"2024-05-01T10:00:00","day":"2024-02-29","clock":"23:59:59.999999","dec":"12345678901234567890123456789.123456789","wei":"115792089237316195423570985008687907853269984665640564039457584007913129639935","bin":"${b64([0, 1, 254, 255])}","doc":{"a":[1,2.5,{"b":null}],"s":"x\\"y"},"_dlt_load_id":"${LOAD_ID}","_dlt_id":"t1"}`,
        `{"big":-9223372036854775808,"txt":"","dbl":"NaN","flag":false,"doc":"just a string","_dlt_load_id":"${LOAD_ID}","_dlt_id":"t2"}`,
        `{"big":9223372036854775807,"txt":null,"dbl":"-Infinity","doc":[],"unknown":{"ignored":true},"_dlt_load_id":"${LOAD_ID}","_dlt_id":"t3"}`,
      ];
      await load(client, typesTable(), await jobFile("all_types.types00000.0.jsonl", lines.join("\n")));
      const text = await allTypesAsText();
      expect(text).toEqual([
        ALL_TYPES_FIRST_ROW,
        {
          big: "-9223372036854775808",
          small: null,
          txt: "",
          dbl: "NaN",
          flag: false,
          ts: null,
          naive: null,
          day: null,
          clock: null,
          dec: null,
          wei: null,
          bin: null,
          doc: '"just a string"',
        },
        {
          big: "9223372036854775807",
          small: null,
          txt: null,
          dbl: "-Infinity",
          flag: null,
          ts: null,
          naive: null,
          day: null,
          clock: null,
          dec: null,
          wei: null,
          bin: null,
          doc: "[]",
        },
      ]);
      // and through the SQL client, as documented on `query`
      const [first] = await client.query(
        `SELECT big, bin, doc, ts, naive, day, dec FROM ${client.qualifiedTableName("all_types")} WHERE _dlt_id = $1`,
        ["t1"],
      );
      expect(first).toEqual({
        big: 9007199254740993n,
        bin: new Uint8Array([0, 1, 254, 255]),
        doc: '{"a": [1, 2.5, {"b": null}], "s": "x\\"y"}',
        ts: new Date("2024-05-01T10:00:00.123Z"),
        naive: new Date("2024-05-01T10:00:00.000Z"),
        day: "2024-02-29",
        dec: "12345678901234567890123456789.123456789",
      });
    });

    it("should load gzipped files, and nothing from empty ones", async () => {
      const client = await ready();
      await load(
        client,
        usersTable(),
        await jobFile("users.gzip000000.0.jsonl", [user(1, "a"), user(2, "b")], true),
      );
      await load(client, usersTable(), await jobFile("users.empty00000.0.jsonl", ""));
      expect(await rows(`SELECT id, name FROM "${dataset}".users ORDER BY id`)).toEqual([
        { id: "1", name: "a" },
        { id: "2", name: "b" },
      ]);
    });

    it("should stream a large file in one COPY", async () => {
      const client = await ready();
      const n = 50_000;
      const lines = Array.from({ length: n }, (_, i) =>
        JSON.stringify(user(i, `user ${i} ${"x".repeat(i % 50)}`)),
      );
      await load(client, usersTable(), await jobFile("users.large00000.0.jsonl", lines.join("\n")));
      expect(await rows(`SELECT count(*)::int AS n, sum(id)::text AS s FROM "${dataset}".users`)).toEqual([
        { n, s: String((n * (n - 1)) / 2) },
      ]);
    });

    it("should fail terminally, loading nothing, on a malformed line or a value Postgres rejects", async () => {
      const client = await ready();
      const malformed = await jobFile("users.malform000.0.jsonl", [user(1, "a"), '{"id": 2,']);
      await expect(load(client, usersTable(), malformed)).rejects.toMatchObject({
        retryable: false,
        code: "DESTINATION_TERMINAL",
        message: expect.stringMatching(
          /^\[tsdlt\] \[postgres\] Job `users\.malform000\.0\.jsonl` in load `[\d.]+` failed terminally: line 2 of the job file is not a JSON object/,
        ),
      });
      const rejected = await jobFile("users.reject0000.0.jsonl", [
        user(1, "a"),
        { ...user(2, "b"), id: "two" },
      ]);
      await expect(load(client, usersTable(), rejected)).rejects.toMatchObject({
        retryable: false,
        message: expect.stringMatching(/invalid input syntax for type bigint: "two" \(SQLSTATE 22P02\)/),
      });
      const duplicate = await jobFile("users.dupl000000.0.jsonl", [user(1, "a"), user(1, "a")]);
      await expect(load(client, usersTable(), duplicate)).rejects.toMatchObject({
        retryable: false,
        message: expect.stringMatching(/SQLSTATE 23505/),
      });
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 0 }]);
    });

    it("should refuse job formats other than csv and jsonl", async () => {
      const client = await ready();
      await expect(
        client.createLoadJob(usersTable(), await jobFile("users.parq000000.0.parquet", "x"), LOAD_ID),
      ).rejects.toThrow(/Postgres loads `csv` and `jsonl` job files, not `parquet`/);
    });

    it("should cancel the running statement of an aborted job (retryable)", async () => {
      const client = await ready();
      const sleeper = await jobFile("users.sleep00000.0.sql", "SELECT pg_sleep(30)");
      const job = await client.createLoadJob(usersTable(), sleeper, LOAD_ID);
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(new Error("stop")), 300);
      await expect(job.run(controller.signal)).rejects.toMatchObject({ retryable: true });
      expect(Date.now() - started).toBeLessThan(10_000);
      await expect(job.run(AbortSignal.abort())).rejects.toMatchObject({ retryable: true });
    });
  });

  describe("COPY of csv job files (issue 12)", () => {
    /**
     * A csv job file written by hand, as tsdlt's csv contract says: `lines` are its lines, header
     * first, each ended by `\n` (the last one too, unless `lastEol` is false).
     */
    async function csvFile(fileName: string, lines: readonly string[], lastEol = true): Promise<LoadJobFile> {
      const path = join(dir, fileName);
      const text = lines.map((line) => `${line}\n`).join("");
      await writeFile(path, lastEol ? text : text.slice(0, -1));
      return { path, fileName, parsed: parseJobFileName(fileName) };
    }

    /** A field as the contract writes a text value: quoted when empty or when it would be misread. */
    function textField(value: string | null): string {
      if (value === null) return "";
      return value === "" || /[,"\n\r]|^[\\ \t]|[ \t]$/.test(value)
        ? `"${value.replaceAll('"', '""')}"`
        : value;
    }

    const USERS_HEADER = "id,name,_dlt_load_id,_dlt_id";
    const userLine = (id: number | string, name: string | null, dltId = `r${id}`) =>
      `${id},${textField(name)},${LOAD_ID},${dltId}`;

    it("should load every data type exactly, NULL and the empty string apart", async () => {
      const client = await ready(shopSchema(typesTable()));
      const file = await csvFile("all_types.types00000.0.csv", [
        "big,small,txt,dbl,flag,ts,naive,day,clock,dec,wei,bin,doc,_dlt_load_id,_dlt_id",
        `9007199254740993,-32768,"a, ""quoted""\nline\\ ✓ 🚀",-1.5e-7,true,2024-05-01T10:00:00.123456Z,2024-05-01T10:00:00,2024-02-29,23:59:59.999999,12345678901234567890123456789.123456789,115792089237316195423570985008687907853269984665640564039457584007913129639935,"\\x0001feff","{""a"":[1,2.5,{""b"":null}],""s"":""x\\""y""}",${LOAD_ID},t1`,
        `-9223372036854775808,,"",NaN,false,,,,,,,,"""just a string""",${LOAD_ID},t2`,
        `9223372036854775807,,,-Infinity,,,,,,,,,"[]",${LOAD_ID},t3`,
        `1,,"\\.",1e+21,,2024-05-01T10:00:00+00:00,,,,0.5,0,"\\x","{}",${LOAD_ID},t4`,
        `2,,"\\N",0,,,,,,,,,"""""",${LOAD_ID},t5`,
        `3,,"  two leading spaces",,,,,,,,,,,${LOAD_ID},t6`,
        `4,,"a tab after\t",,,,,,,,,,,${LOAD_ID},t7`,
        `5,,"crlf\r\ninside",,,,,,,,,,,${LOAD_ID},t8`,
        `6,,inner\\back slash and NULL,,,,,,,,,,,${LOAD_ID},t9`,
      ]);
      await load(client, typesTable(), file);
      const text = await allTypesAsText();
      const empty = {
        small: null,
        dbl: null,
        flag: null,
        ts: null,
        naive: null,
        day: null,
        clock: null,
        dec: null,
        wei: null,
        bin: null,
        doc: null,
      };
      expect(text).toEqual([
        ALL_TYPES_FIRST_ROW,
        { ...empty, big: "-9223372036854775808", txt: "", dbl: "NaN", flag: false, doc: '"just a string"' },
        { ...empty, big: "9223372036854775807", txt: null, dbl: "-Infinity", doc: "[]" },
        {
          ...empty,
          big: "1",
          txt: "\\.",
          dbl: "1e+21",
          ts: "2024-05-01 10:00:00+00",
          dec: "0.500000000",
          wei: `0.${"0".repeat(78)}`,
          bin: "",
          doc: "{}",
        },
        { ...empty, big: "2", txt: "\\N", dbl: "0", doc: '""' },
        { ...empty, big: "3", txt: "  two leading spaces" },
        { ...empty, big: "4", txt: "a tab after\t" },
        { ...empty, big: "5", txt: "crlf\r\ninside" },
        { ...empty, big: "6", txt: "inner\\back slash and NULL" },
      ]);
      // the same values the jsonl path loads, read through the SQL client
      const [first] = await client.query(
        `SELECT big, bin, doc, ts, naive, day, dec FROM ${client.qualifiedTableName("all_types")} WHERE _dlt_id = $1`,
        ["t1"],
      );
      expect(first).toEqual({
        big: 9007199254740993n,
        bin: new Uint8Array([0, 1, 254, 255]),
        doc: '{"a": [1, 2.5, {"b": null}], "s": "x\\"y"}',
        ts: new Date("2024-05-01T10:00:00.123Z"),
        naive: new Date("2024-05-01T10:00:00.000Z"),
        day: "2024-02-29",
        dec: "12345678901234567890123456789.123456789",
      });
    });

    it("should load the columns its header names, in the header's order, quoted names included", async () => {
      const odd: TableSchema = {
        ...usersTable(),
        columns: { ...usersTable().columns, 'odd, "name"': { name: 'odd, "name"', data_type: "text" } },
      };
      const client = await ready(shopSchema(odd));
      await load(
        client,
        odd,
        await csvFile("users.order0000.0.csv", [
          `_dlt_id,"odd, ""name""",_dlt_load_id,id`,
          `r1,"x, y",${LOAD_ID},1`,
          `r2,,${LOAD_ID},2`,
        ]),
      );
      expect(
        await rows(
          `SELECT id, name, "odd, ""name""" AS odd, _dlt_load_id FROM "${dataset}".users ORDER BY id`,
        ),
      ).toEqual([
        { id: "1", name: null, odd: "x, y", _dlt_load_id: LOAD_ID },
        { id: "2", name: null, odd: null, _dlt_load_id: LOAD_ID },
      ]);
    });

    it("should load no rows from empty and header-only files, inside a load transaction and outside", async () => {
      const client = await ready();
      await load(client, usersTable(), await csvFile("users.empty00000.0.csv", [], false));
      await load(client, usersTable(), await csvFile("users.hdronly000.0.csv", [USERS_HEADER]));
      await load(client, usersTable(), await csvFile("users.hdrnoeol00.0.csv", [USERS_HEADER], false));
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 0 }]);
      await client.runInLoadTransaction(LOAD_ID, async () => {
        await load(client, usersTable(), await csvFile("users.empty00001.0.csv", [], false));
        await load(client, usersTable(), await csvFile("users.hdronly001.0.csv", [USERS_HEADER]));
        await load(
          client,
          usersTable(),
          await csvFile("users.rows000000.0.csv", [USERS_HEADER, userLine(1, "a"), userLine(2, "")]),
        );
        await client.completeLoad(LOAD_ID);
      });
      expect(await rows(`SELECT id, name FROM "${dataset}".users ORDER BY id`)).toEqual([
        { id: "1", name: "a" },
        { id: "2", name: "" },
      ]);
    });

    it("should refuse a header naming a column the table does not have (complete), loading nothing", async () => {
      const withPending: TableSchema = {
        ...usersTable(),
        columns: { ...usersTable().columns, pending: { name: "pending" } },
      };
      const client = await ready(shopSchema(usersTable()));
      const unknown = await csvFile("users.unknown000.0.csv", [
        "id,name,email,_dlt_load_id,_dlt_id",
        `1,a,a@example.com,${LOAD_ID},r1`,
      ]);
      const error = await load(client, usersTable(), unknown).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationError);
      expect(error).toMatchObject({
        code: "DESTINATION_TERMINAL",
        retryable: false,
        table: "users",
        path: unknown.path,
        message: `[tsdlt] [postgres] Job \`users.unknown000.0.csv\` in load \`${LOAD_ID}\` failed terminally: the csv job file cannot load: its header names column \`email\`, which table \`users\` does not have.`,
      });
      // a column without a data type is not in the database either
      await expect(
        load(
          client,
          withPending,
          await csvFile("users.pending000.0.csv", [`${USERS_HEADER},pending`, `${userLine(1, "a")},x`]),
        ),
      ).rejects.toThrow(/its header names column `pending`, which has no data type in table `users` yet/);
      await expect(
        load(client, usersTable(), await csvFile("users.twice00000.0.csv", [`${USERS_HEADER},id`])),
      ).rejects.toThrow(/its header names column `id` twice/);
      await expect(
        load(client, usersTable(), await csvFile("users.broken0000.0.csv", ['id,"name', userLine(1, "a")])),
      ).rejects.toMatchObject({
        retryable: false,
        message: expect.stringMatching(
          /Job `users\.broken0000\.0\.csv` in load `[\d.]+` failed terminally: the csv job file cannot load: the header line is not a CSV record: /,
        ),
      });
      // inside a load transaction the package fails and nothing of it commits
      await expect(
        client.runInLoadTransaction(LOAD_ID, async () => {
          await load(
            client,
            usersTable(),
            await csvFile("users.good00000.0.csv", [USERS_HEADER, userLine(1, "a")]),
          );
          await load(client, usersTable(), unknown);
          await client.completeLoad(LOAD_ID);
        }),
      ).rejects.toThrow(/its header names column `email`/);
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 0 }]);
      expect(await client.isLoadCompleted(LOAD_ID)).toBe(false);
    });

    it("should fail terminally naming the table, the job file and the value Postgres rejects, half-writing nothing", async () => {
      const client = await ready();
      const rejected = await csvFile("users.reject0000.0.csv", [
        USERS_HEADER,
        userLine(1, "a"),
        userLine("two", "b"),
      ]);
      const error = await load(client, usersTable(), rejected).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "DESTINATION_TERMINAL",
        retryable: false,
        table: "users",
        path: rejected.path,
        message: expect.stringMatching(
          /^\[tsdlt\] \[postgres\] Job `users\.reject0000\.0\.csv` in load `[\d.]+` failed terminally: invalid input syntax for type bigint: "two" \(SQLSTATE 22P02\); COPY users, line 3, column id: "two"\. Retrying will not help: fix the file or the schema of table `users`\.$/,
        ),
      });
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 0 }]);
      // in a load transaction: the rows of the package's other jobs are rolled back with it
      await expect(
        client.runInLoadTransaction(LOAD_ID, async () => {
          await load(
            client,
            usersTable(),
            await csvFile("users.good00000.0.csv", [USERS_HEADER, userLine(5, "e")]),
          );
          await load(client, usersTable(), rejected);
          await client.completeLoad(LOAD_ID);
        }),
      ).rejects.toThrow(/Job `users\.reject0000\.0\.csv` .* COPY users, line 3, column id: "two"/);
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 0 }]);
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}"._dlt_loads`)).toEqual([{ n: 0 }]);
      // a row that is not CSV of the header's width
      await expect(
        load(client, usersTable(), await csvFile("users.short0000.0.csv", [USERS_HEADER, "7,g"])),
      ).rejects.toThrow(/missing data for column "_dlt_load_id" \(SQLSTATE 22P04\); COPY users, line 2/);
    });

    it("should stream a large file into one COPY, gzipped too, and into the staging dataset", async () => {
      const client = await ready(shopSchema(usersTable("merge")));
      const n = 100_000;
      const lines = [
        USERS_HEADER,
        ...Array.from({ length: n }, (_, i) => userLine(i, `user ${i}, ${"x".repeat(i % 50)}`)),
      ];
      await load(client, usersTable("merge"), await csvFile("users.large00000.0.csv", lines));
      expect(await rows(`SELECT count(*)::int AS n, sum(id)::text AS s FROM "${dataset}".users`)).toEqual([
        { n, s: String((n * (n - 1)) / 2) },
      ]);
      await client.initializeStagingDataset({ tables: ["users"], truncateTables: ["users"] });
      const gzipped = await jobFile(
        "users.gzip000000.0.csv",
        [USERS_HEADER, userLine(1, "staged a"), userLine(2, null)].join("\n"),
        true,
      );
      await (await client.createStagingLoadJob(usersTable("merge"), gzipped, LOAD_ID)).run();
      expect(await rows(`SELECT id, name FROM "${dataset}_staging".users ORDER BY id`)).toEqual([
        { id: "1", name: "staged a" },
        { id: "2", name: null },
      ]);
    });
  });

  describe("staging dataset and follow-up jobs", () => {
    async function staged(
      client: PostgresClient,
      table: TableSchema,
      data: readonly unknown[],
    ): Promise<void> {
      await client.initializeStagingDataset({ tables: ["users"], truncateTables: ["users"] });
      const file = await jobFile(`users.st${data.length}aged000.0.jsonl`, data);
      await (await client.createStagingLoadJob(table, file, LOAD_ID)).run();
    }

    async function followup(client: PostgresClient, chain: TableChain): Promise<void> {
      const [job] = await client.createTableChainFollowupJobs(chain, LOAD_ID);
      expect(job).toMatchObject({ tableName: "users", fileFormat: "sql" });
      const root = chain.tables[0] as TableSchema;
      await (
        await client.createLoadJob(root, await jobFile("users.f011000000.0.sql", job?.content ?? ""), LOAD_ID)
      ).run();
    }

    it("should stage without UNIQUE constraints and merge (delete-insert), first loaded row winning", async () => {
      const client = await ready(shopSchema(usersTable("merge")));
      await load(
        client,
        usersTable("merge"),
        await jobFile("users.keep000000.0.jsonl", [user(1, "old"), user(2, "kept")]),
      );
      // the same key twice in one package: the first row loaded wins, as on DuckDB
      await staged(client, usersTable("merge"), [
        user(1, "new"),
        { ...user(1, "newer"), _dlt_id: "r1b" },
        user(3, "added"),
      ]);
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}_staging".users`)).toEqual([{ n: 3 }]);
      await followup(client, {
        tables: [usersTable("merge")],
        disposition: { kind: "merge", strategy: "delete-insert" },
        packageCreatedAt: new Date(0),
      });
      expect(await rows(`SELECT id, name FROM "${dataset}".users ORDER BY id`)).toEqual([
        { id: "1", name: "new" },
        { id: "2", name: "kept" },
        { id: "3", name: "added" },
      ]);
    });

    it("should upsert with MERGE", async () => {
      const client = await ready(shopSchema(usersTable("merge")));
      await load(
        client,
        usersTable("merge"),
        await jobFile("users.keep000000.0.jsonl", [user(1, "old"), user(2, "kept")]),
      );
      await staged(client, usersTable("merge"), [{ ...user(1, "updated"), _dlt_id: "r1" }, user(3, "added")]);
      await followup(client, {
        tables: [usersTable("merge")],
        disposition: { kind: "merge", strategy: "upsert" },
        packageCreatedAt: new Date(0),
      });
      expect(await rows(`SELECT id, name FROM "${dataset}".users ORDER BY id`)).toEqual([
        { id: "1", name: "updated" },
        { id: "2", name: "kept" },
        { id: "3", name: "added" },
      ]);
    });

    it("should replace staging-optimized by moving the staging table into the dataset", async () => {
      const client = await ready(shopSchema(usersTable("replace")));
      await load(client, usersTable("replace"), await jobFile("users.keep000000.0.jsonl", [user(1, "old")]));
      await staged(client, usersTable("replace"), [user(2, "new"), user(3, "newer")]);
      const stagingOid = await rows(`SELECT to_regclass('"${dataset}_staging".users')::oid::int AS oid`);
      await followup(client, {
        tables: [usersTable("replace")],
        disposition: { kind: "replace", strategy: "staging-optimized" },
        packageCreatedAt: new Date(0),
      });
      expect(await rows(`SELECT id, name FROM "${dataset}".users ORDER BY id`)).toEqual([
        { id: "2", name: "new" },
        { id: "3", name: "newer" },
      ]);
      // the staging table itself became the dataset's table; staging has a fresh empty one
      expect(await rows(`SELECT to_regclass('"${dataset}".users')::oid::int AS oid`)).toEqual(stagingOid);
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}_staging".users`)).toEqual([{ n: 0 }]);
      // the next load stages and swaps again
      await staged(client, usersTable("replace"), [user(4, "latest")]);
      await followup(client, {
        tables: [usersTable("replace")],
        disposition: { kind: "replace", strategy: "staging-optimized" },
        packageCreatedAt: new Date(0),
      });
      expect(await rows(`SELECT id FROM "${dataset}".users`)).toEqual([{ id: "4" }]);
    });

    it("should roll a failing follow-up job back entirely", async () => {
      const client = await ready(shopSchema(usersTable("replace")));
      await load(client, usersTable("replace"), await jobFile("users.keep000000.0.jsonl", [user(1, "old")]));
      const file = await jobFile(
        "users.f0ba000000.0.sql",
        `DELETE FROM "${dataset}"."users"\nINSERT INTO "${dataset}"."users" ("id") VALUES (NULL)`,
      );
      await expect(
        (await client.createLoadJob(usersTable("replace"), file, LOAD_ID)).run(),
      ).rejects.toMatchObject({
        retryable: false,
        message: expect.stringMatching(/users\.f0ba000000\.0\.sql.*SQLSTATE 23502.*keep their previous rows/),
      });
      expect(await rows(`SELECT id, name FROM "${dataset}".users`)).toEqual([{ id: "1", name: "old" }]);
    });
  });

  describe("load transaction", () => {
    it("should make a package's rows and its _dlt_loads row visible together, at COMMIT", async () => {
      const client = await ready();
      const file = await jobFile("users.txn000000.0.jsonl", [user(1, "a"), user(2, "b")]);
      let seenInside: unknown;
      await client.runInLoadTransaction(LOAD_ID, async () => {
        await load(client, usersTable(), file);
        await client.completeLoad(LOAD_ID);
        seenInside = await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`);
        // the client's own reads run on the transaction and see its rows
        expect(await client.isLoadCompleted(LOAD_ID)).toBe(true);
      });
      expect(seenInside).toEqual([{ n: 0 }]);
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 2 }]);
      expect(await rows(`SELECT load_id, status FROM "${dataset}"._dlt_loads`)).toEqual([
        { load_id: LOAD_ID, status: "0" },
      ]);
      expect(await client.isLoadCompleted(LOAD_ID)).toBe(true);
    });

    it("should roll everything back when the package fails, and refuse nested transactions", async () => {
      const client = await ready();
      const file = await jobFile("users.txn000000.0.jsonl", [user(1, "a")]);
      await expect(
        client.runInLoadTransaction(LOAD_ID, async () => {
          await load(client, usersTable(), file);
          await client.completeLoad(LOAD_ID);
          throw new Error("crash before commit");
        }),
      ).rejects.toThrow("crash before commit");
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 0 }]);
      expect(await client.isLoadCompleted(LOAD_ID)).toBe(false);
      await expect(
        client.runInLoadTransaction(LOAD_ID, () => client.runInLoadTransaction(LOAD_ID, async () => 1)),
      ).rejects.toThrow(/already running/);
      // the client still works afterwards
      expect(await client.runInLoadTransaction(LOAD_ID, async () => 7)).toBe(7);
    });

    it("should report a package whose COMMIT went through as done when the connection broke before the answer", async () => {
      const proxy = await commitDroppingProxy();
      try {
        const client = await openClient(shopSchema(), proxy.url);
        await client.initializeStorage();
        await client.updateStoredSchema();
        const file = await jobFile("users.txn000000.0.jsonl", [user(1, "a")]);
        proxy.dropNextCommitAnswer = true;
        const result = await client.runInLoadTransaction(LOAD_ID, async () => {
          await load(client, usersTable(), file);
          await client.completeLoad(LOAD_ID);
          return "done";
        });
        expect(proxy.droppedCommits).toBe(1);
        expect(result).toBe("done");
        expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 1 }]);
        expect(await client.isLoadCompleted(LOAD_ID)).toBe(true);
      } finally {
        await proxy.close();
      }
    });

    it("should fail retryably, with nothing committed, when the connection dies inside the transaction", async () => {
      const client = await ready();
      const file = await jobFile("users.txn000000.0.jsonl", [user(1, "a")]);
      const error = await client
        .runInLoadTransaction(LOAD_ID, async () => {
          await load(client, usersTable(), file);
          // queries run on the transaction's connection while it is open
          const [own] = await client.query("SELECT pg_backend_pid() AS pid");
          await admin.query("SELECT pg_terminate_backend($1)", [own?.pid]);
          await client.completeLoad(LOAD_ID);
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationError);
      expect(error).toMatchObject({ retryable: true });
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 0 }]);
      // the broken connection left the pool: the client goes on with a new one
      expect(await client.isLoadCompleted(LOAD_ID)).toBe(false);
      await client.runInLoadTransaction(LOAD_ID, async () => {
        await load(client, usersTable(), file);
        await client.completeLoad(LOAD_ID);
      });
      expect(await client.isLoadCompleted(LOAD_ID)).toBe(true);
    });

    it("should migrate inside a load transaction with a savepoint, not a nested BEGIN", async () => {
      const client = await openClient();
      await client.runInLoadTransaction(LOAD_ID, async () => {
        await client.initializeStorage();
        await client.updateStoredSchema();
        await load(client, usersTable(), await jobFile("users.txn000000.0.jsonl", [user(1, "a")]));
        expect(
          await rows(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = '${dataset}'`),
        ).toEqual([{ n: 0 }]);
      });
      expect(await rows(`SELECT count(*)::int AS n FROM "${dataset}".users`)).toEqual([{ n: 1 }]);
    });

    const uniqueConstraints = (table: string, inDataset = dataset) =>
      rows(
        `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'u' AND conrelid = '"${inDataset}"."${table}"'::regclass ORDER BY conname`,
      );

    it("should add the UNIQUE constraints of tables it created after their rows, with the names CREATE TABLE gives", async () => {
      const client = await openClient();
      let inside: unknown;
      await client.runInLoadTransaction(LOAD_ID, async () => {
        await client.initializeStorage();
        const update = await client.updateStoredSchema();
        expect(update.statements.at(-1)).toBe(`ALTER TABLE "${dataset}"."users"\nADD UNIQUE ("_dlt_id")`);
        await load(
          client,
          usersTable(),
          await jobFile("users.txn000000.0.jsonl", [user(1, "a"), user(2, "b")]),
        );
        inside = await client.query(
          `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'u' AND conrelid = '"${dataset}"."users"'::regclass`,
        );
        await client.completeLoad(LOAD_ID);
      });
      expect(inside).toEqual([{ n: 0 }]);
      // the row key compares bytes (its index builds faster); other text columns keep the database's collation
      expect(
        await rows(
          `SELECT column_name, collation_name FROM information_schema.columns WHERE table_schema = '${dataset}' AND table_name = 'users' AND data_type = 'character varying' ORDER BY ordinal_position`,
        ),
      ).toEqual([
        { column_name: "name", collation_name: null },
        { column_name: "_dlt_load_id", collation_name: null },
        { column_name: "_dlt_id", collation_name: "C" },
      ]);
      expect(await uniqueConstraints("users")).toEqual([
        { conname: "users__dlt_id_key", def: "UNIQUE (_dlt_id)" },
      ]);
      // the same constraint as a migration outside a load transaction creates (column UNIQUE)
      const plain = `${dataset}_plain`;
      context = { ...context, datasetName: plain };
      try {
        await ready();
        expect(await uniqueConstraints("users", plain)).toEqual([
          { conname: "users__dlt_id_key", def: "UNIQUE (_dlt_id)" },
        ]);
      } finally {
        await dropDataset(admin, plain);
      }
    });

    it("should roll back the created table and name it when its deferred UNIQUE constraint fails", async () => {
      const client = await openClient();
      const error = await client
        .runInLoadTransaction(LOAD_ID, async () => {
          await client.initializeStorage();
          await client.updateStoredSchema();
          const twice = [user(1, "a"), { ...user(2, "b"), _dlt_id: "r1" }];
          await load(client, usersTable(), await jobFile("users.txn000000.0.jsonl", twice));
          await client.completeLoad(LOAD_ID);
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationError);
      expect(error).toMatchObject({ retryable: false, table: "users", loadId: LOAD_ID });
      expect((error as Error).message).toMatch(/UNIQUE constraints of table `users`.*r1/);
      expect(await rows(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = '${dataset}'`)).toEqual([
        { n: 0 },
      ]);
    });
  });

  describe("state sync", () => {
    it("should read back the newest state of a completed load and the stored schema", async () => {
      const schema = shopSchema(usersTable(), stateTable());
      const client = await ready(schema);
      const state = newPipelineState("shop_pipeline");
      state.sources = { shop: { resources: { users: { incremental: { last_value: 9007199254740993n } } } } };
      bumpStateVersion(state);
      const createdAt = new Date("2024-05-01T10:00:00.000Z");
      const stateRow = pipelineStateRow(state, createdAt);
      const row = { ...stateRow, created_at: createdAt.toISOString(), _dlt_load_id: LOAD_ID, _dlt_id: "s1" };
      await load(client, stateTable(), await jobFile("_dlt_pipeline_state.5555555555.0.jsonl", [row]));
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
      expect(decompressState(stored?.state ?? "").sources).toEqual(state.sources);
      expect(await client.getStoredState("other_pipeline")).toBeUndefined();
      expect((await client.getStoredSchema())?.versionHash).toBe(schema.versionHash);
      expect((await client.getStoredSchemaByHash(schema.versionHash))?.name).toBe("shop");
      expect(await client.getStoredSchema("other")).toBeUndefined();
    });

    it("should find no state or schema in a dataset that does not exist", async () => {
      const client = await openClient();
      expect(await client.getStoredState("shop_pipeline")).toBeUndefined();
      expect(await client.getStoredSchema()).toBeUndefined();
      expect(await client.isLoadCompleted(LOAD_ID)).toBe(false);
    });
  });

  describe("errors", () => {
    it("should classify what the server reports by SQLSTATE", async () => {
      const client = await ready();
      const failure = async (sql: string) => {
        try {
          await client.query(sql);
        } catch (error) {
          return error as DestinationError;
        }
        throw new Error(`expected ${sql} to fail`);
      };
      const syntax = await failure("SELEC 1");
      expect(syntax).toBeInstanceOf(DestinationError);
      expect(syntax).toMatchObject({ retryable: false, code: "DESTINATION_TERMINAL" });
      expect(syntax.message).toMatch(
        /^\[tsdlt\] \[postgres\] Query failed terminally: syntax error at or near "SELEC" \(SQLSTATE 42601\)/,
      );
      expect(classifyPostgresError(syntax.cause).reason).toBe("syntax");
      expect(classifyPostgresError((await failure("SELECT * FROM nowhere")).cause).reason).toBe("catalog");
      expect(classifyPostgresError((await failure("SELECT 'x'::int")).cause).reason).toBe("data");
      expect(classifyPostgresError((await failure("SELECT 1/0")).cause)).toMatchObject({
        code: "22012",
        retryable: false,
      });

      // a lock wait that times out is retryable
      await admin.query("BEGIN");
      await admin.query(`LOCK TABLE "${dataset}".users IN ACCESS EXCLUSIVE MODE`);
      try {
        const locked = await failure(`SET lock_timeout = '100ms'; SELECT * FROM "${dataset}".users`);
        expect(locked).toMatchObject({ retryable: true, code: "DESTINATION_TRANSIENT" });
        expect(classifyPostgresError(locked.cause).reason).toBe("lock_conflict");
      } finally {
        await admin.query("ROLLBACK");
      }
    });

    it("should classify a real serialization failure as retryable", async () => {
      await ready();
      const other = new pg.Client({ connectionString: POSTGRES_URL });
      await other.connect();
      try {
        await admin.query(`INSERT INTO "${dataset}".users VALUES (1, 'a', 'l', 'x1')`);
        for (const c of [admin, other]) await c.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
        await admin.query(`SELECT count(*) FROM "${dataset}".users`);
        await other.query(`SELECT count(*) FROM "${dataset}".users`);
        await admin.query(`UPDATE "${dataset}".users SET name = 'b'`);
        await admin.query("COMMIT");
        const error = await other.query(`UPDATE "${dataset}".users SET name = 'c'`).catch((e: unknown) => e);
        expect(classifyPostgresError(error)).toMatchObject({
          code: "40001",
          retryable: true,
          reason: "transaction_conflict",
        });
      } finally {
        await other.query("ROLLBACK").catch(() => undefined);
        await other.end();
      }
    });
  });

  describe("bad input", () => {
    const good = parsePostgresCredentials(POSTGRES_URL ?? "postgresql://x:y@localhost/z");
    const variant = (changes: Record<string, string | number>) =>
      parsePostgresCredentials({
        host: good.host,
        port: good.port,
        database: good.database,
        username: good.username,
        password: good.password,
        connectTimeout: good.connectTimeout,
        ...changes,
      });

    async function connectFailure(credentials: ReturnType<typeof variant>): Promise<DestinationError> {
      const client = await postgres({ credentials }).createClient(shopSchema(), context);
      clients.push(client);
      const error = await client.isStorageInitialized().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationError);
      return error as DestinationError;
    }

    it("should name host, port, database and user, never the password, for wrong credentials", async () => {
      const started = Date.now();
      const error = await connectFailure(variant({ password: "Wrong-Passw0rd!" }));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toMatchObject({ retryable: false, code: "DESTINATION_TERMINAL" });
      expect(error.message).toContain(
        `Could not connect to Postgres at host \`${good.host}\`, port ${good.port}, database \`${good.database}\` as user \`${good.username}\``,
      );
      expect(error.message).toMatch(/SQLSTATE 28P01/);
      expect(error.message).not.toContain("Wrong-Passw0rd!");
      expect(error.message).not.toContain(good.password);
    });

    it("should say so when the database does not exist", async () => {
      const error = await connectFailure(variant({ database: "no_such_database_xyz" }));
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/database `no_such_database_xyz`.*SQLSTATE 3D000.*Create the database/);
    });

    it("should fail fast when nothing listens on the port (retryable: the server may come back)", async () => {
      const closed = createServer();
      await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
      const port = (closed.address() as { port: number }).port;
      await new Promise<void>((done) => closed.close(() => done()));
      const started = Date.now();
      const error = await connectFailure(variant({ host: "127.0.0.1", port }));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(
        `host \`127.0.0.1\`, port ${port}, database \`${good.database}\` as user \`${good.username}\``,
      );
      expect(error.message).toContain("ECONNREFUSED");
      expect(error.message).not.toContain(good.password);
    });

    it("should give up after connect_timeout on a server that never answers", async () => {
      const sockets = new Set<Socket>();
      const silent: Server = createServer((socket) => {
        sockets.add(socket);
      });
      await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
      const port = (silent.address() as { port: number }).port;
      try {
        const started = Date.now();
        const error = await connectFailure(variant({ host: "127.0.0.1", port, connectTimeout: 1 }));
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(900);
        expect(elapsed).toBeLessThan(5_000);
        expect(error.retryable).toBe(true);
        expect(error.message).toContain(`port ${port}`);
        expect(error.message).toContain("No answer within `connect_timeout` (1 s)");
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((done) => silent.close(() => done()));
      }
    });
  });

  describe("lifecycle", () => {
    it("should close every connection of its pool on dispose", async () => {
      const appName = `tsdlt_dispose_${randomBytes(3).toString("hex")}`;
      const client = await openClient(
        shopSchema(),
        `${POSTGRES_URL}${POSTGRES_URL?.includes("?") ? "&" : "?"}application_name=${appName}`,
      );
      await client.initializeStorage();
      await Promise.all([client.query("SELECT pg_sleep(0.2)"), client.query("SELECT pg_sleep(0.2)")]);
      const count = async () =>
        (
          await rows(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = '${appName}'`)
        )[0]?.n;
      expect(await count()).toBe(2);
      await client[Symbol.asyncDispose]();
      // the server ends a backend shortly after its client said goodbye
      await expect.poll(count, { timeout: 5_000, interval: 50 }).toBe(0);
    });
  });
});
