/**
 * `jsonl` job file → csv file with dlt's csv conventions (REFERENCE §7.1): comma delimiter, a
 * header row, `\n` line ends, and quoting `quote_needed` (Python's `QUOTE_NONNUMERIC`: every text
 * field is quoted, numbers and booleans are not, NULL is written as `""`). Values are rendered as
 * dlt's Python writer renders them: booleans `True`/`False`, non-finite doubles `nan`/`inf`/`-inf`,
 * timestamps in ISO form with a `+00:00` offset, decimals unquoted, json as compact JSON text, binary
 * decoded as UTF-8 (bytes that are not UTF-8 fail the job, as in dlt). Written with `csv-stringify`.
 */
import { open } from "node:fs/promises";
import type { CompleteColumnSchema } from "@tsdlt/core";
import { DestinationError } from "@tsdlt/core";
import { type Options as StringifyOptions, stringify } from "csv-stringify/sync";
import { readJsonlRows } from "./jsonl-rows.js";

/** How fields are quoted (dlt's `csv_format.quoting`). */
export const CSV_QUOTING = ["quote_needed", "quote_all", "quote_minimal"] as const;
/** A quoting mode: `quote_needed` quotes text, `quote_all` every field, `quote_minimal` only fields that need it. */
export type CsvQuoting = (typeof CSV_QUOTING)[number];

/** Options of the csv writer (dlt's `[normalize.data_writer]` csv settings). */
export interface CsvOptions {
  /** @default "," */
  readonly delimiter?: string;
  /** @default true */
  readonly includeHeader?: boolean;
  /** @default "quote_needed" */
  readonly quoting?: CsvQuoting;
}

/** A field written without quotes in `quote_needed` mode (numbers kept as exact text); not a string, so `quoted_string` skips it. */
class Unquoted {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function renderDouble(v: unknown): Unquoted {
  const n =
    typeof v === "number"
      ? v
      : v === "NaN"
        ? Number.NaN
        : v === "Infinity"
          ? Infinity
          : v === "-Infinity"
            ? -Infinity
            : Number(v);
  if (Number.isNaN(n)) return new Unquoted("nan");
  if (!Number.isFinite(n)) return new Unquoted(n > 0 ? "inf" : "-inf");
  return new Unquoted(String(n));
}

/** How one column's non-null JSON values become csv fields. */
function renderer(column: CompleteColumnSchema, table: string): (v: unknown) => unknown {
  switch (column.data_type) {
    case "text":
    case "date":
    case "time":
      return (v) => (typeof v === "string" ? v : JSON.stringify(v));
    case "bigint":
    case "decimal":
    case "wei":
      return (v) => new Unquoted(String(v));
    case "double":
      return renderDouble;
    case "bool":
      return (v) => new Unquoted(v ? "True" : "False");
    case "timestamp":
      return (v) => String(v).replace(/[Zz]$/, "+00:00");
    case "json":
      return (v) => JSON.stringify(v);
    case "binary":
      return (v) => {
        try {
          return utf8.decode(Buffer.from(String(v), "base64"));
        } catch (cause) {
          throw new DestinationError(
            `[tsdlt] [filesystem] Column \`${column.name}\` of table \`${table}\` holds bytes that are not UTF-8, which csv files cannot hold (as in dlt). Write this table as parquet or jsonl.`,
            {
              code: "DESTINATION_TERMINAL",
              retryable: false,
              destination: "filesystem",
              table,
              column: column.name,
              cause,
            },
          );
        }
      };
  }
}

function stringifyOptions(options: CsvOptions): StringifyOptions {
  const quoting = options.quoting ?? "quote_needed";
  const common: StringifyOptions = { delimiter: options.delimiter ?? ",", record_delimiter: "unix" };
  const plain = (v: unknown): string => (v instanceof Unquoted ? v.text : String(v));
  switch (quoting) {
    case "quote_all":
      return { ...common, quoted: true, cast: { object: plain, boolean: plain, bigint: plain } };
    case "quote_minimal":
      return { ...common, cast: { object: plain, boolean: plain, bigint: plain } };
    case "quote_needed":
      // `quoted_string` looks at the value before casting: Unquoted objects stay unquoted
      return { ...common, quoted_string: true, quoted_empty: true, cast: { object: plain } };
  }
}

/**
 * Converts the `jsonl` job file at `input` into a csv file at `output` with the table's complete
 * `columns` (schema order) as the header. Returns the number of rows written.
 */
export async function writeCsvFile(options: {
  readonly table: string;
  readonly columns: readonly CompleteColumnSchema[];
  readonly input: string;
  readonly output: string;
  readonly csv?: CsvOptions | undefined;
}): Promise<number> {
  const { table, columns, input, output } = options;
  const csvOptions = options.csv ?? {};
  const format = stringifyOptions(csvOptions);
  const render = columns.map((c) => renderer(c, table));
  const exact = columns.filter((c) => c.data_type === "bigint").map((c) => c.name);
  const handle = await open(output, "w");
  let rows = 0;
  try {
    if (csvOptions.includeHeader !== false) {
      await handle.write(stringify([columns.map((c) => c.name)], format));
    }
    let batch: unknown[][] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await handle.write(stringify(batch, format));
      batch = [];
    };
    for await (const { row } of readJsonlRows(input, exact)) {
      const record = new Array<unknown>(columns.length);
      for (let i = 0; i < columns.length; i++) {
        const value = row[(columns[i] as CompleteColumnSchema).name];
        record[i] =
          value === null || value === undefined ? "" : (render[i] as (v: unknown) => unknown)(value);
      }
      batch.push(record);
      rows++;
      if (batch.length >= 1000) await flush();
    }
    await flush();
    await handle.sync();
  } finally {
    await handle.close();
  }
  return rows;
}
