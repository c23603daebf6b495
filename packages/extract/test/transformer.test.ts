import { ExtractError, isTsdltError, type Logger } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { type DltResource, defer, isDeferred, resource, transformer } from "../src/index.js";
import { extract, items, rejection, storageLeftovers, useFixture } from "./helpers.js";

const fixture = useFixture();

type Issue = { number: number };

function issuesResource(calls: { n: number }): DltResource {
  return resource(
    function* issues() {
      calls.n++;
      yield [{ number: 1 }, { number: 2 }];
      yield [{ number: 3 }];
    },
    { primaryKey: "number" },
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("transformer()", () => {
  it("should feed each page of the parent to the transformer and run the parent once", async () => {
    const calls = { n: 0 };
    const issues = issuesResource(calls);
    const received: unknown[] = [];
    const comments = transformer(
      function* comments(page: Issue[]) {
        received.push(page);
        for (const issue of page) yield { issue: issue.number, body: `comment on ${issue.number}` };
      },
      { dataFrom: issues, primaryKey: ["issue"] },
    );
    const { package: pkg, itemCounts, resourceNames } = await extract(fixture, [issues, comments]);
    expect(calls.n).toBe(1);
    expect(received).toEqual([[{ number: 1 }, { number: 2 }], [{ number: 3 }]]);
    expect(itemCounts).toEqual({ issues: 3, comments: 3 });
    expect(resourceNames).toEqual(["issues", "comments"]);
    expect(items(pkg, "comments")).toEqual([1, 2, 3].map((n) => ({ issue: n, body: `comment on ${n}` })));
  });

  it("should run an unselected parent without loading it", async () => {
    const calls = { n: 0 };
    const issues = issuesResource(calls).withSelected(false);
    const comments = transformer((page: Issue[]) => page.map((i) => ({ issue: i.number })), {
      name: "comments",
      dataFrom: issues,
    });
    const { itemCounts } = await extract(fixture, [issues, comments]);
    expect(itemCounts).toEqual({ comments: 3 });
    // the transformer alone brings its parent along
    const alone = await extract(fixture, [comments]);
    expect(alone.itemCounts).toEqual({ comments: 3 });
    expect(calls.n).toBe(2);
  });

  it("should bind with pipe() and chain transformers", async () => {
    const numbers = resource(function* numbers() {
      yield 1;
      yield 2;
    }).withSelected(false);
    const double = transformer(function* double(n: number) {
      yield { n: n * 2 };
    });
    const label = transformer(async function* label(row: { n: number }) {
      yield { label: `#${row.n}` };
    });
    const chained = numbers.pipe(double).pipe(label);
    expect(chained.isTransformer).toBe(true);
    expect(chained.parent?.name).toBe("double");
    const { package: pkg, itemCounts } = await extract(fixture, [chained]);
    expect(itemCounts).toEqual({ label: 2 });
    expect(items(pkg, "label")).toEqual([{ label: "#2" }, { label: "#4" }]);
    // the unbound transformer is unchanged
    expect(double.parent).toBeUndefined();
  });

  it("should take plain data as dataFrom, feeding its items one by one", async () => {
    const t = transformer((id: number) => ({ id, sq: id * id }), { name: "squares", dataFrom: [1, 2, 3] });
    const { package: pkg } = await extract(fixture, [t]);
    expect(items(pkg, "squares")).toEqual([
      { id: 1, sq: 1 },
      { id: 2, sq: 4 },
      { id: 3, sq: 9 },
    ]);
  });

  it("should pass bound arguments after the items", async () => {
    const t = transformer(
      function* tag(issue: Issue, prefix: string) {
        yield { tag: `${prefix}${issue.number}` };
      },
      { dataFrom: [{ number: 7 }] },
    ).bind("gh-");
    expect(items((await extract(fixture, [t])).package, "tag")).toEqual([{ tag: "gh-7" }]);
  });

  it("should explain how to bind a transformer without a parent", async () => {
    const t = transformer(function* orphan(x: unknown) {
      yield x;
    });
    const error = await rejection(extract(fixture, [t]));
    expect(isTsdltError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(error.message).toMatch(
      /Transformer `orphan` has no parent resource. Give it `dataFrom` or pipe a resource into it: `parent.pipe\(orphan\)`/,
    );
    expect(() => transformer(resource([], { name: "x" }) as never)).toThrow(
      /pass the parent resource as `dataFrom`/,
    );
    expect(() => resource([], { name: "x" }).pipe(resource([], { name: "y" }))).toThrow(
      /`y` is not a transformer/,
    );
  });

  it("should name the failing transformer and commit nothing", async () => {
    const t = transformer(
      function* broken() {
        yield { ok: 1 };
        throw new Error("comments API down");
      },
      { dataFrom: [{ id: 1 }] },
    );
    const error = await rejection(extract(fixture, [t]));
    expect(isTsdltError(error, "EXTRACT_RESOURCE_FAILED")).toBe(true);
    expect(error.message).toBe("Transformer `broken` failed while it was extracted: comments API down");
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should reject two different resources with the same name", async () => {
    const error = await rejection(
      extract(fixture, [resource([{ a: 1 }], { name: "x" }), resource([{ b: 1 }], { name: "x" })]),
    );
    expect(error.message).toMatch(/Two resources are named `x`/);
  });

  it("should warn that a limit on a transformer has no effect", async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) };
    const t = transformer((x: { id: number }) => x, { name: "t", dataFrom: [{ id: 1 }, { id: 2 }] }).addLimit(
      1,
    );
    const { itemCounts } = await extract(fixture, [t], { logger });
    expect(itemCounts.t).toBe(2);
    expect(warnings).toEqual([expect.stringMatching(/Transformer `t` has a limit, which has no effect/)]);
  });
});

