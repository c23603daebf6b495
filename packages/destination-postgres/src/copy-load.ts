/**
 * The bulk `jsonl` load path: a job file is streamed, each line is turned into one CSV record on the
 * fly, and the records go to `COPY <table> (<columns>) FROM STDIN WITH (FORMAT csv)` in chunks — no
 * row-by-row INSERT, and memory bounded by the chunk size whatever the file size.
 *
 * Lines are scanned, not `JSON.parse`d: numbers keep their exact text (a `bigint` of
 * 9007199254740993 stays exact), JSON values of `json` columns are passed on as their raw text
 * (`jsonb` parses them), and strings without escapes are sliced without decoding. Values arrive as
 * normalize writes them: text/bigint/double/bool natively, timestamps (ISO 8601, UTC), dates, times,
 * decimals and wei as strings (Postgres parses them), binary as base64 (sent as `\x<hex>` for
 * `bytea`), json as raw JSON. Keys missing from a line load as NULL; keys not in the table are ignored.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { type CompleteColumnSchema, isCompleteColumn, isGzipFile, type TableSchema } from "@tsdlt/core";
import { escapeColumnName, qualifiedTableName, type SqlDialect } from "@tsdlt/sql";

/** How one column's JSON value becomes a CSV field. */
type FieldKind = "scalar" | "binary" | "json";

/** The columns a job file loads into, in `COPY` column-list order. */
export interface CopyPlan {
  /** The `COPY ... FROM STDIN` statement. */
  readonly sql: string;
  /** Complete columns, in table order. */
  readonly columns: readonly CompleteColumnSchema[];
  /** Column name → position in {@link CopyPlan.columns}. */
  readonly index: ReadonlyMap<string, number>;
  readonly kinds: readonly FieldKind[];
}

function kindOf(column: CompleteColumnSchema): FieldKind {
  if (column.data_type === "binary") return "binary";
  if (column.data_type === "json") return "json";
  return "scalar";
}

/**
 * `COPY <table> (<columns>) FROM STDIN` in CSV, the statement every load path streams into: NULL is
 * an unquoted empty field; `header` skips the file's first line; `forceNull` columns read `""` as
 * NULL too (dlt's csv files).
 */
export function copyFromStdinSql(
  dialect: SqlDialect,
  datasetName: string,
  table: TableSchema,
  columns: readonly string[],
  options: { readonly header?: boolean; readonly forceNull?: readonly string[] } = {},
): string {
  const names = (list: readonly string[]): string => list.map((c) => escapeColumnName(dialect, c)).join(", ");
  const header = options.header === true ? ", HEADER true" : "";
  const forceNull =
    options.forceNull !== undefined && options.forceNull.length > 0
      ? `, FORCE_NULL (${names(options.forceNull)})`
      : "";
  return (
    `COPY ${qualifiedTableName(dialect, datasetName, table.name)} (${names(columns)}) FROM STDIN` +
    ` WITH (FORMAT csv${header}, NULL ''${forceNull}, ENCODING 'UTF8')`
  );
}

/**
 * The `COPY` statement and column plan that load a `jsonl` job file into `table` of `datasetName`
 * (only complete columns, in table order).
 */
export function copyPlan(dialect: SqlDialect, datasetName: string, table: TableSchema): CopyPlan {
  const columns = Object.values(table.columns).filter(isCompleteColumn);
  return {
    sql: copyFromStdinSql(
      dialect,
      datasetName,
      table,
      columns.map((c) => c.name),
    ),
    columns,
    index: new Map(columns.map((c, i) => [c.name, i])),
    kinds: columns.map(kindOf),
  };
}

/** A line of a job file that is not a JSON object. */
export class JsonlSyntaxError extends Error {
  override name = "JsonlSyntaxError";
  /** 1-based line number in the job file. */
  readonly line: number;
  constructor(line: number, problem: string) {
    super(`line ${line} of the job file is not a JSON object: ${problem}`);
    this.line = line;
  }
}

const QUOTE = 34; // "
const BACKSLASH = 92; // \
const COMMA = 44; // ,
const COLON = 58; // :
const LBRACE = 123; // {
const RBRACE = 125; // }
const LBRACKET = 91; // [
const RBRACKET = 93; // ]

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

function skipSpace(s: string, i: number, to: number): number {
  let at = i;
  while (at < to && isSpace(s.charCodeAt(at))) at++;
  return at;
}

