import { ExtractError, isTsdltError, WRITE_DISPOSITIONS } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { DltResource, encodeItems, isResource, resource } from "../src/index.js";

async function collect(res: DltResource): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const page of res.pages()) out.push(page);
  return out;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

describe("resource()", () => {
  it("should name a resource after its generator function, else `content`", () => {
    expect(resource(function* users() {}).name).toBe("users");
    expect(resource([{ id: 1 }]).name).toBe("content");
    expect(resource([{ id: 1 }], { name: "explicit" }).name).toBe("explicit");
  });

  it("should reject an empty name", () => {
    const error = thrown(() => resource([], { name: "  " }));
    expect(isTsdltError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(error.message).toMatch(/non-empty `name`/);
  });

  it.each(["upsert", "MERGE", ""])("should reject writeDisposition %j", (value) => {
    const error = thrown(() => resource([], { name: "r", writeDisposition: value as never }));
    expect(error).toBeInstanceOf(ExtractError);
    expect(isTsdltError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(error.message).toContain("`r`");
    expect(error.message).toContain(JSON.stringify(value));
    for (const d of WRITE_DISPOSITIONS) expect(error.message).toContain(d);
  });

  it("should reject an invalid writeDisposition given through applyHints", () => {
    const res = resource([], { name: "r" });
    expect(
      isTsdltError(
        thrown(() => res.applyHints({ writeDisposition: "nope" as never })),
        "INVALID_ARGUMENT",
      ),
    ).toBe(true);
  });

  it.each(WRITE_DISPOSITIONS)("should accept writeDisposition %s", (d) => {
    expect(resource([], { name: "r", writeDisposition: d }).hints.writeDisposition).toBe(d);
  });

  it("should keep hints frozen and select by default", () => {
    const res = resource([], { name: "r", primaryKey: "id", selected: undefined });
    expect(res.selected).toBe(true);
    expect(Object.isFrozen(res.hints)).toBe(true);
    expect(res.hints).toEqual({ primaryKey: "id" });
    expect("name" in res.hints).toBe(false);
    expect(resource([], { selected: false }).selected).toBe(false);
  });

  it("should copy with applyHints and withName, leaving the original unchanged", () => {
    const res = resource([{ id: 1 }], { name: "r", primaryKey: "id", selected: false });
    const hinted = res.applyHints({ writeDisposition: "merge", primaryKey: undefined });
    expect(hinted).not.toBe(res);
    expect(hinted.name).toBe("r");
    expect(hinted.selected).toBe(false);
    expect(hinted.hints).toEqual({ primaryKey: "id", writeDisposition: "merge" });
    expect(res.hints).toEqual({ primaryKey: "id" });

    const renamed = res.withName("other");
    expect(renamed.name).toBe("other");
    expect(renamed.hints).toEqual({ primaryKey: "id" });
    expect(res.name).toBe("r");
  });

  it("should re-hint an existing resource when passed to resource()", () => {
    const base = resource([{ id: 1 }], { name: "r" });
    const hinted = resource(base, { writeDisposition: "replace" });
    expect(hinted.name).toBe("r");
    expect(hinted.hints.writeDisposition).toBe("replace");
    const renamed = resource(base, { name: "s", tableName: "t" });
    expect(renamed.name).toBe("s");
    expect(renamed.hints.tableName).toBe("t");
  });

  it("should recognise resources, also by brand", () => {
    const res = resource([]);
    expect(isResource(res)).toBe(true);
    expect(res).toBeInstanceOf(DltResource);
    const foreign = Object.defineProperty({}, Symbol.for("tsdlt.resource"), { value: true });
    expect(isResource(foreign)).toBe(true);
    expect(isResource({ name: "x" })).toBe(false);
    expect(isResource(null)).toBe(false);
  });
});

describe("DltResource.pages()", () => {
  it("should page a large array in chunks of 1000", async () => {
    const data = Array.from({ length: 2500 }, (_, i) => ({ id: i }));
    const pages = await collect(resource(data, { name: "big" }));
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500]);
    expect(pages.flat()).toEqual(data);
  });

  it("should yield nested arrays of an array as their own pages", async () => {
    const pages = await collect(resource([{ id: 1 }, [{ id: 2 }, { id: 3 }], { id: 4 }], { name: "r" }));
    expect(pages).toEqual([[{ id: 1 }], [{ id: 2 }, { id: 3 }], [{ id: 4 }]]);
  });

  it("should wrap single items from generators into one-item pages", async () => {
    const pages = await collect(
      resource(
        function* g() {
          yield 1;
          yield [2, 3];
        },
        { name: "r" },
      ),
    );
    expect(pages).toEqual([[1], [2, 3]]);
  });

  it("should yield nothing for null or undefined from a function", async () => {
    expect(await collect(resource(() => Promise.resolve(null), { name: "r" }))).toEqual([]);
    expect(await collect(resource(() => Promise.resolve(undefined), { name: "r" }))).toEqual([]);
  });

  it("should yield a single object as one page", async () => {
    expect(await collect(resource({ id: 1 }, { name: "r" }))).toEqual([[{ id: 1 }]]);
  });

  it("should allow iterating an async generator object once only", async () => {
    async function* gen(): AsyncGenerator<unknown> {
      yield { id: 1 };
    }
    const res = resource(gen(), { name: "once" });
    expect(await collect(res)).toEqual([[{ id: 1 }]]);
    await expect(collect(res)).rejects.toThrow(/already iterated/);
  });

  it("should allow iterating an array iterator once only", async () => {
    const res = resource([1, 2].values(), { name: "once" });
    expect(await collect(res)).toEqual([[1], [2]]);
    await expect(collect(res)).rejects.toThrow(/already iterated/);
  });

  it("should iterate a generator function on every call", async () => {
    const res = resource(function* g() {
      yield 1;
    });
    expect(await collect(res)).toEqual([[1]]);
    expect(await collect(res)).toEqual([[1]]);
  });
});

