import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ExtractError,
  isTsdltError,
  newPipelineState,
  PIPELINE_STATE_TABLE_NAME,
  pipelineStateRow,
  TsdltError,
} from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { DEFAULT_BUFFER_MAX_ITEMS, resource } from "../src/index.js";
import {
  batches,
  createFixture,
  extract,
  items,
  jobFiles,
  packageState,
  rawText,
  rejection,
  storageLeftovers,
  storedSchema,
  tableFiles,
  useFixture,
} from "./helpers.js";

const fixture = useFixture();

const JOB_FILE = /^([a-z_]+)\.[0-9a-f]{10}\.0\.typed-jsonl$/;

describe("extractResources: package layout", () => {
  it("should commit one typed-jsonl job file per table under normalize/extracted/<load_id>/new_jobs", async () => {
    const users = resource(
      [
        { id: 1, name: "Alice" },
        { id: 2, name: "Bob" },
      ],
      { name: "users" },
    );
    const result = await extract(fixture, [users], { loadId: "1700000000.123456" });

    expect(result.loadId).toBe("1700000000.123456");
    expect(result.package.path).toBe(join(fixture.storage.root, "extracted", "1700000000.123456"));
    expect(fixture.storage.listPackages("extracted")).toEqual(["1700000000.123456"]);
    const files = jobFiles(result.package);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(JOB_FILE);
    expect(files[0]?.startsWith("users.")).toBe(true);
    expect(batches(result.package, "users")).toEqual([
      [
        { id: 1, name: "Alice" },
        { id: 2, name: "Bob" },
      ],
    ]);
    expect(result.itemCounts).toEqual({ users: 2 });
    expect(result.resourceNames).toEqual(["users"]);
    // no temporary folder is left next to the committed package
    expect(storageLeftovers(fixture)).toEqual(["extracted/1700000000.123456"]);
  });

  it("should create a load id when none is given", async () => {
    const result = await extract(fixture, [resource([{ id: 1 }], { name: "a" })]);
    expect(result.loadId).toMatch(/^\d+(\.\d+)?$/);
    expect(fixture.storage.listPackages("extracted")).toEqual([result.loadId]);
  });

  it("should write the table hints into schema.json with normalized names", async () => {
    const res = resource([{ Id: 1 }], {
      name: "UserAccounts",
      primaryKey: "Id",
      mergeKey: ["TenantId"],
      writeDisposition: "merge",
      columns: { CreatedAt: { data_type: "timestamp" }, Id: { data_type: "bigint" } },
      maxTableNesting: 1,
    });
    const { package: pkg } = await extract(fixture, [res]);

    const table = storedSchema(pkg).tables.user_accounts;
    expect(table).toMatchObject({
      name: "user_accounts",
      write_disposition: "merge",
      resource: "UserAccounts",
      "x-normalizer": { max_nesting: 1 },
    });
    expect(table?.columns).toEqual({
      created_at: { name: "created_at", data_type: "timestamp" },
      id: { name: "id", data_type: "bigint", primary_key: true, nullable: false },
      // keys are not nullable unless the column says so (REFERENCE §1.7)
      tenant_id: { name: "tenant_id", merge_key: true, nullable: false },
    });
    expect(jobFiles(pkg)[0]).toMatch(/^user_accounts\./);
    // the caller's schema object is updated as well
    expect(fixture.schema.getTable("user_accounts")?.write_disposition).toBe("merge");
  });

  it("should default write_disposition to append and accept columns as a list", async () => {
    const res = resource([{ id: 1 }], {
      name: "events",
      columns: [{ name: "EventType", data_type: "text", nullable: false }],
    });
    const { package: pkg } = await extract(fixture, [res]);
    const table = storedSchema(pkg).tables.events;
    expect(table?.write_disposition).toBe("append");
    expect(table?.resource).toBe("events");
    expect(table?.columns).toEqual({
      event_type: { name: "event_type", data_type: "text", nullable: false },
    });
  });

  it("should load into `tableName` when given instead of the resource name", async () => {
    const { package: pkg, itemCounts } = await extract(fixture, [
      resource([{ id: 1 }], { name: "res", tableName: "MyTable" }),
    ]);
    expect(itemCounts).toEqual({ my_table: 1 });
    expect(storedSchema(pkg).tables.my_table?.resource).toBe("res");
    expect(storedSchema(pkg).tables.res).toBeUndefined();
  });

  it("should write load_package_state.json with created_at and the extra package state", async () => {
    const before = Date.now();
    const { package: pkg } = await extract(fixture, [resource([{ id: 1 }], { name: "a" })], {
      packageState: { dropped_tables: [{ name: "old", columns: {} }], marker: 7 },
    });
    const state = packageState(pkg);
    expect(state.created_at).toBeInstanceOf(Date);
    expect(state.created_at.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(state.dropped_tables).toEqual([{ name: "old", columns: {} }]);
    expect(state.marker).toBe(7);
    // the state file is typed JSON: the date carries the PUA datetime marker
    expect(pkg.readState().created_at).toEqual(state.created_at);
  });

  it("should bump the schema version stored with the package", async () => {
    const { package: pkg } = await extract(fixture, [resource([{ id: 1 }], { name: "a" })]);
    const doc = storedSchema(pkg);
    expect(doc.version).toBe(2);
    expect(doc.version_hash).toBe(fixture.schema.versionHash);
    expect(doc.previous_hashes).toHaveLength(1);
  });
});

describe("extractResources: data shapes", () => {
  it("should treat nested arrays in an array as pages", async () => {
    const { package: pkg, itemCounts } = await extract(fixture, [
      resource([[{ id: 1 }, { id: 2 }], { id: 3 }, [{ id: 4 }]], { name: "t" }),
    ]);
    expect(items(pkg, "t")).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
    expect(itemCounts.t).toBe(4);
  });

  it("should extract a sync generator object", async () => {
    function* gen(): Generator<unknown> {
      yield { id: 1 };
      yield [{ id: 2 }, { id: 3 }];
    }
    const { package: pkg } = await extract(fixture, [resource(gen(), { name: "t" })]);
    expect(items(pkg, "t")).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it("should extract a generator function and name the resource after it", async () => {
    const res = resource(function* people() {
      yield { id: 1 };
      yield { id: 2 };
    });
    expect(res.name).toBe("people");
    const { package: pkg } = await extract(fixture, [res]);
    expect(items(pkg, "people")).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("should extract an async generator yielding pages", async () => {
    async function* pages(): AsyncGenerator<unknown> {
      for (let page = 0; page < 3; page++) {
        await Promise.resolve();
        yield [{ id: page * 2 + 1 }, { id: page * 2 + 2 }];
      }
    }
    const { package: pkg, itemCounts } = await extract(fixture, [resource(pages, { name: "t" })]);
    expect(items(pkg, "t")).toEqual([1, 2, 3, 4, 5, 6].map((id) => ({ id })));
    expect(itemCounts.t).toBe(6);
  });

  it("should extract an async function resolving to a list", async () => {
    const { package: pkg } = await extract(fixture, [
      resource(async () => [{ id: 1 }, { id: 2 }], { name: "t" }),
    ]);
    expect(items(pkg, "t")).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("should extract iterators and custom iterables", async () => {
    const fromIterator = resource([{ id: 1 }, { id: 2 }].values(), { name: "it" });
    const custom: Iterable<unknown> = {
      *[Symbol.iterator]() {
        yield { id: 3 };
      },
    };
    const fromIterable = resource(custom, { name: "iterable" });
    const fromSet = resource(new Set([{ id: 4 }]), { name: "set_items" });
    const { package: pkg } = await extract(fixture, [fromIterator, fromIterable, fromSet]);
    expect(items(pkg, "it")).toEqual([{ id: 1 }, { id: 2 }]);
    expect(items(pkg, "iterable")).toEqual([{ id: 3 }]);
    expect(items(pkg, "set_items")).toEqual([{ id: 4 }]);
  });

  it("should extract a single object as one item", async () => {
    const { package: pkg, itemCounts } = await extract(fixture, [
      resource({ id: 1, tags: ["a"] }, { name: "single" }),
    ]);
    expect(batches(pkg, "single")).toEqual([[{ id: 1, tags: ["a"] }]]);
    expect(itemCounts.single).toBe(1);
  });

  it("should skip undefined items", async () => {
    function* gen(): Generator<unknown> {
      yield undefined;
      yield { id: 1 };
    }
    const { package: pkg } = await extract(fixture, [resource([undefined, { id: 2 }], { name: "a" })]);
    expect(items(pkg, "a")).toEqual([{ id: 2 }]);
    const second = createFixture();
    try {
      const { package: p2 } = await extract(second, [resource(gen, { name: "b" })]);
      expect(items(p2, "b")).toEqual([{ id: 1 }]);
    } finally {
      second.cleanup();
    }
  });

  it("should extract a generator function again on a second extract", async () => {
    let calls = 0;
    const res = resource(function* counter() {
      calls++;
      yield { id: calls };
    });
    const first = await extract(fixture, [res]);
    const second = await extract(fixture, [res]);
    expect(items(first.package, "counter")).toEqual([{ id: 1 }]);
    expect(items(second.package, "counter")).toEqual([{ id: 2 }]);
  });

  it("should re-extract an array resource", async () => {
    const res = resource([{ id: 1 }], { name: "a" });
    const first = await extract(fixture, [res]);
    const second = await extract(fixture, [res]);
    expect(items(first.package, "a")).toEqual([{ id: 1 }]);
    expect(items(second.package, "a")).toEqual([{ id: 1 }]);
  });

  it("should reject a generator object extracted twice with a clear error and commit nothing the second time", async () => {
    function* gen(): Generator<unknown> {
      yield { id: 1 };
    }
    const res = resource(gen(), { name: "once" });
    const first = await extract(fixture, [res]);
    expect(items(first.package, "once")).toEqual([{ id: 1 }]);

    const error = await rejection(extract(fixture, [res]));
    expect(isTsdltError(error)).toBe(true);
    expect(error).toBeInstanceOf(ExtractError);
    expect(error.message).toContain("`once`");
    expect(error.message).toMatch(/already iterated/);
    expect(error.message).toMatch(/generator function/);
    expect(storageLeftovers(fixture)).toEqual([`extracted/${first.loadId}`]);
  });

  it("should reject a generator object extracted twice through a copy of the resource", async () => {
    // The pipeline applies run hints with `applyHints`, which copies the resource: the copy must not
    // silently extract an exhausted generator as an empty table.
    function* gen(): Generator<unknown> {
      yield { id: 1 };
    }
    const res = resource(gen(), { name: "once" });
    await extract(fixture, [res]);
    const copy = res.applyHints({ writeDisposition: "replace" });
    const error = await rejection(extract(fixture, [copy]));
    expect(error).toBeInstanceOf(ExtractError);
    expect(error.message).toMatch(/already iterated/);
  });
});

describe("extractResources: dynamic table names", () => {
  it("should route items to tables computed by a tableName function, with the resource's hints", async () => {
    const events = resource(
      [
        { id: 1, type: "Click" },
        { id: 2, type: "PageView" },
        { id: 3, type: "Click" },
      ],
      {
        name: "events",
        tableName: (item) => `${String(item.type)}Events`,
        primaryKey: "id",
        writeDisposition: "merge",
      },
    );
    const { package: pkg, itemCounts } = await extract(fixture, [events]);

    expect(itemCounts).toEqual({ click_events: 2, page_view_events: 1 });
    expect(items(pkg, "click_events")).toEqual([
      { id: 1, type: "Click" },
      { id: 3, type: "Click" },
    ]);
    expect(items(pkg, "page_view_events")).toEqual([{ id: 2, type: "PageView" }]);
    const tables = storedSchema(pkg).tables;
    for (const name of ["click_events", "page_view_events"]) {
      expect(tables[name]).toMatchObject({
        name,
        resource: "events",
        write_disposition: "merge",
        columns: { id: { name: "id", primary_key: true, nullable: false } },
      });
    }
    // no table named after the resource itself
    expect(tables.events).toBeUndefined();
  });

  it("should fail naming the resource when the tableName function throws", async () => {
    const res = resource([{ id: 1 }], {
      name: "router",
      tableName: () => {
        throw new Error("no type");
      },
    });
    const error = await rejection(extract(fixture, [res]));
    expect(isTsdltError(error, "EXTRACT_RESOURCE_FAILED")).toBe(true);
    expect(error.message).toContain("`router`");
    expect(error.message).toContain("no type");
    expect(storageLeftovers(fixture)).toEqual([]);
  });
});

describe("extractResources: typed values", () => {
  it("should PUA-encode Date, bigint, Uint8Array and Buffer values", async () => {
    const when = new Date("2024-05-06T07:08:09.123Z");
    const res = resource(
      [
        {
          id: 1,
          when,
          big: 12345678901234567890n,
          bytes: new Uint8Array([1, 2, 255]),
          buf: Buffer.from("hi"),
          nested: { at: when, list: [3n] },
        },
      ],
      { name: "typed" },
    );
    const { package: pkg } = await extract(fixture, [res]);

    const raw = rawText(pkg, "typed");
    expect(raw).toContain(`"\uF0272024-05-06T07:08:09.123Z"`);
    expect(raw).toContain(`"\uF02E12345678901234567890"`);
    expect(raw).toContain(`"\uF02B${Buffer.from([1, 2, 255]).toString("base64")}"`);
    expect(raw).toContain(`"\uF02B${Buffer.from("hi").toString("base64")}"`);

    const [item] = items(pkg, "typed") as Record<string, unknown>[];
    expect(item?.when).toEqual(when);
    expect(item?.big).toBe(12345678901234567890n);
    expect(item?.bytes).toEqual(new Uint8Array([1, 2, 255]));
    expect(Buffer.from(item?.buf as Uint8Array).toString()).toBe("hi");
    expect(item?.nested).toEqual({ at: when, list: [3n] });
  });
});

describe("extractResources: buffering and rotation", () => {
  const seven = (): { id: number }[] => Array.from({ length: 7 }, (_, i) => ({ id: i + 1 }));

  it("should buffer everything into one line by default", async () => {
    expect(DEFAULT_BUFFER_MAX_ITEMS).toBe(5000);
    const { package: pkg } = await extract(fixture, [resource(seven(), { name: "t" })]);
    expect(batches(pkg, "t").map((b) => b.length)).toEqual([7]);
  });

  it("should write one line per `bufferMaxItems` items, across pages", async () => {
    async function* pages(): AsyncGenerator<unknown> {
      yield seven().slice(0, 3);
      yield seven().slice(3);
    }
    const { package: pkg } = await extract(fixture, [resource(pages, { name: "t" })], {
      bufferMaxItems: 2,
    });
    expect(jobFiles(pkg)).toHaveLength(1);
    expect(batches(pkg, "t").map((b) => b.length)).toEqual([2, 2, 2, 1]);
    expect(items(pkg, "t")).toEqual(seven());
  });

  it("should rotate files after `fileMaxItems` items", async () => {
    const { package: pkg, itemCounts } = await extract(fixture, [resource(seven(), { name: "t" })], {
      fileMaxItems: 3,
    });
    const files = tableFiles(pkg, "t");
    expect(jobFiles(pkg)).toHaveLength(3);
    for (const name of jobFiles(pkg)) expect(name).toMatch(JOB_FILE);
    expect(files.map((f) => f.map((line) => line.length))).toEqual([[3], [3], [1]]);
    expect(files.flat(2)).toEqual(seven());
    expect(itemCounts.t).toBe(7);
  });

  it("should combine `bufferMaxItems` lines with `fileMaxItems` rotation", async () => {
    const { package: pkg } = await extract(fixture, [resource(seven(), { name: "t" })], {
      bufferMaxItems: 2,
      fileMaxItems: 3,
    });
    const files = tableFiles(pkg, "t");
    expect(files.map((f) => f.map((line) => line.length))).toEqual([[2, 1], [2, 1], [1]]);
    expect(files.flat(2)).toEqual(seven());
  });

  it("should keep a separate buffer per table", async () => {
    const res = resource(
      [
        { id: 1, kind: "a" },
        { id: 2, kind: "b" },
        { id: 3, kind: "a" },
      ],
      { name: "mixed", tableName: (item) => String(item.kind) },
    );
    const { package: pkg } = await extract(fixture, [res], { bufferMaxItems: 2 });
    expect(batches(pkg, "a").map((b) => b.length)).toEqual([2]);
    expect(batches(pkg, "b").map((b) => b.length)).toEqual([1]);
  });
});

describe("extractResources: fileListener (normalize while extracting)", () => {
  /** Pages of 2 items, `waitMs` apart: a resource waiting on I/O. */
  const slowPages = (pages: number, waitMs: number) =>
    async function* slow(): AsyncGenerator<unknown> {
      for (let page = 0; page < pages; page++) {
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        yield [{ id: page * 2 + 1 }, { id: page * 2 + 2 }];
      }
    };

  it("should close files by age while resources run, report each complete file, and wait before commit", async () => {
    const reported: { table: string; fileName: string; text: string }[] = [];
    const events: string[] = [];
    const result = await extract(fixture, [resource(slowPages(12, 15), { name: "t" })], {
      fileListener: {
        rotateAfterMs: 40,
        fileClosed(file) {
          // the file is complete when reported: whole lines, each a JSON array of items
          reported.push({
            table: file.table,
            fileName: file.fileName,
            text: readFileSync(file.path, "utf8"),
          });
          events.push("closed");
          return true;
        },
        async beforeCommit() {
          events.push("beforeCommit");
        },
      },
    });
    expect(reported.length).toBeGreaterThanOrEqual(2);
    for (const file of reported) {
      expect(file.table).toBe("t");
      expect(file.text.endsWith("]\n")).toBe(true);
      for (const line of file.text.trim().split("\n")) expect(Array.isArray(JSON.parse(line))).toBe(true);
    }
    // every reported file is in the committed package, unchanged; a last one may be closed at the end
    const files = jobFiles(result.package);
    expect(files.length - reported.length).toBeGreaterThanOrEqual(0);
    expect(files.length - reported.length).toBeLessThanOrEqual(1);
    for (const file of reported) {
      expect(files).toContain(file.fileName);
      expect(readFileSync(join(result.package.path, "new_jobs", file.fileName), "utf8")).toBe(file.text);
    }
    expect(items(result.package, "t")).toHaveLength(24);
    expect(events.at(-1)).toBe("beforeCommit");
    expect(events.filter((e) => e === "beforeCommit")).toHaveLength(1);
  });

  it("should stop closing files by age once the listener returns false", async () => {
    let reports = 0;
    const result = await extract(fixture, [resource(slowPages(12, 15), { name: "t" })], {
      fileListener: {
        rotateAfterMs: 40,
        fileClosed: () => {
          reports++;
          return false;
        },
        beforeCommit: async () => {},
      },
    });
    expect(reports).toBe(1);
    expect(jobFiles(result.package)).toHaveLength(2);
    expect(items(result.package, "t")).toHaveLength(24);
  });

  it("should await beforeCommit before discarding the package of a failed extract", async () => {
    let waited = false;
    async function* failing(): AsyncGenerator<unknown> {
      yield [{ id: 1 }];
      throw new Error("boom");
    }
    await expect(
      extract(fixture, [resource(failing, { name: "t" })], {
        fileListener: {
          rotateAfterMs: 0,
          fileClosed: () => true,
          beforeCommit: async () => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            waited = true;
          },
        },
      }),
    ).rejects.toThrow(/boom/);
    expect(waited).toBe(true);
    expect(storageLeftovers(fixture)).toEqual([]);
  });
});

describe("extractResources: resources", () => {
  it("should extract several resources into one package", async () => {
    const result = await extract(fixture, [
      resource([{ id: 1 }], { name: "users" }),
      resource([{ id: 2 }, { id: 3 }], { name: "orders" }),
    ]);
    expect(result.resourceNames).toEqual(["users", "orders"]);
    expect(result.itemCounts).toEqual({ users: 1, orders: 2 });
    expect(
      jobFiles(result.package)
        .map((f) => f.split(".")[0])
        .sort(),
    ).toEqual(["orders", "users"]);
  });

  it("should skip resources with `selected: false`", async () => {
    const result = await extract(fixture, [
      resource([{ id: 1 }], { name: "users" }),
      resource([{ id: 2 }], { name: "hidden", selected: false }),
    ]);
    expect(result.resourceNames).toEqual(["users"]);
    expect(result.itemCounts).toEqual({ users: 1 });
    expect(jobFiles(result.package).every((f) => f.startsWith("users."))).toBe(true);
    expect(storedSchema(result.package).tables.hidden).toBeUndefined();
  });

  it("should not run the generator of an unselected resource", async () => {
    let ran = false;
    const res = resource(
      function* lazy() {
        ran = true;
        yield { id: 1 };
      },
      { selected: false },
    );
    await extract(fixture, [res]);
    expect(ran).toBe(false);
  });
});

describe("extractResources: pipeline state", () => {
  it("should write the `stateRow` into a _dlt_pipeline_state job and add that table", async () => {
    const state = newPipelineState("p");
    const row = pipelineStateRow(state, new Date("2024-01-02T03:04:05Z"));
    let calls = 0;
    const result = await extract(fixture, [resource([{ id: 1 }], { name: "users" })], {
      stateRow: () => {
        calls++;
        return row;
      },
    });
    expect(calls).toBe(1);
    const files = jobFiles(result.package);
    expect(files.filter((f) => f.startsWith(`${PIPELINE_STATE_TABLE_NAME}.`))).toHaveLength(1);
    expect(files.find((f) => f.startsWith(`${PIPELINE_STATE_TABLE_NAME}.`))).toMatch(
      /^_dlt_pipeline_state\.[0-9a-f]{10}\.0\.typed-jsonl$/,
    );
    expect(batches(result.package, PIPELINE_STATE_TABLE_NAME)).toEqual([[row]]);
    expect(result.itemCounts[PIPELINE_STATE_TABLE_NAME]).toBe(1);
    const table = storedSchema(result.package).tables[PIPELINE_STATE_TABLE_NAME];
    expect(Object.keys(table?.columns ?? {})).toEqual(
      expect.arrayContaining(["version", "engine_version", "pipeline_name", "state", "created_at"]),
    );
  });

  it("should write no state job when `stateRow` returns undefined", async () => {
    const result = await extract(fixture, [resource([{ id: 1 }], { name: "users" })], {
      stateRow: () => undefined,
    });
    expect(jobFiles(result.package).some((f) => f.startsWith(PIPELINE_STATE_TABLE_NAME))).toBe(false);
    expect(storedSchema(result.package).tables[PIPELINE_STATE_TABLE_NAME]).toBeUndefined();
  });

  it("should store the state alone when there are no resources", async () => {
    const result = await extract(fixture, [], { stateRow: () => ({ version: 1 }) });
    expect(jobFiles(result.package)).toHaveLength(1);
    expect(items(result.package, PIPELINE_STATE_TABLE_NAME)).toEqual([{ version: 1 }]);
  });
});

describe("extractResources: failures commit nothing", () => {
  it("should wrap a throwing resource in EXTRACT_RESOURCE_FAILED naming it, and remove the temp package", async () => {
    const ok = resource([{ id: 1 }], { name: "ok" });
    const bad = resource(
      function* broken() {
        yield { id: 1 };
        throw new Error("upstream went away");
      },
      { name: "broken" },
    );
    const error = await rejection(extract(fixture, [ok, bad], { stateRow: () => ({ version: 1 }) }));

    expect(error).toBeInstanceOf(ExtractError);
    expect(isTsdltError(error, "EXTRACT_RESOURCE_FAILED")).toBe(true);
    expect(error.message).toContain("`broken`");
    expect(error.message).toContain("upstream went away");
    expect((error.cause as Error).message).toBe("upstream went away");
    expect(storageLeftovers(fixture)).toEqual([]);
    expect(existsSync(join(fixture.storage.root, "extracted"))).toBe(false);
  });

  it("should fail when an async generator rejects", async () => {
    const bad = resource(
      async function* pages() {
        yield [{ id: 1 }];
        await Promise.resolve();
        throw new TypeError("bad page");
      },
      { name: "api" },
    );
    const error = await rejection(extract(fixture, [bad]));
    expect(isTsdltError(error, "EXTRACT_RESOURCE_FAILED")).toBe(true);
    expect(error.message).toContain("`api`");
    expect(error.message).toContain("bad page");
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should name the resource when its generator throws a tsdlt error of its own", async () => {
    // e.g. a REST client error raised inside the resource: the message must still say which resource failed
    const upstream = new TsdltError("HTTP 500 from api.example.com", { code: "UNKNOWN" });
    const bad = resource(
      function* issues() {
        yield { id: 1 };
        throw upstream;
      },
      { name: "issues" },
    );
    const error = await rejection(extract(fixture, [bad]));
    expect(isTsdltError(error, "EXTRACT_RESOURCE_FAILED")).toBe(true);
    expect(error.message).toContain("`issues`");
    expect(error.message).toContain("HTTP 500");
    expect(error.cause).toBe(upstream);
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should report non-Error throws", async () => {
    const bad = resource(
      function* weird() {
        yield { id: 1 };
        throw "just a string";
      },
      { name: "weird" },
    );
    const error = await rejection(extract(fixture, [bad]));
    expect(isTsdltError(error, "EXTRACT_RESOURCE_FAILED")).toBe(true);
    expect(error.message).toContain("just a string");
  });

  it("should commit nothing when `stateRow` throws", async () => {
    const error = await rejection(
      extract(fixture, [resource([{ id: 1 }], { name: "a" })], {
        stateRow: () => {
          throw new Error("state broken");
        },
      }),
    );
    expect(error.message).toBe("state broken");
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should leave earlier packages alone when a later extract fails", async () => {
    const first = await extract(fixture, [resource([{ id: 1 }], { name: "a" })]);
    const bad = resource(
      function* b() {
        yield { id: 1 };
        throw new Error("boom");
      },
      { name: "b" },
    );
    await rejection(extract(fixture, [bad]));
    expect(storageLeftovers(fixture)).toEqual([`extracted/${first.loadId}`]);
    expect(items(first.package, "a")).toEqual([{ id: 1 }]);
  });

  it("should reject an existing load id without touching the committed package", async () => {
    const first = await extract(fixture, [resource([{ id: 1 }], { name: "a" })], { loadId: "1.5" });
    const error = await rejection(
      extract(fixture, [resource([{ id: 2 }], { name: "a" })], { loadId: "1.5" }),
    );
    expect(isTsdltError(error, "LOAD_PACKAGE_INVALID")).toBe(true);
    expect(storageLeftovers(fixture)).toEqual(["extracted/1.5"]);
    expect(items(first.package, "a")).toEqual([{ id: 1 }]);
  });

  function cyclic(): Record<string, unknown> {
    const o: Record<string, unknown> = { id: 1 };
    o.self = o;
    return o;
  }
  function deepCycle(): Record<string, unknown> {
    const inner: Record<string, unknown> = { id: 2 };
    const o = { id: 1, a: { list: [inner] } };
    inner.back = o.a;
    return o;
  }

  const unstorable: ReadonlyArray<readonly [string, () => unknown, string, RegExp]> = [
    ["a function", () => ({ id: 1, f: () => 1 }), "f", /a function/],
    ["a symbol", () => ({ id: 1, s: Symbol("x") }), "s", /a symbol/],
    ["a Map", () => ({ id: 1, m: new Map([["k", 1]]) }), "m", /a Map.*Object\.fromEntries/],
    ["a Set", () => ({ id: 1, s: new Set([1]) }), "s", /a Set.*Array\.from/],
    ["a Promise", () => ({ id: 1, p: Promise.resolve(1) }), "p", /a Promise.*await/],
    ["a cyclic object", cyclic, "self", /cyclic/],
    ["a cycle deep inside", deepCycle, "a.list.0.back", /cyclic/],
    ["a deep function", () => ({ id: 1, a: { b: [{ c: () => 0 }] } }), "a.b.0.c", /a function/],
    ["a WeakMap", () => ({ id: 1, w: new WeakMap() }), "w", /WeakMap/],
  ];

  it.each(unstorable)(
    "should reject %s with EXTRACT_INVALID_DATA naming the table and path",
    async (_label, make, path, kind) => {
      const res = resource([{ id: 0, fine: true }, make()], { name: "bad_data", tableName: "Things" });
      const error = await rejection(extract(fixture, [res]));

      expect(error).toBeInstanceOf(ExtractError);
      expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
      expect((error as ExtractError).table).toBe("things");
      expect((error as ExtractError).path).toBe(path);
      expect(error.message).toContain("`things`");
      expect(error.message).toContain(`\`${path}\``);
      expect(error.message).toContain("`bad_data`");
      expect(error.message).toMatch(kind);
      expect(storageLeftovers(fixture)).toEqual([]);
    },
  );

  it("should reject an unstorable item itself", async () => {
    function* gen(): Generator<unknown> {
      yield { id: 1 };
      yield new Map();
    }
    const error = await rejection(extract(fixture, [resource(gen, { name: "maps" })]));
    expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
    expect(error.message).toContain("the item itself");
    expect((error as ExtractError).path).toBe("");
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should detect unstorable values in a batch flushed mid-resource", async () => {
    const rows = [{ id: 1 }, { id: 2, f: () => 0 }, { id: 3 }];
    const error = await rejection(extract(fixture, [resource(rows, { name: "t" })], { bufferMaxItems: 2 }));
    expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
    expect((error as ExtractError).path).toBe("f");
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should accept shared (non-cyclic) references", async () => {
    const shared = { x: 1 };
    const { package: pkg } = await extract(fixture, [
      resource([{ id: 1, a: shared, b: [shared] }], { name: "t" }),
    ]);
    expect(items(pkg, "t")).toEqual([{ id: 1, a: { x: 1 }, b: [{ x: 1 }] }]);
  });
});
