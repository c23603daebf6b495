/**
 * Write dispositions end to end (issue 4, REFERENCE §4): every disposition and strategy on a real
 * DuckDB file through the public pipeline API, with nested tables, run several times with changed,
 * duplicated, deleted (`hard_delete`) and reappearing records, asserting the exact final rows.
 *
 * The object form of `writeDisposition` and `mergeKey` on `run()` belong to the extract stage and the
 * pipeline facade; runs pass them through {@link runOptions} so this file type-checks before the
 * facade's `RunOptions` declares them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ColumnSchema, Logger, ReplaceStrategy } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as dlt from "../src/index.js";

type Row = Record<string, unknown>;

let root: string;
const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-dispositions-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** `run()` options including those the facade is gaining (object-form `writeDisposition`, `mergeKey`). */
interface DispositionRunOptions {
  readonly tableName: string;
  readonly writeDisposition?:
    | dlt.WriteDisposition
    | {
        readonly disposition: "merge";
        readonly strategy?: "delete-insert" | "upsert" | "insert-only" | "scd2";
        readonly validityColumnNames?: readonly [string, string];
        readonly activeRecordTimestamp?: string;
        readonly rowVersionColumnName?: string;
        readonly boundaryTimestamp?: string;
        readonly deduplicated?: boolean;
      }
    | { readonly disposition: "replace"; readonly strategy?: ReplaceStrategy };
  readonly primaryKey?: string | readonly string[];
  readonly mergeKey?: string | readonly string[];
  readonly columns?: Record<string, ColumnSchema>;
}

function runOptions(options: DispositionRunOptions): dlt.RunOptions {
  return options as unknown as dlt.RunOptions;
}

function newPipeline(name: string, destination: { replaceStrategy?: ReplaceStrategy } = {}): dlt.Pipeline {
  return dlt.pipeline({
    pipelineName: name,
    pipelinesDir: join(root, "pipelines"),
    destination: dlt.destinations.duckdb({ credentials: join(root, `${name}.duckdb`), ...destination }),
    datasetName: "data",
    logger: silent,
  });
}

/** Query rows with bigints as numbers. */
async function rows(p: dlt.Pipeline, sql: string): Promise<Row[]> {
  return (await p.query(sql)).map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])),
  );
}

async function tableExists(p: dlt.Pipeline, table: string): Promise<boolean> {
  const found = await p.query(
    `SELECT 1 FROM information_schema.tables WHERE table_schema = 'data' AND table_name = '${table}'`,
  );
  return found.length > 0;
}

async function loadCount(p: dlt.Pipeline): Promise<number> {
  const [row] = await rows(p, "SELECT count(*)::INT AS n FROM data._dlt_loads");
  return row?.n as number;
}

/** `id, name` of `users` and `id, value` of its nested `users__items`, joined through `_dlt_root_id`. */
async function usersAndItems(p: dlt.Pipeline): Promise<{ users: Row[]; items: Row[] }> {
  return {
    users: await rows(p, "SELECT id, name FROM data.users ORDER BY id"),
    items: await rows(
      p,
      "SELECT u.id, i.value FROM data.users__items AS i JOIN data.users AS u ON i._dlt_parent_id = u._dlt_id ORDER BY u.id, i._dlt_list_idx",
    ),
  };
}

describe("append", () => {
  it("should add the rows and nested rows of every run", async () => {
    const p = newPipeline("append");
    const data = [{ id: 1, name: "a", items: ["x", "y"] }];
    await p.run(data, runOptions({ tableName: "users", writeDisposition: "append" }));
    await p.run(data, runOptions({ tableName: "users", writeDisposition: "append" }));
    const { users, items } = await usersAndItems(p);
    expect(users).toEqual([
      { id: 1, name: "a" },
      { id: 1, name: "a" },
    ]);
    expect(items).toEqual([
      { id: 1, value: "x" },
      { id: 1, value: "x" },
      { id: 1, value: "y" },
      { id: 1, value: "y" },
    ]);
    expect(await tableExists(p, "_dlt_staging")).toBe(false);
  });
});

