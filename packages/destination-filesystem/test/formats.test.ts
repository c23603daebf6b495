/**
 * The files are readable by others (issue 10): the tutorial tables written as jsonl, parquet and csv
 * by the client, read back with DuckDB's `read_json`, `read_parquet` and `read_csv`, checking the
 * column types and every value.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { filesystem } from "../src/index.js";
import {
  context,
  duck,
  duckTypes,
  issuesRows,
  labelsRows,
  loadWith,
  tutorialSchema,
  usersRows,
  writePackage,
} from "./helpers.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-fs-formats-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const LOAD_ID = "1719000000.123456";

async function loadTutorial(fileFormat: "jsonl" | "parquet" | "csv"): Promise<string> {
  const bucket = join(root, "bucket");
  const destination = filesystem({ bucketUrl: bucket, fileFormat });
  const pkg = writePackage(join(root, "packages"), LOAD_ID, {
    users: usersRows(LOAD_ID),
    issues: issuesRows(LOAD_ID),
    issues__labels: labelsRows(LOAD_ID),
  });
  await loadWith(destination, tutorialSchema(), context(root), pkg);
  return join(bucket, "tutorial_data");
}

describe("file formats", () => {
  it("should write jsonl files that read_json reads with the normalized values", async () => {
    const dataset = await loadTutorial("jsonl");
    const files = readdirSync(join(dataset, "issues"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^1719000000\.123456\.[0-9a-f]{10}\.jsonl$/);
    const users = await duck(
      `SELECT id::INT AS id, name FROM read_json('${dataset}/users/*.jsonl') ORDER BY id`,
    );
    expect(users).toEqual([
      { id: 1, name: "Alice" },
      { id: 2, name: "Bob" },
    ]);
    const issues = await duck(
      `SELECT id::VARCHAR AS id, title, created_at::VARCHAR AS created_at FROM read_json('${dataset}/issues/*.jsonl',
         columns = {id: 'BIGINT', number: 'BIGINT', title: 'VARCHAR', created_at: 'TIMESTAMPTZ'}) ORDER BY number`,
    );
    expect(issues).toEqual([
      {
        id: "2147483648001",
        title: 'Filesystem destination, "quoted", with a comma',
        created_at: "2024-03-01 10:20:30.123456+00",
      },
      { id: "2", title: "Pre-1970 and nulls", created_at: "1969-07-20 20:17:40.000001+00" },
    ]);
  });

  it("should write parquet files typed from the schema", async () => {
    const dataset = await loadTutorial("parquet");
    const types = await duckTypes(`SELECT * FROM read_parquet('${dataset}/issues/*.parquet')`);
    expect(types).toEqual({
      id: "BIGINT",
      number: "BIGINT",
      title: "VARCHAR",
      locked: "BOOLEAN",
      score: "DOUBLE",
      created_at: "TIMESTAMP WITH TIME ZONE",
      closed_on: "DATE",
      reminder: "TIME",
      amount: "DECIMAL(38,9)",
      reactions: "JSON",
      avatar: "BLOB",
      user__login: "VARCHAR",
      _dlt_load_id: "VARCHAR",
      _dlt_id: "VARCHAR",
    });
    const rows = await duck(
      `SELECT id::VARCHAR AS id, number::VARCHAR AS number, title, locked, score, created_at::VARCHAR AS created_at,
              closed_on::VARCHAR AS closed_on, reminder::VARCHAR AS reminder, amount::VARCHAR AS amount,
              reactions::VARCHAR AS reactions, decode(avatar) AS avatar, user__login, _dlt_load_id
       FROM read_parquet('${dataset}/issues/*.parquet') ORDER BY number`,
    );
    expect(rows).toEqual([
      {
        id: "2147483648001",
        number: "1",
        title: 'Filesystem destination, "quoted", with a comma',
        locked: false,
        score: 0.5,
        created_at: "2024-03-01 10:20:30.123456+00",
        closed_on: "2024-03-02",
        reminder: "08:30:00.25",
        amount: "12.340000000",
        reactions: '{"total_count":3,"+1":2}',
        avatar: "hello",
        user__login: "rudolfix",
        _dlt_load_id: LOAD_ID,
      },
      {
        id: "2",
        number: "2",
        title: "Pre-1970 and nulls",
        locked: true,
        score: -1.25,
        created_at: "1969-07-20 20:17:40.000001+00",
        closed_on: null,
        reminder: null,
        amount: null,
        reactions: null,
        avatar: null,
        user__login: null,
        _dlt_load_id: LOAD_ID,
      },
    ]);
    const labels = await duck(
      `SELECT l.name, i.number::INT AS number FROM read_parquet('${dataset}/issues__labels/*.parquet') l
       JOIN read_parquet('${dataset}/issues/*.parquet') i ON l._dlt_parent_id = i._dlt_id ORDER BY l._dlt_list_idx`,
    );
    expect(labels).toEqual([
      { name: "bug", number: 1 },
      { name: "help wanted", number: 1 },
    ]);
    const users = await duck(
      `SELECT id::INT AS id, name FROM read_parquet('${dataset}/users/*.parquet') ORDER BY id`,
    );
    expect(users.map((u) => [u.id, u.name])).toEqual([
      [1, "Alice"],
      [2, "Bob"],
    ]);
  });

  it("should write csv files with dlt's conventions that read_csv reads", async () => {
    const dataset = await loadTutorial("csv");
    const [file] = readdirSync(join(dataset, "issues"));
    const text = readFileSync(join(dataset, "issues", file as string), "utf8");
    const [header, first, second] = text.split("\n");
    expect(header).toBe(
      '"id","number","title","locked","score","created_at","closed_on","reminder","amount","reactions","avatar","user__login","_dlt_load_id","_dlt_id"',
    );
    expect(first).toBe(
      `2147483648001,1,"Filesystem destination, ""quoted"", with a comma",False,0.5,"2024-03-01T10:20:30.123456+00:00","2024-03-02","08:30:00.250000",12.340000000,"{""total_count"":3,""+1"":2}","hello","rudolfix","${LOAD_ID}","i1-${LOAD_ID}"`,
    );
    expect(second).toBe(
      `2,2,"Pre-1970 and nulls",True,-1.25,"1969-07-20T20:17:40.000001+00:00","","","","","","","${LOAD_ID}","i2-${LOAD_ID}"`,
    );
    const types = await duckTypes(`SELECT * FROM read_csv('${dataset}/issues/*.csv')`);
    expect(types).toMatchObject({
      id: "BIGINT",
      title: "VARCHAR",
      locked: "BOOLEAN",
      score: "DOUBLE",
      created_at: "TIMESTAMP WITH TIME ZONE",
      closed_on: "DATE",
      reminder: "TIME",
    });
    const rows = await duck(
      `SELECT id::VARCHAR AS id, title, locked, created_at::VARCHAR AS created_at, closed_on::VARCHAR AS closed_on
       FROM read_csv('${dataset}/issues/*.csv') ORDER BY number`,
    );
    expect(rows).toEqual([
      {
        id: "2147483648001",
        title: 'Filesystem destination, "quoted", with a comma',
        locked: false,
        created_at: "2024-03-01 10:20:30.123456+00",
        closed_on: "2024-03-02",
      },
      {
        id: "2",
        title: "Pre-1970 and nulls",
        locked: true,
        created_at: "1969-07-20 20:17:40.000001+00",
        closed_on: null,
      },
    ]);
  });

  it("should keep bigints beyond 2^53 exact in parquet and csv", async () => {
    const big = "9007199254740993123";
    const schema = tutorialSchema();
    for (const fileFormat of ["parquet", "csv"] as const) {
      const bucket = join(root, `big-${fileFormat}`);
      const loadId = "1719000001.5";
      const pkg = writePackage(join(root, `pk-${fileFormat}`), loadId, {
        users: [],
      });
      // normalize writes such values as bare digits
      const { writeFileSync } = await import("node:fs");
      writeFileSync(
        pkg.jobs[0]?.path as string,
        `{"id":${big.slice(0, 18)},"name":"x","_dlt_load_id":"${loadId}","_dlt_id":"a"}\n`,
      );
      await loadWith(filesystem({ bucketUrl: bucket, fileFormat }), schema, context(root), pkg);
      const reader = fileFormat === "parquet" ? "read_parquet" : "read_csv";
      const [row] = await duck(
        `SELECT id::VARCHAR AS id FROM ${reader}('${bucket}/tutorial_data/users/*.${fileFormat}')`,
      );
      expect(row?.id).toBe(big.slice(0, 18));
    }
  });

  it("should write an empty parquet file for a job without rows, readable with the table's columns", async () => {
    const bucket = join(root, "empty");
    const loadId = "1719000002.25";
    const pkg = writePackage(join(root, "pk"), loadId, { users: [] });
    await loadWith(
      filesystem({ bucketUrl: bucket, fileFormat: "parquet" }),
      tutorialSchema(),
      context(root),
      pkg,
    );
    const types = await duckTypes(`SELECT * FROM read_parquet('${bucket}/tutorial_data/users/*.parquet')`);
    expect(Object.keys(types)).toEqual(["id", "name", "_dlt_load_id", "_dlt_id"]);
    expect(
      await duck(`SELECT count(*)::INT AS n FROM read_parquet('${bucket}/tutorial_data/users/*.parquet')`),
    ).toEqual([{ n: 0 }]);
  });

  it("should fail a parquet job whose decimal would lose digits, naming the column", async () => {
    const bucket = join(root, "dec");
    const loadId = "1719000003.5";
    const row = { ...issuesRows(loadId)[0], amount: "1.0000000001" };
    const pkg = writePackage(join(root, "pk"), loadId, { issues: [row] });
    await expect(
      loadWith(
        filesystem({ bucketUrl: bucket, fileFormat: "parquet" }),
        tutorialSchema(),
        context(root),
        pkg,
      ),
    ).rejects.toThrow(/column `amount` in row 1 of table `issues`.*more than 9 fraction digit/);
    // no partial file is left behind
    expect(readdirSync(join(bucket, "tutorial_data", "issues"))).toEqual([]);
  });
});