describe("encodeItems()", () => {
  it("should encode a batch as one typed-JSON array without newlines", () => {
    const line = encodeItems([{ a: "x\ny", d: new Date("2024-01-01T00:00:00Z") }, { b: 1n }], "t", "r");
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual([{ a: "x\ny", d: "\uF0272024-01-01T00:00:00.000Z" }, { b: "\uF02E1" }]);
  });

  it("should name table, resource and path of an unstorable value", () => {
    const error = thrown(() => encodeItems([{ ok: 1 }, { x: [0, { f: Symbol("s") }] }], "tbl", "res"));
    expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
    expect((error as ExtractError).table).toBe("tbl");
    expect((error as ExtractError).path).toBe("x.1.f");
    expect(error.message).toContain("`res`");
    expect(error.message).toContain("`tbl`");
    expect(error.message).toContain("`x.1.f`");
  });

  it("should report other serialization failures without a path", () => {
    const error = thrown(() =>
      encodeItems(
        [
          {
            toJSON() {
              throw new Error("custom toJSON failed");
            },
          },
        ],
        "tbl",
        "res",
      ),
    );
    expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
    expect(error.message).toContain("custom toJSON failed");
    expect((error as ExtractError).path).toBeUndefined();
  });
});

describe("DltResource steps", () => {
  const numbers = (): DltResource =>
    resource(function* numbers() {
      yield [{ n: 1 }, { n: 2 }];
      yield { n: 3 };
    });

  it("should map, filter and yield-map items in the order added, leaving the original unchanged", async () => {
    const base = numbers();
    const stepped = base
      .addMap((item: { n: number }) => ({ n: item.n * 10 }))
      .addFilter(async (item: { n: number }) => item.n !== 20)
      .addYieldMap(function* (item: { n: number }) {
        yield item;
        yield { n: item.n + 1 };
      });
    expect(await collect(stepped)).toEqual([
      [{ n: 10 }, { n: 11 }],
      [{ n: 30 }, { n: 31 }],
    ]);
    expect(await collect(base)).toEqual([[{ n: 1 }, { n: 2 }], [{ n: 3 }]]);
  });

  it("should drop items mapped to undefined and accept async maps and array yield-maps", async () => {
    const res = numbers()
      .addMap(async (item: { n: number }) => (item.n === 2 ? undefined : item))
      .addYieldMap((item: { n: number }) => [item, item]);
    expect((await collect(res)).flat()).toEqual([{ n: 1 }, { n: 1 }, { n: 3 }, { n: 3 }]);
  });

  it("should pipe into functions: generator functions yield-map, others map", async () => {
    const piped = numbers()
      .pipe((item: { n: number }) => ({ m: item.n }))
      .pipe(async function* (item: { m: number }) {
        yield { m: item.m, twice: item.m * 2 };
      });
    expect((await collect(piped)).flat()).toEqual([
      { m: 1, twice: 2 },
      { m: 2, twice: 4 },
      { m: 3, twice: 6 },
    ]);
  });

  it("should keep only items routed to the selected tables", async () => {
    const res = resource(
      [
        { id: 1, kind: "a" },
        { id: 2, kind: "b" },
        { id: 3, kind: "c" },
      ],
      { name: "mixed", tableName: (item) => String(item.kind) },
    ).selectTables("a", "c");
    expect((await collect(res)).flat()).toEqual([
      { id: 1, kind: "a" },
      { id: 3, kind: "c" },
    ]);
    expect(await collect(resource([{ id: 1 }], { name: "static" }).selectTables("other"))).toEqual([]);
  });
});

