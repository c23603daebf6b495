import { isTsdltError, type SourceState } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import {
  DltSource,
  type ExtractSourceOptions,
  extractSource,
  incremental,
  isSource,
  resource,
  source,
  transformer,
} from "../src/index.js";
import { items, rejection, storedSchema, useFixture } from "./helpers.js";

const fixture = useFixture();

function run(src: DltSource, options: Partial<ExtractSourceOptions> = {}): ReturnType<typeof extractSource> {
  return extractSource({
    source: src,
    schema: fixture.schema,
    naming: fixture.naming,
    storage: fixture.storage,
    ...options,
  });
}

/** A stand-in for the REST client's paginate(): an async iterable of pages. */
async function* paginate(endpoint: string, params: Record<string, unknown> = {}): AsyncGenerator<unknown[]> {
  for (let page = 0; page < 2; page++) {
    await Promise.resolve();
    yield [
      {
        id: page * 2 + 1,
        endpoint,
        updated_at: `2024-01-0${page * 2 + 1}T00:00:00Z`,
        since: params.since ?? null,
      },
      {
        id: page * 2 + 2,
        endpoint,
        updated_at: `2024-01-0${page * 2 + 2}T00:00:00Z`,
        since: params.since ?? null,
      },
    ];
  }
}

describe("source(): the tutorial's github_source", () => {
  const getIssues = resource(
    async function* get_issues(
      updatedAt = incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
    ) {
      yield* paginate("issues", { since: updatedAt.lastValue });
    },
    { tableName: "issues", writeDisposition: "merge", primaryKey: "id" },
  );
  const getComments = resource(
    async function* get_comments(
      updatedAt = incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
    ) {
      yield* paginate("comments", { since: updatedAt.lastValue });
    },
    { tableName: "comments", writeDisposition: "merge", primaryKey: "id" },
  );

  it("should group resources returned as a list, named after the function", async () => {
    const githubSource = source(function github_source() {
      return [getIssues, getComments];
    });
    expect(githubSource.sourceName).toBe("github_source");
    const src = githubSource();
    expect(isSource(src)).toBe(true);
    expect(src.name).toBe("github_source");
    expect(src.resourceNames).toEqual(["get_issues", "get_comments"]);

    const sources: Record<string, SourceState> = {};
    const result = await run(src, { sources });
    expect(result.sourceName).toBe("github_source");
    expect(result.itemCounts).toEqual({ issues: 4, comments: 4 });
    expect(result.resourceTables).toEqual({ get_issues: ["issues"], get_comments: ["comments"] });
    expect(result.stateChanged).toBe(true);
    const resources = sources.github_source?.resources ?? {};
    expect(Object.keys(resources)).toEqual(["get_issues", "get_comments"]);
    expect(resources.get_issues?.incremental).toMatchObject({
      updated_at: { last_value: "2024-01-04T00:00:00Z", initial_value: "1970-01-01T00:00:00Z" },
    });

    // the next run passes the stored cursor to the API and loads only rows at or after it
    const second = await run(githubSource(), { sources });
    const issues = items(second.package, "issues") as { id: number; since: string }[];
    expect(issues.every((i) => i.since === "2024-01-04T00:00:00Z")).toBe(true);
    expect(issues).toEqual([]);
  });

  it("should declare resources dynamically from a generator (the tutorial's dynamic resources)", async () => {
    const fetchGithubData = (endpoint: string, params: Record<string, unknown> = {}) =>
      paginate(endpoint, params);
    const githubSource = source(function* github_source(endpoints: string[]) {
      for (const endpoint of endpoints) {
        const params = { per_page: 100 };
        yield resource(fetchGithubData(endpoint, params), {
          name: endpoint,
          writeDisposition: "merge",
          primaryKey: "id",
        });
      }
    });
    const src = githubSource(["issues", "comments", "traffic/clones"]);
    expect(Object.keys(src.resources)).toEqual(["issues", "comments", "traffic/clones"]);
    const result = await run(src);
    expect(result.itemCounts).toEqual({ issues: 4, comments: 4, traffic_clones: 4 });
    expect(storedSchema(result.package).tables.traffic_clones).toMatchObject({
      write_disposition: "merge",
      resource: "traffic/clones",
    });
    // the resources wrap generator objects: a second extract of the same source says so
    expect(src.exhausted).toBe(true);
    const error = await rejection(run(src));
    expect(error.message).toMatch(/Resource `issues` wraps a generator that was already iterated/);
    // calling the source function again creates fresh generators
    expect((await run(githubSource(["issues"]))).itemCounts).toEqual({ issues: 4 });
  });
});

