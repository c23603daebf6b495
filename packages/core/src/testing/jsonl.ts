/**
 * JSON lines as normalize writes them into `jsonl` job files: one object per line, integers beyond
 * 2^53 (`bigint` columns) as bare digits. `JSON.parse` would round those, so they are read back as
 * `bigint` here, and written from `bigint` as bare digits.
 */
import { readFileSync } from "node:fs";

/** A row of a job file or a table. */
export type Row = Record<string, unknown>;

const BIG_MARK = "\u0000tsdlt-bigint:";
/** A run of 16+ digits: the only way a JSON number can exceed 2^53 as an integer. */
const LONG_DIGITS = /\d{16}/;

/**
 * Quotes every integer literal outside strings that a JS number cannot hold exactly, so
 * `JSON.parse` keeps its digits.
 */
function quoteUnsafeIntegers(line: string): string {
  let out = "";
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      out += line.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const match = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(line.slice(i));
      const token = match?.[0] ?? c;
      const integer = /^-?\d+$/.test(token);
      out += integer && !Number.isSafeInteger(Number(token)) ? JSON.stringify(BIG_MARK + token) : token;
      i += token.length;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** Parses one JSON line; integers a JS number cannot hold exactly come back as `bigint`. */
export function parseJsonLine(line: string): Row {
  if (!LONG_DIGITS.test(line)) return JSON.parse(line) as Row;
  return JSON.parse(quoteUnsafeIntegers(line), (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(BIG_MARK) ? BigInt(value.slice(BIG_MARK.length)) : value,
  ) as Row;
}

/** The rows of a `jsonl` file (empty lines skipped), parsed with {@link parseJsonLine}. */
export function readJsonlFile(path: string): Row[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map(parseJsonLine);
}

/** One JSON line of `row` as normalize writes it: `bigint` values as bare digits, `Uint8Array` as base64. */
export function toJsonLine(row: Row): string {
  const text = JSON.stringify(row, (_key, value: unknown) => {
    if (typeof value === "bigint") return BIG_MARK + value.toString();
    if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
    return value;
  });
  return text.includes("tsdlt-bigint:") ? text.replace(/"\\u0000tsdlt-bigint:(-?\d+)"/g, "$1") : text;
}
