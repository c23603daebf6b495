import { Readable } from "node:stream";
import type { TableSchema } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { copyPlan, csvRecords, JsonlSyntaxError, jsonLineToCsv, postgresDialect } from "../src/index.js";

function table(): TableSchema {
  return {
    name: "Events",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: false },
      name: { name: "name", data_type: "text" },
      score: { name: "score", data_type: "double" },
      ok: { name: "ok", data_type: "bool" },
      at: { name: "at", data_type: "timestamp" },
      payload: { name: "payload", data_type: "binary" },
      meta: { name: "meta", data_type: "json" },
      amount: { name: "amount", data_type: "decimal" },
      pending: { name: "pending" },
    },
  };
}

const plan = copyPlan(postgresDialect, "My_Data", table());

function csv(line: string): string {
  const fields = new Array<string>(plan.columns.length).fill("");
  expect(jsonLineToCsv(plan, line, 1, fields)).toBe(true);
  return fields.join(",");
}

describe("copyPlan", () => {
  it("should COPY the complete columns in table order, identifiers lower-cased and quoted", () => {
    expect(plan.sql).toBe(
      `COPY "my_data"."events" ("id", "name", "score", "ok", "at", "payload", "meta", "amount") FROM STDIN WITH (FORMAT csv, NULL '', ENCODING 'UTF8')`,
    );
    expect(plan.columns.map((c) => c.name)).not.toContain("pending");
  });
});

describe("jsonLineToCsv", () => {
  it("should keep integers exact beyond 2^53 and pass numbers and booleans unquoted", () => {
    expect(csv('{"id":9007199254740993,"score":-1.5e-7,"ok":false}')).toBe(
      "9007199254740993,,-1.5e-7,false,,,,",
    );
  });

  it("should quote strings, so an empty string is not NULL, and double embedded quotes", () => {
    expect(csv('{"id":1,"name":""}')).toBe('1,"",,,,,,');
    expect(csv('{"id":1,"name":"a, \\"b\\"\\nc\\\\d"}')).toBe('1,"a, ""b""\nc\\d",,,,,,');
    expect(csv('{"id":1,"name":"Zoë \\u00e9 ✓ 🚀"}')).toBe('1,"Zoë é ✓ 🚀",,,,,,');
  });

  it("should send timestamps, decimals and special doubles as strings Postgres parses", () => {
    expect(csv('{"id":1,"score":"NaN","at":"2024-05-01T10:00:00.123456Z","amount":"12.500000000"}')).toBe(
      '1,,"NaN",,"2024-05-01T10:00:00.123456Z",,,"12.500000000"',
    );
  });

  it("should turn base64 binary into bytea hex and pass json values as raw JSON text", () => {
    const b64 = Buffer.from([0, 1, 254, 255]).toString("base64");
    expect(csv(`{"id":1,"payload":"${b64}","meta":{"a":[1,2,{"b":"x,\\"y\\""}],"n":null}}`)).toBe(
      '1,,,,,\\x0001feff,"{""a"":[1,2,{""b"":""x,\\""y\\""""}],""n"":null}",',
    );
    expect(csv('{"id":1,"meta":"just text"}')).toBe('1,,,,,,"""just text""",');
    expect(csv('{"id":1,"meta":[]}')).toBe('1,,,,,,"[]",');
    expect(csv('{"id":1,"meta":42}')).toBe('1,,,,,,"42",');
  });

  it("should load JSON null and missing keys as NULL and ignore keys not in the table", () => {
    expect(csv('{ "id" : 2 , "name" : null, "unknown": {"x": [1]}, "pending": "p" }')).toBe("2,,,,,,,");
  });

  it("should skip blank lines and reject lines that are not JSON objects", () => {
    const fields = new Array<string>(plan.columns.length).fill("");
    expect(jsonLineToCsv(plan, "   ", 3, fields)).toBe(false);
    expect(() => jsonLineToCsv(plan, "[1,2]", 4, fields)).toThrow(JsonlSyntaxError);
    expect(() => jsonLineToCsv(plan, '{"id":1', 5, fields)).toThrow(/line 5 .*expected `,` or `}`/);
    expect(() => jsonLineToCsv(plan, '{"id":"abc', 6, fields)).toThrow(/unterminated string/);
    expect(() => jsonLineToCsv(plan, '{"id":}', 7, fields)).toThrow(/missing value/);
  });
});

describe("csvRecords", () => {
  async function collect(chunks: (string | Buffer)[], chunkChars?: number): Promise<string[]> {
    const out: string[] = [];
    const options = chunkChars === undefined ? {} : { chunkChars };
    for await (const chunk of csvRecords(Readable.from(chunks), plan, options)) out.push(chunk);
    return out;
  }

  it("should split lines across chunk boundaries, also inside multi-byte characters", async () => {
    const bytes = Buffer.from('{"id":1,"name":"ä✓"}\n\n{"id":2}\n{"id":3,"name":"x"}', "utf8");
    const cut = bytes.indexOf(Buffer.from("✓")) + 1;
    const chunks = [bytes.subarray(0, 5), bytes.subarray(5, cut), bytes.subarray(cut)];
    expect((await collect(chunks)).join("")).toBe('1,"ä✓",,,,,,\n2,,,,,,,\n3,"x",,,,,,\n');
  });

  it("should yield whole records in chunks of about `chunkChars`", async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `{"id":${i},"name":"row ${i}"}\n`).join("");
    let records = -1;
    const chunks: string[] = [];
    for await (const chunk of csvRecords(Readable.from([lines]), plan, {
      chunkChars: 200,
      onDone: (n) => {
        records = n;
      },
    })) {
      chunks.push(chunk);
    }
    expect(records).toBe(100);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.endsWith("\n")).toBe(true);
    expect(chunks.join("").split("\n")).toHaveLength(101);
  });
});