/** Index after the closing quote of the string starting at `i` (an opening quote), before `to`. */
function stringEnd(s: string, i: number, to: number, line: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0 || q >= to) throw new JsonlSyntaxError(line, "unterminated string");
    let slashes = 0;
    for (let b = q - 1; b > i && s.charCodeAt(b) === BACKSLASH; b--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index after the object or array starting at `i`, before `to`. */
function compositeEnd(s: string, i: number, to: number, line: number): number {
  let depth = 0;
  for (let at = i; at < to; at++) {
    const c = s.charCodeAt(at);
    if (c === QUOTE) {
      at = stringEnd(s, at, to, line) - 1;
    } else if (c === LBRACE || c === LBRACKET) {
      depth++;
    } else if (c === RBRACE || c === RBRACKET) {
      depth--;
      if (depth === 0) return at + 1;
    }
  }
  throw new JsonlSyntaxError(line, "unterminated object or array");
}

/** Index after a number, `true`, `false` or `null` starting at `i`, at most `to`. */
function primitiveEnd(s: string, i: number, to: number): number {
  let at = i;
  while (at < to) {
    const c = s.charCodeAt(at);
    if (c === COMMA || c === RBRACE || c === RBRACKET || isSpace(c)) break;
    at++;
  }
  return at;
}

/** The decoded value of the JSON string `s[start, end)` (quotes included). */
function decodeString(s: string, start: number, end: number): string {
  const body = s.slice(start + 1, end - 1);
  return body.includes("\\") ? (JSON.parse(s.slice(start, end)) as string) : body;
}

/** A CSV field holding `text` verbatim (quoted, `"` doubled), so it is never read as NULL. */
function quoted(text: string): string {
  return text.includes('"') ? `"${text.replaceAll('"', '""')}"` : `"${text}"`;
}

/**
 * The CSV field of the JSON value `s[start, end)` for a column of `kind`; `""` (unquoted, NULL) for
 * JSON `null`.
 */
function field(s: string, start: number, end: number, kind: FieldKind): string {
  const first = s.charCodeAt(start);
  if (first === 110 /* n */ && end - start === 4 && s.startsWith("null", start)) return "";
  if (kind === "json") return quoted(s.slice(start, end));
  if (first === QUOTE) {
    if (kind === "binary") {
      return `\\x${Buffer.from(decodeString(s, start, end), "base64").toString("hex")}`;
    }
    // without escapes the raw body holds no `"`, so it needs no doubling
    const body = s.slice(start + 1, end - 1);
    return body.includes("\\") ? quoted(decodeString(s, start, end)) : `"${body}"`;
  }
  if (first === LBRACE || first === LBRACKET) return quoted(s.slice(start, end));
  // numbers (exact text), true, false
  return s.slice(start, end);
}

/**
 * The keys of the previous line of a plan, as they appeared (`"name":`) with their column (-1: not
 * loaded): normalize writes the keys of a table's rows in the same order, so a key is mostly
 * recognized with one `startsWith`, without decoding it or looking it up.
 */
interface KeyOrder {
  readonly raw: string[];
  readonly at: number[];
}

const keyOrders = new WeakMap<CopyPlan, KeyOrder>();

/**
 * Index after the closing quote of the string starting at `i`, before `to`; `escapes` false says the
 * line holds no backslash, so the next quote closes it.
 */
function stringEndIn(s: string, i: number, to: number, line: number, escapes: boolean): number {
  if (escapes) return stringEnd(s, i, to, line);
  const q = s.indexOf('"', i + 1);
  if (q < 0 || q >= to) throw new JsonlSyntaxError(line, "unterminated string");
  return q + 1;
}

/**
 * Appends the CSV record of one `jsonl` line to `out` (fields in {@link CopyPlan.columns} order).
 * Returns false for a blank line.
 */
export function jsonLineToCsv(plan: CopyPlan, s: string, line: number, fields: string[]): boolean {
  return lineToCsv(plan, s, 0, s.length, s.includes("\\"), line, fields);
}

/**
 * {@link jsonLineToCsv} of the line `s[from, to)`; `escapes` false says it holds no backslash (no
 * string has escapes: strings end at the next quote and go to the CSV as they are, since a JSON
 * string without escapes holds no quote).
 */
function lineToCsv(
  plan: CopyPlan,
  s: string,
  from: number,
  to: number,
  escapes: boolean,
  line: number,
  fields: string[],
): boolean {
  let i = skipSpace(s, from, to);
  if (i >= to) return false;
  if (s.charCodeAt(i) !== LBRACE) throw new JsonlSyntaxError(line, "it does not start with `{`");
  fields.fill("");
  i = skipSpace(s, i + 1, to);
  if (s.charCodeAt(i) === RBRACE && i < to) return true;
  let order = keyOrders.get(plan);
  if (order === undefined) {
    order = { raw: [], at: [] };
    keyOrders.set(plan, order);
  }
  for (let k = 0; ; k++) {
    if (i >= to || s.charCodeAt(i) !== QUOTE) {
      throw new JsonlSyntaxError(line, `expected a key at column ${i - from + 1}`);
    }
    let at: number;
    let start: number;
    const known = order.raw[k];
    if (known !== undefined && i + known.length <= to && s.startsWith(known, i)) {
      at = order.at[k] as number;
      start = skipSpace(s, i + known.length, to);
    } else {
      const keyEnd = stringEndIn(s, i, to, line, escapes);
      const colon = skipSpace(s, keyEnd, to);
      if (colon >= to || s.charCodeAt(colon) !== COLON) {
        throw new JsonlSyntaxError(line, `expected \`:\` at column ${colon - from + 1}`);
      }
      at = plan.index.get(decodeString(s, i, keyEnd)) ?? -1;
      order.raw[k] = s.slice(i, colon + 1);
      order.at[k] = at;
      start = skipSpace(s, colon + 1, to);
    }
    const c = start < to ? s.charCodeAt(start) : -1;
    const end =
      c === QUOTE
        ? stringEndIn(s, start, to, line, escapes)
        : c === LBRACE || c === LBRACKET
          ? compositeEnd(s, start, to, line)
          : primitiveEnd(s, start, to);
    if (end === start) throw new JsonlSyntaxError(line, `missing value at column ${start - from + 1}`);
    if (at >= 0) {
      const kind = plan.kinds[at] as FieldKind;
      fields[at] =
        !escapes && c === QUOTE && kind === "scalar" ? s.slice(start, end) : field(s, start, end, kind);
    }
    i = skipSpace(s, end, to);
    const sep = i < to ? s.charCodeAt(i) : -1;
    if (sep === RBRACE) return true;
    if (sep !== COMMA) throw new JsonlSyntaxError(line, `expected \`,\` or \`}\` at column ${i - from + 1}`);
    i = skipSpace(s, i + 1, to);
  }
}

/** Options of {@link csvRecords}. */
export interface CsvRecordsOptions {
  /** Characters gathered before a chunk is yielded. @default 256 KiB */
  readonly chunkChars?: number;
  /** Called with the number of records converted, once the input ends. */
  readonly onDone?: (records: number) => void;
}

/**
 * Turns a stream of `jsonl` bytes into chunks of CSV records for `plan` (each chunk holds whole
 * records). Lines are split on `\n` (JSON text never holds a raw newline); blank lines are skipped.
 */
export async function* csvRecords(
  source: AsyncIterable<Buffer | string>,
  plan: CopyPlan,
  options: CsvRecordsOptions = {},
): AsyncGenerator<string> {
  const chunkChars = options.chunkChars ?? 256 * 1024;
  const decoder = new StringDecoder("utf8");
  const fields: string[] = new Array<string>(plan.columns.length).fill("");
  let rest = "";
  let out = "";
  let line = 0;
  let records = 0;
  // lines are converted where they are in the decoded text (no string per line); `backslash` is the
  // next backslash at or after the line, so each line knows whether it has escapes
  let backslash = -1;
  const convert = (text: string, from: number, to: number): void => {
    line++;
    if (backslash < from) {
      backslash = text.indexOf("\\", from);
      if (backslash < 0) backslash = text.length;
    }
    if (lineToCsv(plan, text, from, to, backslash < to, line, fields)) {
      out += `${fields.join(",")}\n`;
      records++;
    }
  };
  for await (const chunk of source) {
    const text = rest + (typeof chunk === "string" ? chunk : decoder.write(chunk));
    backslash = -1;
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      convert(text, from, nl);
      from = nl + 1;
      if (out.length >= chunkChars) {
        yield out;
        out = "";
      }
    }
    rest = text.slice(from);
  }
  rest += decoder.end();
  if (rest.trim() !== "") {
    backslash = -1;
    convert(rest, 0, rest.length);
  }
  if (out !== "") yield out;
  options.onDone?.(records);
}

/** The bytes of a job file, gunzipped when compressed. */
export async function openJobFile(filePath: string): Promise<Readable> {
  const gzipped = await isGzipFile(filePath);
  const file = createReadStream(filePath, { highWaterMark: 1024 * 1024 });
  if (!gzipped) return file;
  const gunzip = createGunzip();
  file.on("error", (error) => gunzip.destroy(error));
  return file.pipe(gunzip);
}
