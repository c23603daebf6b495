import {
  ExtractError,
  isTsdltError,
  type Logger,
  newPipelineState,
  pipelineStateRow,
  type SourceState,
} from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_UNIQUE_HASHES,
  type DltResource,
  Incremental,
  type IncrementalColumnState,
  incremental,
  resource,
  transformer,
} from "../src/index.js";
import { extract, items, rejection, storedSchema, useFixture } from "./helpers.js";

const fixture = useFixture();

type Row = Record<string, unknown>;

/** Extracts `resources` with `sources` as the state (source `s`) and returns the rows of `table`. */
async function runOnce(
  resources: DltResource[],
  sources: Record<string, SourceState>,
  table = resources[0]?.name ?? "",
  logger?: Logger,
): Promise<Row[]> {
  const result = await extract(fixture, resources, { sources, ...(logger ? { logger } : {}) });
  return items(result.package, table) as Row[];
}

function cursorState(
  sources: Record<string, SourceState>,
  resourceName: string,
  cursor: string,
): IncrementalColumnState {
  const inc = sources.s?.resources?.[resourceName]?.incremental as Record<string, IncrementalColumnState>;
  return inc[cursor] as IncrementalColumnState;
}

function collectingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m), warnings };
}

describe("incremental(): construction", () => {
  it("should validate its options with messages naming the cursor", () => {
    expect(() => incremental("")).toThrow(/non-empty cursor path/);
    expect(() => incremental("a..b[")).toThrow(/cannot be parsed/);
    expect(() => incremental("id", { lastValueFunc: "median" as never })).toThrow(
      /Incremental `id`: lastValueFunc "median" is invalid/,
    );
    expect(() => incremental("id", { endValue: 10 })).toThrow(/endValue needs initialValue/);
    expect(() => incremental("id", { initialValue: 10, endValue: 5 })).toThrow(/lies before initialValue/);
    expect(() => incremental("id", { initialValue: 10, endValue: 5, lastValueFunc: "min" })).not.toThrow();
    expect(() => incremental("id", { onCursorValueMissing: "skip" as never })).toThrow(
      /raise, include, exclude/,
    );
    expect(() => incremental("id", { lag: -1 })).toThrow(/lag must be a number >= 0/);
    expect(() => incremental("id", { rangeStart: "half" as never })).toThrow(/rangeStart "half"/);
    expect(() => incremental("id", { maxUniqueHashes: 1.5 })).toThrow(/maxUniqueHashes/);
    expect(() => incremental("id", { rowOrder: "up" as never })).toThrow(/rowOrder "up"/);
  });

  it("should be unbound outside a resource and report initialValue", () => {
    const inc = incremental("updated_at", { initialValue: "2024-01-01" });
    expect(inc).toBeInstanceOf(Incremental);
    expect(inc.isBound).toBe(false);
    expect(inc.lastValue).toBe("2024-01-01");
    expect(inc.startValue).toBe("2024-01-01");
    expect(inc.cursorColumn).toBe("updated_at");
    expect(incremental("user.updated_at").cursorColumn).toBeUndefined();
  });
});

