import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkReadOnlySql } from "../src/show/read-only-sql.js";
import { makePipeline, type ShowProcess, startShow, tsdlt, USERS } from "./helpers.js";

describe("checkReadOnlySql", () => {
  it.each([
    "SELECT 1",
    "  select * from users;  ",
    "WITH t AS (SELECT 1 AS x) SELECT x FROM t",
    "DESCRIBE users",
    "SHOW TABLES",
    "SELECT 'DROP TABLE x; DELETE' AS s -- ; INSERT\n",
    'SELECT "update" FROM t /* drop; */',
    "SELECT replace(name, 'a', 'b') FROM users",
    // the database rejects the unterminated comment; the checker sees only `SELECT 1`
    "SELECT 1 /* unterminated ; DROP",
  ])("should accept %j", (sql) => {
    expect(checkReadOnlySql(sql).ok).toBe(true);
  });

  it.each([
    ["", /empty/],
    ["DROP TABLE users", /must start with SELECT, WITH, DESCRIBE, SHOW/],
    ["SELECT 1; DROP TABLE users", /single statement/],
    ["SELECT 1; SELECT 2", /single statement/],
    ["WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d", /`DELETE` is not/],
    ["SELECT * FROM users FOR UPDATE", /`UPDATE` is not/],
    ["COPY users TO '/tmp/x.csv'", /must start with/],
    ["ATTACH 'x.duckdb'", /must start with/],
    ["(SELECT 1)", /must start with/],
    ["SELECT $$; DROP TABLE x; $$", /single statement/],
  ])("should reject %j", (sql, reason) => {
    const verdict = checkReadOnlySql(sql);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(reason);
  });
});

describe("tsdlt pipeline <name> show (HTTP)", () => {
  let root: string;
  let show: ShowProcess | undefined;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-show-"));
  });
  afterEach(async () => {
    await show?.stop();
    show = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it("should serve tables, rows with paging, packages, state and read-only SQL, releasing the database", async () => {
    const pipelinesDir = join(root, "pipelines");
    const p = makePipeline(root, "browse");
    const info = await p.run(USERS, { tableName: "users" });
    await p.run(
      Array.from({ length: 45 }, (_, i) => ({ n: i + 1 })),
      { tableName: "events" },
    );
    show = await startShow(pipelinesDir, "browse");
    const get = async (path: string): Promise<{ status: number; text: string }> => {
      const response = await fetch(new URL(path, show?.url));
      return { status: response.status, text: await response.text() };
    };
    const sql = async (query: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await fetch(new URL("/api/sql", show?.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sql: query }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    const home = await get("/");
    expect(home.status).toBe(200);
    expect(home.text).toContain('<a class="table-link" href="/tables/users">users</a>');
    expect(home.text).toMatch(/href="\/tables\/users__tags">users__tags<\/a><\/td><td>users<\/td>/);
    expect(home.text).toMatch(
      /events<\/a><\/td><td><\/td><td>append<\/td><td class="num">3<\/td><td class="num">45<\/td>/,
    );
    expect(home.text).toContain(`href="/packages/${info.loadsIds[0]}"`);
    expect(home.text).toContain("&quot;pipeline_name&quot;: &quot;browse&quot;");
    expect(home.text).toContain('id="sql"');

    const users = await get("/tables/users");
    expect(users.text).toMatch(/<td>name<\/td><td>text<\/td><td>yes<\/td>/);
    expect(users.text).toMatch(/<td>_dlt_id<\/td><td>text<\/td><td>no<\/td><td>unique, row_key<\/td>/);
    expect(users.text).toContain("rows 1–3 of 3");
    expect(users.text).toContain("<td>Alice</td>");

    const last = await get("/tables/events?page=2");
    expect(last.text).toContain("rows 41–45 of 45 · page 3 of 3");
    expect(last.text).toContain('rel="prev" href="/tables/events?page=1"');
    expect(last.text).not.toContain('rel="next"');
    expect((await get("/tables/nope")).status).toBe(404);

    const pkg = await get(`/packages/${info.loadsIds[0]}`);
    expect(pkg.text).toMatch(/<td>users\.[0-9a-f]{10}\.jsonl<\/td><td>users<\/td><td>completed_jobs<\/td>/);

    const ok = await sql('SELECT id, name FROM "mydata"."users" ORDER BY id');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      columns: ["id", "name"],
      rows: [
        [1, "Alice"],
        [2, "Bob"],
        [3, "Carol"],
      ],
      truncated: false,
    });
    const refused = await sql('DELETE FROM "mydata"."users"');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/Only read-only queries are allowed/);
    const notAQuery = await sql("SHOW TABLES; DROP TABLE x");
    expect(notAQuery.body.error).toMatch(/single statement/);
    const broken = await sql("SELECT nope FROM nowhere");
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/nowhere/);

    // DNS rebinding guard and method checks
    const foreign = await new Promise<number | undefined>((done, fail) => {
      const request = httpRequest(show?.url as string, { headers: { host: "evil.example" } }, (response) => {
        response.resume();
        done(response.statusCode);
      });
      request.on("error", fail);
      request.end();
    });
    expect(foreign).toBe(403);
    expect((await fetch(new URL("/api/sql", show.url))).status).toBe(405);

    // between requests the database file is free: this process can load into it
    await p.run([{ id: 4, name: "Dan", tags: [] }], { tableName: "users" });
    expect((await get("/")).text).toMatch(
      /users<\/a><\/td><td><\/td><td>append<\/td><td class="num">\d+<\/td><td class="num">4<\/td>/,
    );

    expect(await show.stop()).toBe(0);
    show = undefined;
  });

  it("should fail with exit code 1 for an unknown pipeline", () => {
    const { code, err } = tsdlt(["pipeline", "nope", "show", "--pipelines-dir", root]);
    expect(code).toBe(1);
    expect(err).toMatch(/Cannot attach to pipeline `nope`/);
  });
});
