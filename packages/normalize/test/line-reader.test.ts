import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readLineBuffers } from "../src/line-reader.js";
import { createFixture, type Fixture } from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

async function lines(text: string | Buffer, gzipped = false): Promise<string[]> {
  const path = `${fixture.dir}/lines${gzipped ? ".gz" : ""}`;
  writeFileSync(path, gzipped ? gzipSync(text) : text);
  const out: string[] = [];
  // a yielded line is a view into the read buffer: decode it before asking for the next one
  for await (const line of readLineBuffers(path, gzipped)) out.push(line.toString("utf8"));
  return out;
}

describe("readLineBuffers", () => {
  it("yields non-empty lines without their line endings, the last one without a newline too", async () => {
    expect(await lines("a\r\n\nbb\ncc")).toEqual(["a", "bb", "cc"]);
    expect(await lines("")).toEqual([]);
    expect(await lines("\n\n")).toEqual([]);
  });

  it("keeps lines whole across reads, longer than the read buffer included", async () => {
    // 2 MiB reads: lines of 0.7 MiB straddle reads, and one of 5 MiB outgrows the buffer
    const expected = [1, 700_000, 3, 700_001, 5 * 2 ** 20, 700_002, 2].map((n, i) =>
      String.fromCharCode(97 + i).repeat(n),
    );
    const text = `${expected.join("\n")}\n`;
    expect(await lines(text)).toEqual(expected);
    expect(await lines(text, true)).toEqual(expected);
    // multi-byte characters cut by a read boundary
    const wide = ["é".repeat(1_500_000), "🎉".repeat(600_000), "x"];
    expect(await lines(wide.join("\r\n"))).toEqual(wide);
  });
});