describe("incremental: binding", () => {
  it("should bind as a default parameter and read lastValue from state on the next run", async () => {
    const seen: unknown[] = [];
    let data = [
      { id: 1, updated_at: 10 },
      { id: 2, updated_at: 20 },
    ];
    const res = resource(
      function* events(updatedAt = incremental("updated_at", { initialValue: 0 })) {
        seen.push([updatedAt.isBound, updatedAt.startValue, updatedAt.lastValue]);
        yield data;
        seen.push(["after", updatedAt.lastValue]);
      },
      { primaryKey: "id" },
    );
    const sources: Record<string, SourceState> = {};
    expect(await runOnce([res], sources)).toHaveLength(2);
    expect(seen).toEqual([
      [true, 0, 0],
      ["after", 20],
    ]);
    expect(cursorState(sources, "events", "updated_at")).toMatchObject({
      initial_value: 0,
      last_value: 20,
      unique_hashes: [expect.any(String)],
    });

    seen.length = 0;
    data = [
      { id: 2, updated_at: 20 },
      { id: 3, updated_at: 30 },
    ];
    expect(await runOnce([res], sources)).toEqual([{ id: 3, updated_at: 30 }]);
    expect(seen[0]).toEqual([true, 20, 20]);
  });

  it("should bind an async generator's default parameter, before its body runs", async () => {
    const sources: Record<string, SourceState> = { s: { resources: { pages: { incremental: {} } } } };
    (sources.s?.resources?.pages?.incremental as Record<string, unknown>).created_at = {
      initial_value: "2024-01-01T00:00:00Z",
      last_value: "2024-03-01T00:00:00Z",
      unique_hashes: [],
    };
    const since: unknown[] = [];
    const res = resource(async function* pages(
      createdAt = incremental("created_at", { initialValue: "2024-01-01T00:00:00Z" }),
    ) {
      since.push(createdAt.lastValue);
      await Promise.resolve();
      yield [
        { id: 1, created_at: "2024-02-01T00:00:00Z" },
        { id: 2, created_at: "2024-04-01T00:00:00Z" },
      ];
    });
    expect(await runOnce([res], sources)).toEqual([{ id: 2, created_at: "2024-04-01T00:00:00Z" }]);
    expect(since).toEqual(["2024-03-01T00:00:00Z"]);
  });

  it("should work as a resource option and take precedence over a default parameter", async () => {
    const option = incremental("id", { initialValue: 2 });
    const seen: string[] = [];
    const res = resource(
      function* numbers(inc = incremental("other", { initialValue: 100 })) {
        seen.push(inc.cursorPath);
        yield [{ id: 1 }, { id: 2 }, { id: 3 }];
      },
      { incremental: option },
    );
    const sources: Record<string, SourceState> = {};
    expect(await runOnce([res], sources)).toEqual([{ id: 2 }, { id: 3 }]);
    expect(seen).toEqual(["id"]);
    // the option instance is a template: each run binds a copy
    expect(option.isBound).toBe(false);
    expect(cursorState(sources, "numbers", "id").last_value).toBe(3);
  });

  it("should bind an incremental created in the generator body and one passed with bind()", async () => {
    const body = resource(function* body() {
      const inc = incremental("n", { initialValue: 5 });
      yield [{ n: 4 }, { n: 6 }];
      expect(inc.lastValue).toBe(6);
    });
    expect(await runOnce([body], {})).toEqual([{ n: 6 }]);

    const parametrized = resource(function* param(inc: Incremental<number>) {
      expect(inc.isBound).toBe(true);
      yield [{ n: 1 }, { n: 9 }];
    }).bind(incremental("n", { initialValue: 3 }));
    expect(await runOnce([parametrized], {})).toEqual([{ n: 9 }]);
  });

  it("should reject a second incremental with another cursor in one resource", async () => {
    const res = resource(function* two(a = incremental("a"), b = incremental("b")) {
      yield { a: 1, b: 2, used: [a, b].length };
    });
    const error = await rejection(extract(fixture, [res]));
    expect(error).toBeInstanceOf(ExtractError);
    expect(error.message).toMatch(/Resource `two` declares a second incremental cursor `b` besides `a`/);
  });

  it("should hint the cursor column with incremental: true", async () => {
    const res = resource(function* hinted(at = incremental("Updated At")) {
      yield { id: 1, "Updated At": at.lastValue ?? 1 };
    });
    const { package: pkg } = await extract(fixture, [res]);
    expect(storedSchema(pkg).tables.hinted?.columns.updated_at).toEqual({
      name: "updated_at",
      incremental: true,
    });
    // nested paths map to no single column: no hint
    const nested = resource([{ id: 1, user: { at: 1 } }], {
      name: "nested",
      incremental: incremental("user.at"),
    });
    const second = await extract(fixture, [nested]);
    expect(Object.keys(storedSchema(second.package).tables.nested?.columns ?? {})).toEqual([]);
  });

  it("should let transformers declare an incremental per call and keep one cursor", async () => {
    const parent = resource(function* parent() {
      yield { id: 1 };
      yield { id: 2 };
    });
    const child = transformer(
      function* child(item: { id: number }, at = incremental("at", { initialValue: 15 })) {
        yield { id: item.id, at: item.id * 10 + (at.isBound ? 0 : 1000) };
        yield { id: item.id + 100, at: item.id * 20 };
      },
      { dataFrom: parent, selected: true },
    );
    const sources: Record<string, SourceState> = {};
    const rows = await runOnce([parent.withSelected(false), child], sources, "child");
    expect(rows).toEqual([
      { id: 101, at: 20 },
      { id: 2, at: 20 },
      { id: 102, at: 40 },
    ]);
    expect(cursorState(sources, "child", "at").last_value).toBe(40);
  });
});