describe("replace", () => {
  const STRATEGIES: readonly ReplaceStrategy[] = [
    "truncate-and-insert",
    "insert-from-staging",
    "staging-optimized",
  ];

  it.each(STRATEGIES)("should replace the root and its nested tables with %s", async (strategy) => {
    const p = newPipeline(`replace_${strategy.replaceAll("-", "_")}`, { replaceStrategy: strategy });
    const options = runOptions({ tableName: "users", writeDisposition: "replace" });
    await p.run(
      [
        { id: 1, name: "a", items: ["x", "y"] },
        { id: 2, name: "b", items: ["z"] },
      ],
      options,
    );
    await p.run(
      [
        { id: 3, name: "c", items: ["w"] },
        { id: 3, name: "c", items: ["w"] },
      ],
      options,
    );
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 3, name: "c" },
        { id: 3, name: "c" },
      ],
      items: [
        { id: 3, value: "w" },
        { id: 3, value: "w" },
      ],
    });

    // no nested rows in this load: the nested table is replaced too (emptied)
    await p.run([{ id: 4, name: "d", items: [] }], options);
    expect(await usersAndItems(p)).toEqual({ users: [{ id: 4, name: "d" }], items: [] });
    expect(await loadCount(p)).toBe(3);
  });

  it("should take the strategy from the object form of the write disposition", async () => {
    const p = newPipeline("replace_object_form");
    const options = runOptions({
      tableName: "users",
      writeDisposition: { disposition: "replace", strategy: "insert-from-staging" },
    });
    await p.run([{ id: 1, name: "a", items: ["x"] }], options);
    await p.run([{ id: 2, name: "b", items: ["y"] }], options);
    expect(await usersAndItems(p)).toEqual({ users: [{ id: 2, name: "b" }], items: [{ id: 2, value: "y" }] });
    expect(p.defaultSchema.getTable("users")?.["x-replace-strategy"]).toBe("insert-from-staging");
  });

  it("should reject a replace strategy DuckDB does not know", () => {
    expect(() => dlt.destinations.duckdb({ replaceStrategy: "swap" as ReplaceStrategy })).toThrow(
      /replaceStrategy/,
    );
  });

  // Needs the extract stage to write an empty job file for a replace resource that yields nothing
  // (dlt's `Extract._write_empty_files`); normalize already turns it into an empty job.
  it("should empty the table when a replace resource yields nothing", async () => {
    const p = newPipeline("replace_empty");
    const options = runOptions({ tableName: "users", writeDisposition: "replace" });
    await p.run([{ id: 1, name: "a", items: ["x"] }], options);
    await p.run([], options);
    expect(await usersAndItems(p)).toEqual({ users: [], items: [] });
  });
});

