/**
 * The bulk `csv` load path (issue 12): normalize writes `csv` job files that Postgres' `COPY ... WITH
 * (FORMAT csv)` reads as they are, so the file's bytes are streamed into `COPY` unchanged — no
 * parsing or conversion in Node. Only the header line is read here (a small bounded read), to name the
 * `COPY` column list in the file's column order and to check that every column exists in the table.
 *
 * The files follow tsdlt's csv contract: UTF-8, `\n` line ends, a header of the column names, a NULL
 * as an empty unquoted field and the empty string as `""`, binary as quoted `\x<hex>` (`bytea`'s hex
 * input), JSON as quoted JSON text. A 0-byte file, or one holding only its header, loads no rows.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { isCompleteColumn, type TableSchema } from "@tsdlt/core";
import { escapeColumnName, qualifiedTableName, type SqlDialect } from "@tsdlt/sql";
import { isGzipped } from "./copy-load.js";

/** Most bytes the header line of a `csv` job file may take (Postgres tables hold at most 1,600 columns). */
const MAX_CSV_HEADER_BYTES = 1024 * 1024;

/** The header of a `csv` job file that cannot be used. */
export class CsvHeaderError extends Error {
  override name = "CsvHeaderError";
  constructor(problem: string) {
    super(`the header line of the csv job file is malformed: ${problem}`);
  }
}

/** The header line of a `csv` job file. */
export interface CsvHeader {
  /** The column names, in file order. */
  readonly columns: readonly string[];
  /** True when nothing follows the header line: the file holds no rows. */
  readonly headerOnly: boolean;
}

/**
 * Parses the first CSV record of `text` (fields separated by `,`, optionally quoted with `"`, a
 * quote inside a quoted field doubled), ending at the first line end outside quotes. Returns the
 * fields and the index after the record's line end, or `undefined` when `text` ends inside the
 * record without a line end (more input is needed, unless `final`).
 */
export function parseCsvRecord(
  text: string,
  final = false,
): { readonly fields: string[]; readonly end: number } | undefined {
  const fields: string[] = [];
  let field = "";
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34 /* " */) {
      // a quoted field: up to the closing quote, `""` standing for one quote
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) {
          if (final) throw new CsvHeaderError("it ends inside a quoted column name");
          return undefined;
        }
        if (text.charCodeAt(q + 1) === 34) {
          field += text.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        if (q + 1 >= text.length && !final) return undefined;
        field += text.slice(from, q);
        i = q + 1;
        break;
      }
      const next = text.charCodeAt(i);
      if (i < text.length && next !== 44 /* , */ && next !== 10 /* \n */ && next !== 13 /* \r */) {
        throw new CsvHeaderError(`unexpected \`${text[i]}\` after the quoted column name \`${field}\``);
      }
    } else {
      let end = i;
      while (end < text.length) {
        const c = text.charCodeAt(end);
        if (c === 44 || c === 10 || c === 13) break;
        if (c === 34)
          throw new CsvHeaderError(`a quote inside the unquoted column name \`${text.slice(i, end)}\``);
        end++;
      }
      field = text.slice(i, end);
      i = end;
    }
    fields.push(field);
    field = "";
    if (i >= text.length) return final ? { fields, end: i } : undefined;
    const sep = text.charCodeAt(i);
    if (sep === 44) {
      i++;
      continue;
    }
    if (sep === 13) {
      if (i + 1 >= text.length && !final) return undefined;
      return { fields, end: text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1 };
    }
    return { fields, end: i + 1 };
  }
}

/** The decompressed bytes of a `csv` job file, read in `highWaterMark` pieces (gzip detected by its magic bytes). */
async function openCsv(filePath: string, highWaterMark: number): Promise<Readable> {
  const gzipped = await isGzipped(filePath);
  const file = createReadStream(filePath, { highWaterMark });
  if (!gzipped) return file;
  const gunzip = createGunzip();
  file.on("error", (error) => gunzip.destroy(error));
  return file.pipe(gunzip);
}

/**
 * Reads the header line of the `csv` job file at `filePath`, reading no more than needed (at most
 * {@link MAX_CSV_HEADER_BYTES}). `undefined` for an empty (0-byte) file.
 *
 * @throws CsvHeaderError when the header is malformed or longer than {@link MAX_CSV_HEADER_BYTES}
 */
export async function readCsvHeader(filePath: string): Promise<CsvHeader | undefined> {
  const stream = await openCsv(filePath, 16 * 1024);
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const decoder = new StringDecoder("utf8");
  let text = "";
  let bytes = 0;
  try {
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      bytes += next.value.length;
      text += decoder.write(next.value);
      const record = parseCsvRecord(text);
      if (record !== undefined) {
        // rows follow when bytes follow the header line (the decoder may hold part of a character)
        let rows = text.length > record.end || decoder.end().length > 0;
        while (!rows) {
          const more = await chunks.next();
          if (more.done) break;
          rows = more.value.length > 0;
        }
        return { columns: record.fields, headerOnly: !rows };
      }
      if (bytes > MAX_CSV_HEADER_BYTES) {
        throw new CsvHeaderError(`it is longer than ${MAX_CSV_HEADER_BYTES} bytes (is it a csv job file?)`);
      }
    }
    text += decoder.end();
    if (text === "") return undefined;
    const record = parseCsvRecord(text, true);
    return { columns: record?.fields ?? [], headerOnly: true };
  } finally {
    stream.destroy();
  }
}

/** Why `header` cannot load into `table`, if it cannot: an unknown, incomplete or repeated column. */
export function csvHeaderProblem(table: TableSchema, header: CsvHeader): string | undefined {
  if (header.columns.length === 0) return "its header names no columns";
  const seen = new Set<string>();
  for (const name of header.columns) {
    const column = Object.hasOwn(table.columns, name) ? table.columns[name] : undefined;
    if (column === undefined) {
      return `its header names column \`${name}\`, which table \`${table.name}\` does not have`;
    }
    if (!isCompleteColumn(column)) {
      return `its header names column \`${name}\`, which has no data type in table \`${table.name}\` yet`;
    }
    if (seen.has(name)) return `its header names column \`${name}\` twice`;
    seen.add(name);
  }
  return undefined;
}

/** The `COPY` statement that loads a `csv` job file with `header` into `table` of `datasetName`. */
export function csvCopySql(
  dialect: SqlDialect,
  datasetName: string,
  table: TableSchema,
  header: CsvHeader,
): string {
  const list = header.columns.map((name) => escapeColumnName(dialect, name)).join(", ");
  return (
    `COPY ${qualifiedTableName(dialect, datasetName, table.name)} (${list}) FROM STDIN` +
    ` WITH (FORMAT csv, HEADER true, NULL '', ENCODING 'UTF8')`
  );
}

/** The bytes of a `csv` job file, as they are (gunzipped when compressed), in 1 MiB pieces. */
export async function openCsvJobFile(filePath: string): Promise<Readable> {
  return openCsv(filePath, 1024 * 1024);
}