describe("incremental: per-row filtering (REFERENCE §5.3)", () => {
  const rows = (...values: (number | null | undefined)[]): Row[] =>
    values.map((v, i) => (v === undefined ? { id: i } : { id: i, c: v }));

  it("should keep rows >= start, drop older ones, and move last_value forward", async () => {
    const sources: Record<string, SourceState> = {};
    const res = resource(rows(5, 3, 7, 5, 2), {
      name: "r",
      incremental: incremental("c", { initialValue: 4 }),
    });
    expect((await runOnce([res], sources)).map((r) => r.c)).toEqual([5, 7, 5]);
    const state = cursorState(sources, "r", "c");
    expect(state.last_value).toBe(7);
    expect(state.initial_value).toBe(4);
    expect(state.start_value).toBe(4);
    expect(state.unique_hashes).toHaveLength(1);
  });

  it("should read rows equal to the last value again and drop those already loaded (dedup)", async () => {
    const sources: Record<string, SourceState> = {};
    const inc = incremental("c", { initialValue: 0 });
    const first = resource(
      [
        { id: 1, c: 10 },
        { id: 2, c: 10 },
      ],
      { name: "r", incremental: inc, primaryKey: "id" },
    );
    await runOnce([first], sources);
    expect(cursorState(sources, "r", "c").unique_hashes).toHaveLength(2);
    const second = resource(
      [
        { id: 1, c: 10 },
        { id: 2, c: 10 },
        { id: 3, c: 10 },
        { id: 4, c: 9 },
      ],
      { name: "r", incremental: inc, primaryKey: "id" },
    );
    expect(await runOnce([second], sources)).toEqual([{ id: 3, c: 10 }]);
    // the value did not move: the hashes of run 1 are kept and id 3 is added
    expect(cursorState(sources, "r", "c").unique_hashes).toHaveLength(3);
    const third = resource(
      [
        { id: 3, c: 10 },
        { id: 5, c: 11 },
      ],
      {
        name: "r",
        incremental: inc,
        primaryKey: "id",
      },
    );
    expect(await runOnce([third], sources)).toEqual([{ id: 5, c: 11 }]);
    expect(cursorState(sources, "r", "c").unique_hashes).toHaveLength(1);
  });

  it("should hash whole rows without a primary key, and not deduplicate with primaryKey []", async () => {
    const whole: Record<string, SourceState> = {};
    const data = [
      { id: 1, c: 1, v: "a" },
      { id: 1, c: 1, v: "b" },
    ];
    const byRow = (d: Row[]) => resource(d, { name: "r", incremental: incremental("c") });
    await runOnce([byRow(data)], whole);
    expect(
      await runOnce(
        [
          byRow([
            { id: 1, c: 1, v: "b" },
            { id: 1, c: 1, v: "c" },
          ]),
        ],
        whole,
      ),
    ).toEqual([{ id: 1, c: 1, v: "c" }]);
    const none: Record<string, SourceState> = {};
    const noDedup = (d: Row[]) =>
      resource(d, { name: "r", incremental: incremental("c", { primaryKey: [] }) });
    await runOnce([noDedup(data)], none);
    expect(await runOnce([noDedup(data)], none)).toHaveLength(2);
    expect(cursorState(none, "r", "c").unique_hashes).toEqual([]);
  });

  it("should use the incremental's primaryKey over the resource's", async () => {
    const sources: Record<string, SourceState> = {};
    const make = (d: Row[]) =>
      resource(d, { name: "r", primaryKey: "id", incremental: incremental("c", { primaryKey: "k" }) });
    await runOnce([make([{ id: 1, k: "x", c: 1 }])], sources);
    // same id, other k: not a duplicate by the incremental's key
    expect(await runOnce([make([{ id: 1, k: "y", c: 1 }])], sources)).toEqual([{ id: 1, k: "y", c: 1 }]);
  });

  it("should drop rows at or beyond endValue (open) and keep endValue with rangeEnd closed, without state", async () => {
    const sources: Record<string, SourceState> = {};
    const open = resource(rows(1, 5, 9, 10, 11), {
      name: "r",
      incremental: incremental("c", { initialValue: 5, endValue: 10 }),
    });
    expect((await runOnce([open], sources)).map((r) => r.c)).toEqual([5, 9]);
    expect(sources.s?.resources?.r).toBeUndefined();
    const closed = resource(rows(1, 5, 9, 10, 11), {
      name: "r",
      incremental: incremental("c", { initialValue: 5, endValue: 10, rangeEnd: "closed" }),
    });
    expect((await runOnce([closed], sources)).map((r) => r.c)).toEqual([5, 9, 10]);
    expect(sources.s?.resources?.r).toBeUndefined();
  });

  it("should exclude rows equal to the start with rangeStart open (no dedup state)", async () => {
    const sources: Record<string, SourceState> = {};
    const res = resource(rows(4, 5, 6, 6), {
      name: "r",
      incremental: incremental("c", { initialValue: 5, rangeStart: "open" }),
    });
    expect((await runOnce([res], sources)).map((r) => r.c)).toEqual([6, 6]);
    expect(cursorState(sources, "r", "c").unique_hashes).toEqual([]);
  });

  it.each([
    ["raise", undefined],
    ["include", [1, null, undefined, 3]],
    ["exclude", [1, 3]],
  ] as const)(
    "should handle a missing or null cursor with onCursorValueMissing=%s",
    async (mode, expected) => {
      const sources: Record<string, SourceState> = {};
      const res = resource(rows(1, null, undefined, 3), {
        name: "miss",
        tableName: "Things",
        incremental: incremental("c", { onCursorValueMissing: mode }),
      });
      if (expected === undefined) {
        const error = await rejection(extract(fixture, [res], { sources }));
        expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
        expect(error.message).toContain("Resource `miss`");
        expect(error.message).toContain("cursor path `c` holds null");
        expect(error.message).toContain("table `Things`");
        expect(error.message).toMatch(/onCursorValueMissing: "include"/);
        expect((error as ExtractError).path).toBe("c");
        return;
      }
      const got = (await runOnce([res], sources, "things")).map((r) => r.c);
      expect(got).toEqual(expected);
      expect(cursorState(sources, "miss", "c").last_value).toBe(3);
    },
  );

  it("should say when the cursor path is missing (not null)", async () => {
    const res = resource([{ id: 1, user: {} }], { name: "r", incremental: incremental("user.updated_at") });
    const error = await rejection(extract(fixture, [res]));
    expect(error.message).toMatch(/cursor path `user.updated_at` is missing in an item/);
  });

  it("should follow nested cursor paths", async () => {
    const sources: Record<string, SourceState> = {};
    const make = (d: Row[]) =>
      resource(d, { name: "r", primaryKey: "id", incremental: incremental("user.updated_at") });
    await runOnce(
      [
        make([
          { id: 1, user: { updated_at: "2024-01-02" } },
          { id: 2, user: { updated_at: "2024-01-05" } },
        ]),
      ],
      sources,
    );
    expect(cursorState(sources, "r", "user.updated_at").last_value).toBe("2024-01-05");
    expect(
      await runOnce(
        [
          make([
            { id: 2, user: { updated_at: "2024-01-05" } },
            { id: 3, user: { updated_at: "2024-01-04" } },
            { id: 4, user: { updated_at: "2024-01-06" } },
          ]),
        ],
        sources,
      ),
    ).toEqual([{ id: 4, user: { updated_at: "2024-01-06" } }]);
    // bracket and $ forms
    const arr = resource([{ id: 1, tags: [{ at: 3 }] }], {
      name: "a",
      incremental: incremental("$.tags[0].at"),
    });
    expect(await runOnce([arr], {}, "a")).toHaveLength(1);
  });

  it("should compare Dates with each other and with ISO strings", async () => {
    const sources: Record<string, SourceState> = {};
    const res = resource(
      [
        { id: 1, at: new Date("2024-01-01T00:00:00Z") },
        { id: 2, at: new Date("2024-06-01T00:00:00Z") },
      ],
      { name: "r", incremental: incremental<Date | string>("at", { initialValue: "2024-03-01T00:00:00Z" }) },
    );
    expect((await runOnce([res], sources)).map((r) => r.id)).toEqual([2]);
    expect(cursorState(sources, "r", "at").last_value).toEqual(new Date("2024-06-01T00:00:00Z"));
  });

  it("should fail clearly when cursor values cannot be compared", async () => {
    const res = resource([{ id: 1, c: "abc" }], {
      name: "r",
      incremental: incremental("c", { initialValue: 5 }),
    });
    const error = await rejection(extract(fixture, [res]));
    expect(isTsdltError(error, "EXTRACT_INVALID_DATA")).toBe(true);
    expect(error.message).toMatch(
      /Resource `r`: the value "abc" \(string\) at cursor `c` cannot be compared/,
    );
  });

  it("should reject non-object items of an incremental resource", async () => {
    const res = resource(
      function* r() {
        yield 42;
      },
      { incremental: incremental("c") },
    );
    const error = await rejection(extract(fixture, [res]));
    expect(error.message).toMatch(
      /Resource `r` yielded 42 \(number\) as an item, but its incremental cursor `c` needs objects/,
    );
  });
});