describe("merge: delete-insert", () => {
  const columns: Record<string, ColumnSchema> = {
    deleted: { data_type: "bool", hard_delete: true },
    updated: { data_type: "bigint", dedup_sort: "desc" },
  };
  const options = runOptions({ tableName: "users", writeDisposition: "merge", primaryKey: "id", columns });

  it("should replace records by primary key with their nested rows, dedup by dedup_sort and hard-delete", async () => {
    const p = newPipeline("delete_insert");
    await p.run(
      [
        { id: 1, name: "a", updated: 1, items: ["x", "y"] },
        { id: 2, name: "b", updated: 1, items: ["z"] },
      ],
      options,
    );
    // changed (two versions: the higher `updated` wins), duplicated, deleted
    await p.run(
      [
        { id: 1, name: "a-old", updated: 0, items: ["old"] },
        { id: 1, name: "a2", updated: 2, items: ["x2"] },
        { id: 3, name: "c", updated: 1, items: [] },
        { id: 3, name: "c", updated: 1, items: [] },
        { id: 2, deleted: true, updated: 2 },
      ],
      options,
    );
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 1, name: "a2" },
        { id: 3, name: "c" },
      ],
      items: [{ id: 1, value: "x2" }],
    });
    // no row keeps a hard-delete flag; a delete of a key never loaded changes nothing
    const reappearing = [
      { id: 2, name: "b-again", updated: 3, items: ["w", "v"] },
      { id: 4, deleted: true, updated: 1 },
    ];
    await p.run(reappearing, options);
    await p.run(reappearing, options);
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 1, name: "a2" },
        { id: 2, name: "b-again" },
        { id: 3, name: "c" },
      ],
      items: [
        { id: 1, value: "x2" },
        { id: 2, value: "w" },
        { id: 2, value: "v" },
      ],
    });
    expect(await rows(p, "SELECT count(*)::INT AS n FROM data.users WHERE deleted")).toEqual([{ n: 0 }]);
    // every nested row belongs to a root row
    expect(
      await rows(
        p,
        "SELECT count(*)::INT AS n FROM data.users__items WHERE _dlt_root_id NOT IN (SELECT _dlt_id FROM data.users)",
      ),
    ).toEqual([{ n: 0 }]);
  });

  it("should compare a compound primary key column by column", async () => {
    const p = newPipeline("delete_insert_compound");
    const compound = runOptions({ tableName: "users", writeDisposition: "merge", primaryKey: ["a", "b"] });
    await p.run(
      [
        { a: "1", b: "23", name: "first" },
        { a: "12", b: "3", name: "second" },
      ],
      compound,
    );
    await p.run([{ a: "1", b: "23", name: "first-changed" }], compound);
    expect(await rows(p, "SELECT a, b, name FROM data.users ORDER BY a, b")).toEqual([
      { a: "1", b: "23", name: "first-changed" },
      { a: "12", b: "3", name: "second" },
    ]);
  });

  it("should replace every row of a merge key (columns hint)", async () => {
    const p = newPipeline("delete_insert_merge_key");
    const byDay = runOptions({
      tableName: "events",
      writeDisposition: "merge",
      columns: { day: { merge_key: true } },
    });
    await p.run(
      [
        { day: 1, v: "a" },
        { day: 1, v: "b" },
        { day: 2, v: "c" },
      ],
      byDay,
    );
    await p.run([{ day: 1, v: "d" }], byDay);
    expect(await rows(p, "SELECT day, v FROM data.events ORDER BY day, v")).toEqual([
      { day: 1, v: "d" },
      { day: 2, v: "c" },
    ]);
  });

  it("should replace every row of a merge key (`mergeKey` run option)", async () => {
    const p = newPipeline("delete_insert_merge_key_option");
    const byDay = runOptions({ tableName: "events", writeDisposition: "merge", mergeKey: "day" });
    await p.run(
      [
        { day: 1, v: "a" },
        { day: 2, v: "c" },
      ],
      byDay,
    );
    await p.run([{ day: 1, v: "d" }], byDay);
    expect(await rows(p, "SELECT day, v FROM data.events ORDER BY day, v")).toEqual([
      { day: 1, v: "d" },
      { day: 2, v: "c" },
    ]);
  });

  it("should append when the table has neither primary nor merge key", async () => {
    const p = newPipeline("delete_insert_no_keys");
    const noKeys = runOptions({ tableName: "users", writeDisposition: "merge" });
    await p.run([{ id: 1, name: "a", items: ["x"] }], noKeys);
    await p.run([{ id: 1, name: "a", items: ["x"] }], noKeys);
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 1, name: "a" },
        { id: 1, name: "a" },
      ],
      items: [
        { id: 1, value: "x" },
        { id: 1, value: "x" },
      ],
    });
  });

  it("should keep one row per record in the merge + incremental `updated_at` pattern", async () => {
    // The tutorial's pattern: each run sends the records updated since the last cursor value, the
    // boundary record included again (an incremental cursor compares with `>=`).
    const p = newPipeline("merge_incremental");
    const source = [
      { id: 1, title: "one", updated_at: "2024-01-01T00:00:00Z" },
      { id: 2, title: "two", updated_at: "2024-01-02T00:00:00Z" },
    ];
    let lastValue = "1970-01-01T00:00:00Z";
    const issues = dlt.resource(
      function* issues() {
        for (const record of source) if (record.updated_at >= lastValue) yield { ...record };
        lastValue =
          source
            .map((r) => r.updated_at)
            .sort()
            .at(-1) ?? lastValue;
      },
      { name: "issues", writeDisposition: "merge", primaryKey: "id" },
    );
    await p.run(issues);
    source[0] = { id: 1, title: "one (edited)", updated_at: "2024-01-03T00:00:00Z" };
    await p.run(issues);
    source.push({ id: 3, title: "three", updated_at: "2024-01-03T00:00:00Z" });
    await p.run(issues);
    source[1] = { id: 2, title: "two (edited)", updated_at: "2024-01-04T00:00:00Z" };
    await p.run(issues);
    expect(await rows(p, "SELECT id, title FROM data.issues ORDER BY id")).toEqual([
      { id: 1, title: "one (edited)" },
      { id: 2, title: "two (edited)" },
      { id: 3, title: "three" },
    ]);
  });

  const incremental = (dlt as unknown as { sources?: { incremental?: unknown } }).sources?.incremental;
  it.skipIf(typeof incremental !== "function")(
    "should keep one row per record with `dlt.sources.incremental` on `updated_at`",
    async () => {
      type Cursor = { readonly lastValue: string };
      const makeCursor = incremental as (path: string, options: { initialValue: string }) => Cursor;
      const p = newPipeline("merge_incremental_cursor");
      const source = [
        { id: 1, title: "one", updated_at: "2024-01-01T00:00:00Z" },
        { id: 2, title: "two", updated_at: "2024-01-02T00:00:00Z" },
      ];
      const issues = dlt.resource(
        function* issues(updatedAt = makeCursor("updated_at", { initialValue: "1970-01-01T00:00:00Z" })) {
          for (const record of source) if (record.updated_at >= updatedAt.lastValue) yield { ...record };
        },
        { name: "issues", writeDisposition: "merge", primaryKey: "id" },
      );
      await p.run(issues);
      source[0] = { id: 1, title: "one (edited)", updated_at: "2024-01-03T00:00:00Z" };
      await p.run(issues);
      source[1] = { id: 2, title: "two (edited)", updated_at: "2024-01-04T00:00:00Z" };
      await p.run(issues);
      expect(await rows(p, "SELECT id, title FROM data.issues ORDER BY id")).toEqual([
        { id: 1, title: "one (edited)" },
        { id: 2, title: "two (edited)" },
      ]);
    },
  );
});

