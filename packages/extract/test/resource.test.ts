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