describe("incremental: lastValueFunc", () => {
  it("should move down with min", async () => {
    const sources: Record<string, SourceState> = {};
    const make = (d: Row[]) =>
      resource(d, {
        name: "r",
        primaryKey: "id",
        incremental: incremental("c", { initialValue: 100, lastValueFunc: "min" }),
      });
    expect(
      (
        await runOnce(
          [
            make([
              { id: 1, c: 50 },
              { id: 2, c: 150 },
              { id: 3, c: 40 },
            ]),
          ],
          sources,
        )
      ).map((r) => r.id),
    ).toEqual([1, 3]);
    expect(cursorState(sources, "r", "c").last_value).toBe(40);
    expect(
      (
        await runOnce(
          [
            make([
              { id: 3, c: 40 },
              { id: 4, c: 45 },
              { id: 5, c: 10 },
            ]),
          ],
          sources,
        )
      ).map((r) => r.id),
    ).toEqual([5]);
  });

  it("should accept a custom function over a list of values", async () => {
    const sources: Record<string, SourceState> = {};
    // "max" by semantic version, not by string order
    const byVersion = (values: readonly string[]): string =>
      [...values].sort((a, b) => a.localeCompare(b, "en", { numeric: true })).at(-1) as string;
    const make = (d: Row[]) =>
      resource(d, {
        name: "r",
        incremental: incremental("v", { initialValue: "1.2", lastValueFunc: byVersion }),
      });
    const got = await runOnce([make([{ v: "1.10" }, { v: "1.9" }, { v: "1.1" }])], sources);
    expect(got.map((r) => r.v)).toEqual(["1.10", "1.9"]);
    expect(cursorState(sources, "r", "v").last_value).toBe("1.10");
  });
});