describe("concurrency: defer, async transformers, parallelized resources", () => {
  function tracker(): { run<T>(fn: () => Promise<T>): Promise<T>; max: () => number } {
    let active = 0;
    let max = 0;
    return {
      async run(fn) {
        active++;
        max = Math.max(max, active);
        try {
          return await fn();
        } finally {
          active--;
        }
      },
      max: () => max,
    };
  }

  it("should run deferred calls concurrently, at most maxParallelItems at a time", async () => {
    const t = tracker();
    const fetchDetail = defer((id: number) =>
      t.run(async () => {
        await sleep(5);
        return { id, detail: `d${id}` };
      }),
    );
    const deferred = fetchDetail(0);
    expect(isDeferred(deferred)).toBe(true);
    const res = resource(function* details() {
      for (let id = 1; id <= 12; id++) yield fetchDetail(id);
    });
    const { package: pkg } = await extract(fixture, [res], { maxParallelItems: 4 });
    const got = items(pkg, "details") as { id: number }[];
    expect(got.map((r) => r.id).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(t.max()).toBe(4);
  });

  it("should run async and deferred transformer calls concurrently within the bound", async () => {
    const t = tracker();
    const ids = resource(function* ids() {
      for (let id = 1; id <= 10; id++) yield { id };
    }).withSelected(false);
    const asyncT = transformer(
      async (item: { id: number }) =>
        t.run(async () => {
          await sleep(3);
          return { id: item.id, via: "async" };
        }),
      { name: "via_async", dataFrom: ids },
    );
    const { itemCounts } = await extract(fixture, [ids, asyncT], { maxParallelItems: 3 });
    expect(itemCounts.via_async).toBe(10);
    expect(t.max()).toBe(3);

    const t2 = tracker();
    const deferredT = transformer(
      defer((item: { id: number }) => t2.run(async () => [{ id: item.id }, { id: item.id + 100 }])),
      { name: "via_defer", dataFrom: ids },
    );
    const second = await extract(fixture, [deferredT], { maxParallelItems: 2 });
    expect(second.itemCounts.via_defer).toBe(20);
    expect(t2.max()).toBeLessThanOrEqual(2);
  });

  it("should await promises a generator yields", async () => {
    const res = resource(function* promised() {
      yield Promise.resolve({ id: 1 });
      yield sleep(2).then(() => [{ id: 2 }, { id: 3 }]);
    });
    const { package: pkg } = await extract(fixture, [res]);
    expect((items(pkg, "promised") as { id: number }[]).map((r) => r.id).sort()).toEqual([1, 2, 3]);
  });

  it("should stop and name the resource when deferred work fails, letting other work settle", async () => {
    let settled = 0;
    const work = defer(async (id: number) => {
      await sleep(id === 3 ? 1 : 10);
      settled++;
      if (id === 3) throw new Error(`detail ${id} failed`);
      return { id };
    });
    const res = resource(function* details() {
      for (let id = 1; id <= 6; id++) yield work(id);
    });
    const error = await rejection(extract(fixture, [res], { maxParallelItems: 3 }));
    expect(error).toBeInstanceOf(ExtractError);
    expect(error.message).toBe("Resource `details` failed while it was extracted: detail 3 failed");
    expect(settled).toBeLessThanOrEqual(4);
    expect(storageLeftovers(fixture)).toEqual([]);
  });

  it("should run parallelized resources side by side and others one after another", async () => {
    const order: string[] = [];
    const make = (name: string, parallelized: boolean): DltResource =>
      resource(
        async function* gen() {
          for (let i = 0; i < 3; i++) {
            await sleep(2);
            order.push(`${name}${i}`);
            yield { name, i };
          }
        },
        { name, parallelized },
      );
    await extract(fixture, [make("a", true), make("b", true)], { nextItemMode: "fifo" });
    expect(order.slice(0, 2).sort()).toEqual(["a0", "b0"]);
    order.length = 0;
    await extract(fixture, [make("a", false), make("b", false)], { nextItemMode: "fifo" });
    expect(order).toEqual(["a0", "a1", "a2", "b0", "b1", "b2"]);
  });

  // issue 12: dlt's default `next_item_mode` is round_robin: independent resources are pulled side by side
  it("should pull resources side by side in round_robin mode (the default)", async () => {
    const order: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const make = (name: string): DltResource =>
      resource(
        async function* gen() {
          for (let i = 0; i < 3; i++) {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await sleep(5);
            inFlight--;
            order.push(`${name}${i}`);
            yield { name, i };
          }
        },
        { name },
      );
    const result = await extract(fixture, [make("a"), make("b"), make("c")]);
    expect(maxInFlight).toBe(3);
    expect(order.slice(0, 3).sort()).toEqual(["a0", "b0", "c0"]);
    expect(result.itemCounts).toEqual({ a: 3, b: 3, c: 3 });
    expect(result.resourceNames).toEqual(["a", "b", "c"]);
    order.length = 0;
    maxInFlight = 0;
    // at most `maxParallelItems` resources at a time, started in order
    await extract(fixture, [make("a"), make("b"), make("c")], { maxParallelItems: 2 });
    expect(maxInFlight).toBe(2);
    expect(order.slice(0, 2).sort()).toEqual(["a0", "b0"]);
    expect(order.indexOf("c0")).toBeGreaterThan(order.indexOf("a2"));
  });
});