describe("merge: upsert", () => {
  const options = runOptions({
    tableName: "users",
    writeDisposition: { disposition: "merge", strategy: "upsert" },
    primaryKey: "id",
    columns: { deleted: { data_type: "bool", hard_delete: true } },
  });

  it("should update, insert and hard-delete by primary key, nested rows included", async () => {
    const p = newPipeline("upsert");
    await p.run(
      [
        { id: 1, name: "a", items: ["x", "y"] },
        { id: 2, name: "b", items: ["z"] },
      ],
      options,
    );
    const [first] = await rows(p, "SELECT _dlt_id FROM data.users WHERE id = 1");
    await p.run(
      [
        { id: 1, name: "a2", items: ["x"] },
        { id: 3, name: "c", items: ["q"] },
        { id: 3, name: "c", items: ["q"] },
        { id: 2, deleted: true },
      ],
      options,
    );
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 1, name: "a2" },
        { id: 3, name: "c" },
      ],
      items: [
        { id: 1, value: "x" },
        { id: 3, value: "q" },
      ],
    });
    // the root row key is the hash of the primary key: stable across updates
    expect(await rows(p, "SELECT _dlt_id FROM data.users WHERE id = 1")).toEqual([first]);

    const reappearing = [
      { id: 2, name: "b-again", items: ["w", "v"] },
      { id: 5, deleted: true },
    ];
    await p.run(reappearing, options);
    await p.run(reappearing, options);
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 1, name: "a2" },
        { id: 2, name: "b-again" },
        { id: 3, name: "c" },
      ],
      items: [
        { id: 1, value: "x" },
        { id: 2, value: "w" },
        { id: 2, value: "v" },
        { id: 3, value: "q" },
      ],
    });
  });
});

describe("merge: insert-only", () => {
  it("should insert new keys only, never update, and drop hard-deleted rows", async () => {
    const p = newPipeline("insert_only");
    const options = runOptions({
      tableName: "users",
      writeDisposition: { disposition: "merge", strategy: "insert-only" },
      primaryKey: "id",
      columns: { deleted: { data_type: "bool", hard_delete: true } },
    });
    await p.run(
      [
        { id: 1, name: "a", items: ["x"] },
        { id: 2, name: "b" },
      ],
      options,
    );
    await p.run(
      [
        { id: 1, name: "a2", items: ["x2"] },
        { id: 3, name: "c", items: ["q"] },
        { id: 3, name: "c", items: ["q"] },
        { id: 4, name: "d", deleted: true, items: ["gone"] },
      ],
      options,
    );
    await p.run([{ id: 2, deleted: true }], options);
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 1, name: "a" },
        { id: 2, name: "b" },
        { id: 3, name: "c" },
      ],
      items: [
        { id: 1, value: "x" },
        { id: 3, value: "q" },
      ],
    });
  });
});