describe("incremental: lag (REFERENCE §5.5)", () => {
  it("should start `lag` seconds before the stored ISO timestamp, keep its format, and never move the stored value back", async () => {
    const sources: Record<string, SourceState> = {
      s: {
        resources: {
          r: {
            incremental: {
              at: {
                initial_value: "2024-01-01T00:00:00Z",
                last_value: "2024-01-10T12:00:00Z",
                unique_hashes: [],
              },
            },
          },
        },
      },
    };
    const starts: unknown[] = [];
    const res = resource(function* r(
      at = incremental("at", { initialValue: "2024-01-01T00:00:00Z", lag: 3600 }),
    ) {
      starts.push(at.startValue, at.lastValue);
      yield [
        { id: 1, at: "2024-01-10T10:59:59Z" },
        { id: 2, at: "2024-01-10T11:00:00Z" },
        { id: 3, at: "2024-01-10T11:30:00Z" },
      ];
    });
    expect((await runOnce([res], sources)).map((r) => r.id)).toEqual([2, 3]);
    expect(starts).toEqual(["2024-01-10T11:00:00Z", "2024-01-10T11:00:00Z"]);
    // the stored value stays at the newer stored one
    expect(cursorState(sources, "r", "at").last_value).toBe("2024-01-10T12:00:00Z");
  });

  it("should lag numbers, YYYY-MM-DD dates (days) and Dates, never before initialValue", async () => {
    const stored = (last: unknown, initial: unknown): Record<string, SourceState> => ({
      s: {
        resources: {
          r: { incremental: { c: { initial_value: initial, last_value: last, unique_hashes: [] } } },
        },
      },
    });
    const startOf = async (
      sources: Record<string, SourceState>,
      inc: Incremental<unknown>,
    ): Promise<unknown> => {
      let start: unknown;
      const res = resource(
        function* r(i = incremental("c")) {
          start = i.startValue;
          yield [];
        },
        { incremental: inc },
      );
      await runOnce([res], sources);
      return start;
    };
    expect(await startOf(stored(100, 0), incremental("c", { initialValue: 0, lag: 10 }))).toBe(90);
    expect(await startOf(stored(5, 0), incremental("c", { initialValue: 0, lag: 10 }))).toBe(0);
    expect(
      await startOf(
        stored("2024-03-01", "2024-01-01"),
        incremental("c", { initialValue: "2024-01-01", lag: 2 }),
      ),
    ).toBe("2024-02-28");
    expect(
      await startOf(
        stored(new Date("2024-03-01T00:00:00Z"), new Date("2024-01-01T00:00:00Z")),
        incremental("c", { initialValue: new Date("2024-01-01T00:00:00Z"), lag: 60 }),
      ),
    ).toEqual(new Date("2024-02-29T23:59:00Z"));
    expect(
      await startOf(
        stored("2024-03-01T10:00:00.123456+02:00", "2024-01-01"),
        incremental("c", { initialValue: "2024-01-01", lag: 30 }),
      ),
    ).toBe("2024-03-01T09:59:30.123456+02:00");
    // min moves forward
    expect(
      await startOf(
        stored(100, 1000),
        incremental("c", { initialValue: 1000, lag: 10, lastValueFunc: "min" }),
      ),
    ).toBe(110);
  });

  it("should not deduplicate with lag (the destination merges the re-read window)", async () => {
    const sources: Record<string, SourceState> = {};
    const make = () => resource([{ id: 1, c: 10 }], { name: "r", incremental: incremental("c", { lag: 1 }) });
    await runOnce([make()], sources);
    expect(await runOnce([make()], sources)).toEqual([{ id: 1, c: 10 }]);
  });
});

