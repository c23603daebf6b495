/**
 * Streams the rows of a normalized `jsonl` job file (one JSON object per line, as normalize writes
 * them), gunzipping when the file is gzip-compressed. `bigint` values beyond 2^53 are written by
 * normalize as bare digits; `JSON.parse` would round them, so such lines are parsed again losslessly.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { isGzipFile } from "@tsdlt/core";
import { parse as parseLossless } from "lossless-json";

/** One row and the length of the line it came from (a cheap size estimate for buffering). */
export interface JsonlRow {
  readonly row: Record<string, unknown>;
  readonly chars: number;
}

/**
 * The rows of a jsonl file. Values of `exactIntegerColumns` that JSON numbers cannot hold exactly
 * come back as `bigint`; every other value is as `JSON.parse` returns it.
 */
export async function* readJsonlRows(
  path: string,
  exactIntegerColumns: readonly string[] = [],
): AsyncGenerator<JsonlRow> {
  const raw = createReadStream(path);
  const input = (await isGzipFile(path)) ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (line.length === 0) continue;
      const row = JSON.parse(line) as Record<string, unknown>;
      let exact: Record<string, unknown> | undefined;
      for (const column of exactIntegerColumns) {
        const value = row[column];
        if (typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value)) {
          exact ??= parseLossless(line, null, (digits: string) => digits) as Record<string, unknown>;
          row[column] = BigInt(exact[column] as string);
        }
      }
      yield { row, chars: line.length };
    }
  } finally {
    lines.close();
    raw.destroy();
  }
}