describe("merge: scd2", () => {
  const at = (day: number): string => `2024-01-0${day}T00:00:00Z`;

  it("should retire changed and absent records, keep unchanged ones and re-insert returning ones", async () => {
    const p = newPipeline("scd2");
    const run = (data: unknown[], day: number) =>
      p.run(
        data,
        runOptions({
          tableName: "users",
          writeDisposition: { disposition: "merge", strategy: "scd2", boundaryTimestamp: at(day) },
        }),
      );
    await run(
      [
        { id: 1, name: "a", items: ["x", "y"] },
        { id: 2, name: "b" },
      ],
      1,
    );
    await run(
      [
        { id: 1, name: "a", items: ["x", "y"] },
        { id: 2, name: "b2" },
        { id: 3, name: "c" },
        { id: 3, name: "c" },
      ],
      2,
    );
    await run(
      [
        { id: 1, name: "a", items: ["x", "y"] },
        { id: 3, name: "c" },
      ],
      3,
    );
    await run(
      [
        { id: 1, name: "a", items: ["x", "z"] },
        { id: 2, name: "b2" },
        { id: 3, name: "c" },
      ],
      4,
    );

    const day = (column: string): string => `strftime(${column}, '%Y-%m-%d')`;
    expect(
      await rows(
        p,
        `SELECT id, name, ${day("_dlt_valid_from")} AS valid_from, ${day("_dlt_valid_to")} AS valid_to FROM data.users ORDER BY id, _dlt_valid_from`,
      ),
    ).toEqual([
      { id: 1, name: "a", valid_from: "2024-01-01", valid_to: "2024-01-04" },
      { id: 1, name: "a", valid_from: "2024-01-04", valid_to: null },
      { id: 2, name: "b", valid_from: "2024-01-01", valid_to: "2024-01-02" },
      { id: 2, name: "b2", valid_from: "2024-01-02", valid_to: "2024-01-03" },
      { id: 2, name: "b2", valid_from: "2024-01-04", valid_to: null },
      { id: 3, name: "c", valid_from: "2024-01-02", valid_to: null },
    ]);
    // nested rows belong to one version each; a returning record keeps its row hash
    expect(
      await rows(
        p,
        `SELECT ${day("u._dlt_valid_from")} AS valid_from, i.value FROM data.users__items AS i JOIN data.users AS u ON i._dlt_parent_id = u._dlt_id ORDER BY u._dlt_valid_from, i._dlt_list_idx`,
      ),
    ).toEqual([
      { valid_from: "2024-01-01", value: "x" },
      { valid_from: "2024-01-01", value: "y" },
      { valid_from: "2024-01-04", value: "x" },
      { valid_from: "2024-01-04", value: "z" },
    ]);
    expect(
      await rows(p, "SELECT count(DISTINCT _dlt_id)::INT AS n FROM data.users WHERE name = 'b2'"),
    ).toEqual([{ n: 1 }]);
  });

  it("should use configured column names, the active record timestamp and compound merge keys column-wise", async () => {
    const p = newPipeline("scd2_configured");
    const run = (data: unknown[], day: number) =>
      p.run(
        data,
        runOptions({
          tableName: "prices",
          writeDisposition: {
            disposition: "merge",
            strategy: "scd2",
            validityColumnNames: ["valid_from", "valid_until"],
            activeRecordTimestamp: "9999-12-31",
            boundaryTimestamp: at(day),
          },
          // incremental scd2: only records whose key (a, b) is in the load can be retired
          columns: { a: { merge_key: true }, b: { merge_key: true } },
        }),
      );
    // ("1","23") and ("12","3") concatenate to the same text; they must not be confused
    await run(
      [
        { a: "1", b: "23", price: 10 },
        { a: "12", b: "3", price: 20 },
      ],
      1,
    );
    await run([{ a: "1", b: "23", price: 11 }], 2);
    await run([{ a: "1", b: "23", price: 11 }], 3);

    const day = (column: string): string => `strftime(${column}, '%Y-%m-%d')`;
    expect(
      await rows(
        p,
        `SELECT a, b, price, ${day("valid_from")} AS valid_from, ${day("valid_until")} AS valid_until FROM data.prices ORDER BY a, b, valid_from`,
      ),
    ).toEqual([
      { a: "1", b: "23", price: 10, valid_from: "2024-01-01", valid_until: "2024-01-02" },
      { a: "1", b: "23", price: 11, valid_from: "2024-01-02", valid_until: "9999-12-31" },
      { a: "12", b: "3", price: 20, valid_from: "2024-01-01", valid_until: "9999-12-31" },
    ]);
    expect(await tableExists(p, "_dlt_valid_from")).toBe(false);
  });

  it("should version rows by a custom row version column", async () => {
    const p = newPipeline("scd2_row_version");
    const run = (data: unknown[], day: number) =>
      p.run(
        data,
        runOptions({
          tableName: "docs",
          writeDisposition: {
            disposition: "merge",
            strategy: "scd2",
            rowVersionColumnName: "version",
            boundaryTimestamp: at(day),
          },
        }),
      );
    await run([{ id: 1, version: "v1", text: "a" }], 1);
    // same version, other text: not a new version
    await run([{ id: 1, version: "v1", text: "a (typo fixed)" }], 2);
    await run([{ id: 1, version: "v2", text: "b" }], 3);
    expect(
      await rows(
        p,
        "SELECT id, version, text, strftime(_dlt_valid_from, '%Y-%m-%d') AS f, strftime(_dlt_valid_to, '%Y-%m-%d') AS t FROM data.docs ORDER BY _dlt_valid_from",
      ),
    ).toEqual([
      { id: 1, version: "v1", text: "a", f: "2024-01-01", t: "2024-01-03" },
      { id: 1, version: "v2", text: "b", f: "2024-01-03", t: null },
    ]);
  });
});