describe("incremental: rowOrder (REFERENCE §5.6)", () => {
  function counted(values: number[]): {
    res: (inc: Incremental<number>) => DltResource;
    pulled: () => number;
    closed: () => boolean;
  } {
    let pulled = 0;
    let closed = false;
    return {
      res: (inc) =>
        resource(
          function* pages() {
            try {
              for (const c of values) {
                pulled++;
                yield { c };
              }
            } finally {
              closed = true;
            }
          },
          { incremental: inc },
        ),
      pulled: () => pulled,
      closed: () => closed,
    };
  }

  it("should close an ascending generator at the first row past endValue", async () => {
    const gen = counted([1, 2, 3, 4, 5, 6]);
    const got = await runOnce(
      [gen.res(incremental("c", { initialValue: 2, endValue: 4, rowOrder: "asc" }))],
      {},
      "pages",
    );
    expect(got.map((r) => r.c)).toEqual([2, 3]);
    expect(gen.pulled()).toBe(4);
    expect(gen.closed()).toBe(true);
    // without rowOrder everything is read and filtered
    const all = counted([1, 2, 3, 4, 5, 6]);
    await runOnce([all.res(incremental("c", { initialValue: 2, endValue: 4 }))], {}, "pages");
    expect(all.pulled()).toBe(6);
  });

  it("should close a descending generator at the first row before the start", async () => {
    const sources: Record<string, SourceState> = {
      s: {
        resources: { pages: { incremental: { c: { initial_value: 0, last_value: 3, unique_hashes: [] } } } },
      },
    };
    const gen = counted([6, 5, 4, 3, 2, 1]);
    const got = await runOnce(
      [gen.res(incremental("c", { initialValue: 0, rowOrder: "desc" }))],
      sources,
      "pages",
    );
    expect(got.map((r) => r.c)).toEqual([6, 5, 4, 3]);
    expect(gen.pulled()).toBe(5);
    expect(gen.closed()).toBe(true);
    expect(cursorState(sources, "pages", "c").last_value).toBe(6);
  });
});