describe("DltResource.addLimit()", () => {
  function counter(): { res: DltResource; pulled: () => number; closed: () => boolean } {
    let pulled = 0;
    let closed = false;
    const res = resource(function* endless() {
      try {
        for (let i = 0; ; i++) {
          pulled++;
          yield i % 2 === 0 ? { i } : [{ i }, { i: i + 0.5 }];
        }
      } finally {
        closed = true;
      }
    });
    return { res, pulled: () => pulled, closed: () => closed };
  }

  it("should count yields (pages), emit the one reaching the limit and close the generator", async () => {
    const c = counter();
    const pages = await collect(c.res.addLimit(3));
    expect(pages).toEqual([[{ i: 0 }], [{ i: 1 }, { i: 1.5 }], [{ i: 2 }]]);
    expect(c.pulled()).toBe(3);
    expect(c.closed()).toBe(true);
  });

  it("should count rows with countRows without trimming the last page", async () => {
    const c = counter();
    expect((await collect(c.res.addLimit({ maxItems: 2, countRows: true }))).flat()).toEqual([
      { i: 0 },
      { i: 1 },
      { i: 1.5 },
    ]);
  });

  it("should extract nothing with 0 and stop after maxTime seconds", async () => {
    const zero = counter();
    expect(await collect(zero.res.addLimit(0))).toEqual([]);
    expect(zero.pulled()).toBe(0);
    const slow = resource(async function* slow() {
      for (let i = 0; ; i++) {
        await new Promise((r) => setTimeout(r, 5));
        yield { i };
      }
    }).addLimit({ maxTime: 0.05 });
    const pages = await collect(slow);
    expect(pages.length).toBeGreaterThan(0);
    expect(pages.length).toBeLessThan(50);
  });

  it("should count the items of an array given directly", async () => {
    const res = resource(
      Array.from({ length: 10 }, (_, i) => ({ i })),
      { name: "arr" },
    ).addLimit(4);
    expect((await collect(res)).flat()).toHaveLength(4);
  });

  it("should validate the limit and replace an earlier one", () => {
    expect(() => resource([], { name: "r" }).addLimit(-1)).toThrow(/addLimit maxItems must be a number >= 0/);
    expect(resource([], { name: "r" }).addLimit(5).addLimit({ maxTime: 1 }).limit).toEqual({ maxTime: 1 });
  });
});