describe("skip", () => {
  it("should neither create nor load a skip table", async () => {
    const p = newPipeline("skip");
    await p.run([{ id: 1 }], runOptions({ tableName: "ignored", writeDisposition: "skip" }));
    await p.run([{ id: 2 }], runOptions({ tableName: "kept", writeDisposition: "append" }));
    expect(await tableExists(p, "ignored")).toBe(false);
    expect(await rows(p, "SELECT id FROM data.kept")).toEqual([{ id: 2 }]);
    expect(await loadCount(p)).toBe(2);
  });
});

describe("failed loads keep the previous data", () => {
  // A DECIMAL(4,2) column: 123456.78 passes normalize but DuckDB refuses it, failing the root job
  // terminally after the nested job already loaded.
  const columns: Record<string, ColumnSchema> = { amount: { data_type: "decimal", precision: 4, scale: 2 } };
  const good = [
    { id: 1, name: "a", amount: "1.50", items: ["x"] },
    { id: 2, name: "b", amount: "2.00", items: ["y"] },
  ];

  it.each<ReplaceStrategy>(["truncate-and-insert", "insert-from-staging"])(
    "should leave a %s replace table as it was when its load fails, then complete on a re-run",
    async (strategy) => {
      const p = newPipeline(`failed_replace_${strategy.replaceAll("-", "_")}`, { replaceStrategy: strategy });
      const options = runOptions({ tableName: "users", writeDisposition: "replace", columns });
      await p.run(good, options);
      const bad = [
        { id: 3, name: "c", amount: "3.00", items: ["z"] },
        { id: 4, name: "d", amount: "123456.78", items: ["w"] },
      ];
      await expect(p.run(bad, options)).rejects.toThrow(/DECIMAL\(4,2\)/);
      expect(await usersAndItems(p)).toEqual({
        users: [
          { id: 1, name: "a" },
          { id: 2, name: "b" },
        ],
        items: [
          { id: 1, value: "x" },
          { id: 2, value: "y" },
        ],
      });
      expect(await loadCount(p)).toBe(1);

      await p.run([bad[0], { ...bad[1], amount: "4.00" }], options);
      expect(await usersAndItems(p)).toEqual({
        users: [
          { id: 3, name: "c" },
          { id: 4, name: "d" },
        ],
        items: [
          { id: 3, value: "z" },
          { id: 4, value: "w" },
        ],
      });
      expect(await loadCount(p)).toBe(2);
    },
  );

  it("should leave a merge table as it was when its load fails, then complete on a re-run", async () => {
    const p = newPipeline("failed_merge");
    const options = runOptions({ tableName: "users", writeDisposition: "merge", primaryKey: "id", columns });
    await p.run(good, options);
    const bad = [
      { id: 1, name: "a2", amount: "1.00", items: ["x2"] },
      { id: 3, name: "c", amount: "123456.78", items: ["z"] },
    ];
    await expect(p.run(bad, options)).rejects.toThrow(/DECIMAL\(4,2\)/);
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 1, name: "a" },
        { id: 2, name: "b" },
      ],
      items: [
        { id: 1, value: "x" },
        { id: 2, value: "y" },
      ],
    });

    await p.run([bad[0], { ...bad[1], amount: "3.00" }], options);
    expect(await usersAndItems(p)).toEqual({
      users: [
        { id: 1, name: "a2" },
        { id: 2, name: "b" },
        { id: 3, name: "c" },
      ],
      items: [
        { id: 1, value: "x2" },
        { id: 2, value: "y" },
        { id: 3, value: "z" },
      ],
    });
  });
});