describe("incremental: bounded boundary deduplication", () => {
  const SHARED = "2024-01-01T00:00:00Z";
  const shared = (from: number, count: number, at = SHARED): Row[] =>
    Array.from({ length: count }, (_, i) => ({ id: from + i, updated_at: at }));

  function stateRowSize(sources: Record<string, SourceState>): { json: number; row: number } {
    const doc = newPipelineState("p");
    doc.sources = sources;
    const row = pipelineStateRow(doc);
    return { json: JSON.stringify(sources).length, row: String(row.state).length };
  }

  it("should keep the state row small for 100,000 rows sharing one cursor value", async () => {
    const logger = collectingLogger();
    const sources: Record<string, SourceState> = {};
    const make = (rows: Row[]) =>
      resource(rows, { name: "events", primaryKey: "id", incremental: incremental("updated_at") });
    expect(await runOnce([make(shared(0, 100_000))], sources, "events", logger)).toHaveLength(100_000);

    const state = cursorState(sources, "events", "updated_at");
    expect(state.last_value).toBe(SHARED);
    expect(state.unique_hashes).toEqual([]);
    expect(state.unique_hashes_overflow).toBe(true);
    const size = stateRowSize(sources);
    // measured: 148 B of JSON for the source state; the compressed `state` column of `_dlt_pipeline_state`
    // (whole document) is 280 characters. Unbounded (dlt) it is 2.3 MB / 2.2 M characters (next test).
    expect(size.row).toBeLessThan(400);
    expect(size.json).toBeLessThan(300);
    console.info(
      `state for 100,000 rows sharing one cursor value: ${size.json} B JSON, ${size.row} chars in _dlt_pipeline_state.state`,
    );
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(
      /Resource `events`: more than 1000 rows share the value "2024-01-01T00:00:00Z" \(string\) of incremental cursor `updated_at`/,
    );
    expect(logger.warnings[0]).toMatch(/skipped as already loaded/);

    // append (the default): rows at the overflowed value are treated as loaded; newer rows pass
    const next = await runOnce(
      [make([...shared(0, 10), ...shared(200_000, 2, "2024-01-02T00:00:00Z")])],
      sources,
    );
    expect(next.map((r) => r.id)).toEqual([200_000, 200_001]);
    // the cursor moved: exact deduplication resumes
    const after = cursorState(sources, "events", "updated_at");
    expect(after.unique_hashes).toHaveLength(2);
    expect(after.unique_hashes_overflow).toBeUndefined();
  });

  it("should compare with the unbounded size of dlt's unique_hashes", async () => {
    const sources: Record<string, SourceState> = {};
    const res = resource(shared(0, 100_000), {
      name: "events",
      primaryKey: "id",
      incremental: incremental("updated_at", { maxUniqueHashes: Number.MAX_SAFE_INTEGER }),
    });
    await runOnce([res], sources);
    expect(cursorState(sources, "events", "updated_at").unique_hashes).toHaveLength(100_000);
    const size = stateRowSize(sources);
    console.info(
      `unbounded (dlt) state for the same rows: ${size.json} B JSON, ${size.row} chars in _dlt_pipeline_state.state`,
    );
    expect(size.row).toBeGreaterThan(2_000_000);
  });

  it("should re-include rows at an overflowed value for merge resources with a primary key", async () => {
    const logger = collectingLogger();
    const sources: Record<string, SourceState> = {};
    const make = (rows: Row[]) =>
      resource(rows, {
        name: "events",
        primaryKey: "id",
        writeDisposition: "merge",
        incremental: incremental("updated_at", { maxUniqueHashes: 3 }),
      });
    await runOnce([make(shared(0, 5))], sources, "events", logger);
    expect(logger.warnings[0]).toMatch(/more than 3 rows share.*loaded again \(onBoundaryOverflow: "auto"\)/);
    expect(await runOnce([make(shared(0, 6))], sources)).toHaveLength(6);
    expect(cursorState(sources, "events", "updated_at").unique_hashes_overflow).toBe(true);
  });

  it("should keep exact hashes up to the cap and honour an explicit policy", async () => {
    const sources: Record<string, SourceState> = {};
    const make = (rows: Row[], policy: "exclude" | "include") =>
      resource(rows, {
        name: "events",
        primaryKey: "id",
        incremental: incremental("updated_at", { maxUniqueHashes: 3, onBoundaryOverflow: policy }),
      });
    await runOnce([make(shared(0, 3), "include")], sources);
    expect(cursorState(sources, "events", "updated_at").unique_hashes).toHaveLength(3);
    expect((await runOnce([make(shared(0, 4), "include")], sources)).map((r) => r.id)).toEqual([3]);
    // 4 hashes > 3: overflow; "include" reads them all again next time
    expect(cursorState(sources, "events", "updated_at").unique_hashes_overflow).toBe(true);
    expect(await runOnce([make(shared(0, 4), "include")], sources)).toHaveLength(4);
    expect(await runOnce([make(shared(0, 4), "exclude")], sources)).toHaveLength(0);
  });

  it("should cap hashes restored from a state written without a cap (Python dlt)", async () => {
    const hashes = Array.from({ length: 5000 }, (_, i) => `h${i}`);
    const sources: Record<string, SourceState> = {
      s: {
        resources: { r: { incremental: { c: { initial_value: 0, last_value: 7, unique_hashes: hashes } } } },
      },
    };
    const res = resource([{ id: 1, c: 7 }], { name: "r", primaryKey: "id", incremental: incremental("c") });
    // the restored hashes are still used for this run's decisions
    expect(await runOnce([res], sources)).toEqual([{ id: 1, c: 7 }]);
    const state = cursorState(sources, "r", "c");
    expect(state.unique_hashes).toEqual([]);
    expect(state.unique_hashes_overflow).toBe(true);
    expect(DEFAULT_MAX_UNIQUE_HASHES).toBe(1000);
  });
});

describe("incremental: standalone iteration", () => {
  it("should filter with a throw-away state from initialValue in resource.pages()", async () => {
    const res = resource([{ c: 1 }, { c: 5 }], {
      name: "r",
      incremental: incremental("c", { initialValue: 3 }),
    });
    const pages: unknown[][] = [];
    for await (const page of res.pages()) pages.push(page);
    expect(pages).toEqual([[{ c: 5 }]]);
  });
});
