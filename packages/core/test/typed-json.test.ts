import { describe, expect, it } from "vitest";
import {
  decodePua,
  fromTypedJson,
  isPuaEncoded,
  PUA_KINDS,
  PUA_START,
  toTypedJson,
  typedJsonReplacer,
} from "../src/index.js";

// REFERENCE §7.5: one private-use character starting at U+F026 marks each non-JSON type.
const DATETIME = "\uf027";
const BYTES = "\uf02b";

describe("typed JSON", () => {
  it("should use dlt's PUA code points", () => {
    expect(PUA_START).toBe(0xf026);
    expect(PUA_START + PUA_KINDS.decimal).toBe(0xf026);
    expect(PUA_START + PUA_KINDS.datetime).toBe(0xf027);
    expect(PUA_START + PUA_KINDS.date).toBe(0xf028);
    expect(PUA_START + PUA_KINDS.uuid).toBe(0xf029);
    expect(PUA_START + PUA_KINDS.hexbytes).toBe(0xf02a);
    expect(PUA_START + PUA_KINDS.bytes).toBe(0xf02b);
    expect(PUA_START + PUA_KINDS.wei).toBe(0xf02c);
    expect(PUA_START + PUA_KINDS.time).toBe(0xf02d);
  });

  it("should encode a Date as U+F027 followed by its ISO string", () => {
    const at = new Date("2024-01-02T03:04:05.678Z");
    expect(JSON.parse(toTypedJson({ at }))).toEqual({ at: `${DATETIME}2024-01-02T03:04:05.678Z` });
    expect(JSON.parse(toTypedJson(at))).toBe(`${DATETIME}2024-01-02T03:04:05.678Z`);
  });

  it("should encode bytes as U+F02B followed by base64", () => {
    const data = new Uint8Array([0, 1, 2, 253, 254, 255]);
    expect(JSON.parse(toTypedJson({ data }))).toEqual({ data: `${BYTES}AAEC/f7/` });
  });

  it("should encode a Node Buffer like any other Uint8Array", () => {
    expect(JSON.parse(toTypedJson({ data: Buffer.from("hi") }))).toEqual({ data: `${BYTES}aGk=` });
    expect(fromTypedJson<{ data: Uint8Array }>(toTypedJson({ data: Buffer.from("hi") })).data).toEqual(
      new Uint8Array([104, 105]),
    );
  });

  it("should round-trip Date, bigint and Uint8Array inside nested objects and arrays", () => {
    const value = {
      at: new Date("2024-01-02T03:04:05.678Z"),
      big: 12345678901234567890n,
      negative: -(2n ** 64n),
      bytes: new Uint8Array([1, 2, 3]),
      list: [new Date(0), 1n, new Uint8Array([])],
      plain: { s: "text", n: 1.5, b: true, nil: null },
    };
    const text = toTypedJson(value);
    const back = fromTypedJson<typeof value>(text);
    expect(back).toEqual(value);
    expect(back.at).toBeInstanceOf(Date);
    expect(typeof back.big).toBe("bigint");
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect(back.list[0]).toBeInstanceOf(Date);
  });

  it("should decode datetimes written by Python dlt with microseconds and offsets", () => {
    const decoded = fromTypedJson<{ at: Date }>(
      JSON.stringify({ at: `${DATETIME}2024-01-02T03:04:05.678901+00:00` }),
    );
    expect(decoded.at).toBeInstanceOf(Date);
    expect(decoded.at.toISOString()).toBe("2024-01-02T03:04:05.678Z");
  });

  it("should decode the other PUA kinds into typed scalars", () => {
    const code = (kind: keyof typeof PUA_KINDS): string => String.fromCharCode(PUA_START + PUA_KINDS[kind]);
    expect(decodePua(`${code("decimal")}1.50`)).toEqual({ kind: "decimal", value: "1.50" });
    expect(decodePua(`${code("date")}2024-01-02`)).toEqual({ kind: "date", value: "2024-01-02" });
    expect(decodePua(`${code("uuid")}0f8fad5b-d9cb-469f-a165-70867728950e`)).toEqual({
      kind: "uuid",
      value: "0f8fad5b-d9cb-469f-a165-70867728950e",
    });
    expect(decodePua(`${code("time")}12:30:00`)).toEqual({ kind: "time", value: "12:30:00" });
  });

  it("should leave strings without a PUA marker unchanged", () => {
    for (const s of [
      "",
      "plain",
      "2024-01-02T03:04:05Z",
      "AAEC",
      "\uf025before-range",
      "\uf0ffafter-range",
    ]) {
      expect(isPuaEncoded(s)).toBe(false);
      expect(decodePua(s)).toBe(s);
      expect(fromTypedJson(JSON.stringify({ s }))).toEqual({ s });
    }
  });

  it("should leave PUA strings it cannot decode unchanged", () => {
    const badDate = `${DATETIME}not a date`;
    const badBigint = `${String.fromCharCode(PUA_START + PUA_KINDS.bigint)}12abc`;
    expect(decodePua(badDate)).toBe(badDate);
    expect(decodePua(badBigint)).toBe(badBigint);
    expect(fromTypedJson(JSON.stringify([badDate, badBigint]))).toEqual([badDate, badBigint]);
  });

  it("should not mark ISO strings that were already strings as datetimes", () => {
    expect(toTypedJson({ s: "2024-01-02T03:04:05.678Z" })).toBe('{"s":"2024-01-02T03:04:05.678Z"}');
  });

  it("should work as a JSON.stringify replacer", () => {
    expect(JSON.stringify({ n: 5n }, typedJsonReplacer)).toBe(
      `{"n":"${String.fromCharCode(PUA_START + PUA_KINDS.bigint)}5"}`,
    );
  });
});