describe("source(): forms", () => {
  it("should accept a single resource, an async function and an async generator", async () => {
    const single = source(function one() {
      return resource([{ id: 1 }], { name: "r" });
    })();
    expect(single.resourceNames).toEqual(["r"]);

    const asyncSource = source(async function later(n: number) {
      await Promise.resolve();
      return [resource([{ n }], { name: "a" }), resource([{ n: n + 1 }], { name: "b" })];
    })(5);
    expect(asyncSource.isResolved).toBe(false);
    expect(() => asyncSource.resources).toThrow(
      /Source `later` is still being created .*await source.resolve\(\)/,
    );
    const result = await run(asyncSource);
    expect(result.itemCounts).toEqual({ a: 1, b: 1 });
    expect(asyncSource.isResolved).toBe(true);

    const asyncGen = source(async function* streamed() {
      yield resource([{ id: 1 }], { name: "x" });
      await Promise.resolve();
      yield resource([{ id: 2 }], { name: "y" });
    })();
    expect((await asyncGen.resolve()).resourceNames).toEqual(["x", "y"]);
  });

  it("should wrap plain data returned by the source function into a resource named after it", async () => {
    const src = source(function users() {
      return [
        { id: 1, name: "Alice" },
        { id: 2, name: "Bob" },
      ];
    })();
    expect(src.resourceNames).toEqual(["users"]);
    const result = await run(src);
    expect(items(result.package, "users")).toHaveLength(2);
  });

  it("should fail clearly for nothing, mixtures, duplicate names and missing names", async () => {
    expect(() => source(function empty() {})()).toThrow(/Source function `empty` returned undefined/);
    expect(() =>
      source(function mixed() {
        return [resource([], { name: "a" }), { id: 1 }];
      })(),
    ).toThrow(/returned a mix of resources and other values/);
    expect(() =>
      source(function dup() {
        return [resource([], { name: "a" }), resource([], { name: "a" })];
      })(),
    ).toThrow(/Source `dup` has two resources named `a`/);
    expect(() => source(() => [])).toThrow(/source\(\) needs a name/);
    expect(source(() => [], { name: "named" }).sourceName).toBe("named");
    const failing = source(async function failing() {
      throw new Error("auth failed");
    })();
    const error = await rejection(failing.resolve());
    expect(error.message).toBe("auth failed");
  });

  it("should run the source function when the factory is called, in a source context", async () => {
    const { current } = await import("../src/index.js");
    let inner: unknown;
    const src = source(function ctx() {
      try {
        current.sourceState();
      } catch (error) {
        inner = error;
      }
      const unbound = incremental("id");
      return [resource([{ id: 1 }], { name: "r", incremental: unbound })];
    })();
    expect(src.name).toBe("ctx");
    expect((inner as Error).message).toMatch(
      /`current.sourceState\(\)` was called while the source function `ctx` declared its resources/,
    );
    expect(src.resource("r").incremental?.isBound).toBe(false);
  });
});

describe("DltSource: selection and options", () => {
  const make = source(function shop() {
    const orders = resource(
      function* orders() {
        yield [{ id: 1 }, { id: 2 }];
      },
      { primaryKey: "id" },
    );
    const lines = transformer(
      function* lines(page: { id: number }[]) {
        for (const o of page) yield { order_id: o.id };
      },
      { dataFrom: orders },
    );
    const users = resource([{ id: 9 }], { name: "users" });
    return [orders, lines, users];
  });

  it("should select with withResources and deselect with withoutResources, as copies", async () => {
    const src = make();
    const onlyLines = src.withResources("lines");
    expect(Object.keys(onlyLines.selectedResources)).toEqual(["lines"]);
    expect(Object.keys(src.selectedResources)).toEqual(["orders", "lines", "users"]);
    // the parent of a selected transformer runs without being loaded
    expect((await run(onlyLines)).itemCounts).toEqual({ lines: 2 });
    const noUsers = make().withoutResources("users");
    expect((await run(noUsers)).itemCounts).toEqual({ orders: 2, lines: 2 });
    expect(() => src.withResources("nope", "orders")).toThrow(
      /Source `shop` has no resource `nope`. Its resources: `orders`, `lines`, `users`/,
    );
    expect(() => src.resource("x")).toThrow(/has no resource `x`/);
    expect(src.resource("users").name).toBe("users");
  });

  it("should apply source options to the schema", async () => {
    const src = source(
      function configured() {
        return resource([{ id: 1, a: { b: 1 } }], { name: "t" });
      },
      { maxTableNesting: 1, rootKey: true, schemaContract: { tables: "evolve", columns: "freeze" } },
    )();
    await run(src);
    expect(fixture.schema.normalizers.json.config).toEqual({ max_nesting: 1, root_key_propagation: true });
    expect(fixture.schema.settings.schema_contract).toEqual({ tables: "evolve", columns: "freeze" });
    const cloned = src.clone({ name: "other", maxTableNesting: 3 });
    expect(cloned.name).toBe("other");
    expect(cloned.maxTableNesting).toBe(3);
    expect(cloned.rootKey).toBe(true);
  });

  it("should limit selected non-transformer resources and parallelize them", async () => {
    const src = source(function counting() {
      return [
        resource(function* a() {
          for (let i = 0; i < 10; i++) yield { i };
        }),
      ];
    })();
    expect((await run(src.addLimit(3))).itemCounts).toEqual({ a: 3 });
    expect(src.parallelize().resource("a").parallelized).toBe(true);
    const factory = source(
      function p() {
        return [resource([{ i: 1 }], { name: "x" })];
      },
      { parallelized: true },
    );
    expect(factory().resource("x").parallelized).toBe(true);
    expect(factory.clone({ name: "q" })().name).toBe("q");
  });

  it("should derive selections from a source that is still resolving", async () => {
    const src = source(async function slow() {
      return [resource([{ id: 1 }], { name: "a" }), resource([{ id: 2 }], { name: "b" })];
    })();
    const onlyB = src.withResources("b");
    expect((await run(onlyB)).itemCounts).toEqual({ b: 1 });
    const bad = src.withResources("c");
    const error = await rejection(bad.resolve());
    expect(isTsdltError(error, "INVALID_ARGUMENT")).toBe(true);
  });

  it("should apply run hints to every selected resource", async () => {
    const hinted = make().withoutResources("users").applyHints({ writeDisposition: "replace" });
    expect(hinted.resource("orders").writeDisposition).toBe("replace");
    expect(hinted.resource("lines").writeDisposition).toBe("replace");
    expect(hinted.resource("users").writeDisposition).toBe("append");
  });

  it("should be constructible by hand", () => {
    const src = new DltSource("manual", [resource([], { name: "r" })]);
    expect(src.resourceNames).toEqual(["r"]);
    expect(() => new DltSource("", [])).toThrow(/non-empty name/);
  });
});