describe("DltResource.applyHints(), bind() and data checks", () => {
  it("should remove hints given as empty values and merge columns", () => {
    const res = resource([], {
      name: "r",
      primaryKey: "id",
      tableName: "t",
      columns: { a: { data_type: "text" }, b: { data_type: "bigint" } },
    });
    const hinted = res.applyHints({
      primaryKey: [],
      columns: [
        { name: "b", nullable: false },
        { name: "c", data_type: "bool" },
      ],
    });
    expect(hinted.hints).toEqual({
      tableName: "t",
      columns: {
        a: { data_type: "text" },
        b: { name: "b", data_type: "bigint", nullable: false },
        c: { name: "c", data_type: "bool" },
      },
    });
    expect(hinted.applyHints({ tableName: "", columns: {} }).hints).toEqual({});
  });

  it("should replace the incremental through applyHints and expose hint getters", async () => {
    const { incremental } = await import("../src/index.js");
    const inc = incremental("id");
    const res = resource([], { name: "r", writeDisposition: { disposition: "merge", strategy: "upsert" } });
    expect(res.applyHints({ incremental: inc }).incremental).toBe(inc);
    expect(res.writeDisposition).toBe("merge");
    expect(res.tableName).toBe("r");
    expect(res.isTransformer).toBe(false);
  });

  it("should call a resource function with bound arguments once", async () => {
    const res = resource(function* greet(name: string, times: number) {
      for (let i = 0; i < times; i++) yield { name, i };
    });
    expect((await collect(res.bind("ann", 2))).flat()).toEqual([
      { name: "ann", i: 0 },
      { name: "ann", i: 1 },
    ]);
    expect(() => res.bind("a", 1).bind("b", 2)).toThrow(/already parametrized/);
    expect(() => resource([{ id: 1 }], { name: "data" }).bind(1)).toThrow(/wraps data, not a function/);
  });

  it.each([
    ["a string", "id,name\n1,a", /was given a string .*If it is JSON text, parse it first/],
    ["a number", 42, /was given a number \(42\)/],
    ["a boolean", true, /was given a boolean/],
  ])("should reject %s as resource data", (_label, data, message) => {
    const error = thrown(() => resource(data as never, { name: "bad" }));
    expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
    expect(error.message).toContain("Resource `bad`");
    expect(error.message).toMatch(message);
  });

  it("should reject a function returning a scalar when it runs", async () => {
    const res = resource(async function text() {
      return '[{"id":1}]';
    });
    const error = await collect(res).then(
      () => new Error("resolved"),
      (e: Error) => e,
    );
    expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
    expect(error.message).toMatch(
      /Resource `text` returned a string .*parse it first \(e\.g\. `await response\.json\(\)`\)/,
    );
  });

  it("should report exhausted generator objects", async () => {
    function* gen(): Generator<unknown> {
      yield { id: 1 };
    }
    const res = resource(gen(), { name: "once" });
    expect(res.exhausted).toBe(false);
    await collect(res);
    expect(res.exhausted).toBe(true);
    expect(resource([1], { name: "arr" }).exhausted).toBe(false);
  });
});

describe("writeDisposition object form validation", () => {
  it.each([
    [
      { disposition: "merge", strategy: "scd3" },
      /writeDisposition.strategy "scd3"; expected one of "delete-insert", "upsert", "scd2", "insert-only"/,
    ],
    [{ disposition: "upsert" }, /writeDisposition.disposition "upsert"/],
    [
      { disposition: "replace", strategy: "swap" },
      /expected one of "truncate-and-insert", "insert-from-staging", "staging-optimized"/,
    ],
    [
      { disposition: "merge", strategy: "scd2", validityColumnNames: ["only_one"] },
      /validityColumnNames that are not two column names/,
    ],
    [
      { disposition: "merge", strategy: "scd2", boundaryTimestamp: "not a date" },
      /boundaryTimestamp "not a date", which is not a date/,
    ],
    [
      { disposition: "merge", strategy: "scd2", activeRecordTimestamp: "31.12.9999x" },
      /activeRecordTimestamp/,
    ],
  ])("should reject %j naming the resource", (wd, message) => {
    const error = thrown(() => resource([], { name: "r", writeDisposition: wd as never }));
    expect(isTsdltError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(error.message).toContain("Resource `r`");
    expect(error.message).toMatch(message);
  });

  it("should reject bad keys, nesting and table names", () => {
    expect(() => resource([], { name: "r", primaryKey: [""] })).toThrow(/primaryKey \[""\]/);
    expect(() => resource([], { name: "r", maxTableNesting: -1 })).toThrow(/maxTableNesting -1/);
    expect(() => resource([], { name: "r", tableName: " " })).toThrow(/empty tableName/);
  });
});
