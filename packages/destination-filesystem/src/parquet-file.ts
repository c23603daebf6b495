/**
 * `jsonl` job file → parquet file, typed from the schema the way dlt's pyarrow writer types it:
 * text → UTF8 string, double → DOUBLE, bool → BOOLEAN, bigint → INT64 (INT32 with an INTEGER
 * logical type for `precision` ≤ 32 bits), timestamp → INT64 TIMESTAMP (UTC-adjusted unless
 * `timezone: false`; MILLIS / MICROS / NANOS from `precision`, default the capabilities' 6 → MICROS),
 * date → INT32 DATE, time → INT64 TIME (MICROS, NANOS above precision 6), binary → BYTE_ARRAY,
 * json → JSON text, decimal → DECIMAL(p, s) (default the capabilities' 38, 9), wei → DECIMAL of the
 * capabilities' wei precision. Written with `hyparquet-writer` (SNAPPY), one row group per buffer
 * of rows, so memory does not grow with the file.
 */
import { type CompleteColumnSchema, type DestinationCapabilities, DestinationError } from "@tsdlt/core";
import { type ColumnSource, fileWriter, ParquetWriter, type SchemaElement } from "hyparquet-writer";
import { readJsonlRows } from "./jsonl-rows.js";
import {
  base64ToBytes,
  DecimalRangeError,
  dateToDays,
  decimalByteLength,
  decimalToUnscaled,
  type TimeUnit,
  timestampToEpoch,
  timeToUnits,
  toBigInt,
  toDouble,
} from "./values.js";

/** Options of the parquet writer. */
export interface ParquetOptions {
  /** Rows buffered per row group. @default 20_000 */
  readonly rowGroupSize?: number;
  /** Approximate JSON characters buffered before a row group is written, whatever the row count. @default 16 MiB */
  readonly rowGroupChars?: number;
}

/**
 * The stored decimal type of a declared `DECIMAL(precision, scale)`, as pyarrow (dlt) stores it:
 * up to 38 digits in the fewest bytes (decimal128), up to 76 in 32 bytes (decimal256); wider types
 * become 76 digits with the scale trimmed to keep the integer digits.
 */
export function parquetDecimal(
  precision: number,
  scale: number,
): { readonly precision: number; readonly scale: number; readonly length: number } {
  if (precision <= 38) return { precision, scale, length: decimalByteLength(precision) };
  if (precision <= 76) return { precision, scale, length: 32 };
  return { precision: 76, scale: Math.max(0, 76 - (precision - scale)), length: 32 };
}

/** How one column is declared and filled. */
interface ColumnPlan {
  readonly name: string;
  readonly element: SchemaElement;
  /** Converts a non-null JSON value; throws a `RangeError`/`DecimalRangeError` when it does not fit. */
  readonly convert: (value: unknown) => unknown;
  readonly required: boolean;
}

function timeUnitOf(precision: number | undefined, fallback: number): TimeUnit {
  const p = precision ?? fallback;
  return p <= 3 ? "MILLIS" : p <= 6 ? "MICROS" : "NANOS";
}

function unparsable(what: string): never {
  throw new RangeError(`it is not a valid ${what}`);
}

/** The parquet declaration and converter of one column. */
function planColumn(column: CompleteColumnSchema, capabilities: DestinationCapabilities): ColumnPlan {
  const required = column.nullable === false;
  const base = { name: column.name, repetition_type: required ? "REQUIRED" : "OPTIONAL" } as const;
  const plan = (element: Omit<SchemaElement, "name">, convert: (v: unknown) => unknown): ColumnPlan => ({
    name: column.name,
    element: { ...base, ...element } as SchemaElement,
    convert,
    required,
  });
  switch (column.data_type) {
    case "text":
      return plan({ type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } }, (v) =>
        typeof v === "string" ? v : JSON.stringify(v),
      );
    case "double":
      return plan({ type: "DOUBLE" }, toDouble);
    case "bool":
      return plan({ type: "BOOLEAN" }, (v) => (typeof v === "boolean" ? v : unparsable("boolean")));
    case "bigint": {
      // converted types only: hyparquet-writer's INTEGER logical type does not read back (DuckDB)
      const bits = column.precision;
      if (bits !== undefined && bits <= 32) {
        const width = bits <= 8 ? 8 : bits <= 16 ? 16 : 32;
        return plan({ type: "INT32", converted_type: `INT_${width}` as "INT_8" | "INT_16" | "INT_32" }, (v) =>
          Number(toBigInt(v)),
        );
      }
      return plan({ type: "INT64" }, toBigInt);
    }
    case "timestamp": {
      const unit = timeUnitOf(column.precision, capabilities.timestampPrecision);
      const utc = column.timezone !== false;
      const legacy = utc && unit !== "NANOS" ? { converted_type: `TIMESTAMP_${unit}` as const } : {};
      return plan(
        { type: "INT64", ...legacy, logical_type: { type: "TIMESTAMP", isAdjustedToUTC: utc, unit } },
        (v) => timestampToEpoch(String(v), unit) ?? unparsable("timestamp"),
      );
    }
    case "date":
      return plan(
        { type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } },
        (v) => dateToDays(String(v)) ?? unparsable("date"),
      );
    case "time": {
      const unit = timeUnitOf(column.precision, capabilities.timestampPrecision);
      if (unit === "MILLIS") {
        return plan({ type: "INT32", logical_type: { type: "TIME", isAdjustedToUTC: false, unit } }, (v) =>
          Number(timeToUnits(String(v), unit) ?? unparsable("time")),
        );
      }
      return plan(
        { type: "INT64", logical_type: { type: "TIME", isAdjustedToUTC: false, unit } },
        (v) => timeToUnits(String(v), unit) ?? unparsable("time"),
      );
    }
    case "binary":
      return plan({ type: "BYTE_ARRAY" }, (v) =>
        typeof v === "string" ? base64ToBytes(v) : unparsable("base64 string"),
      );
    case "json":
      return plan({ type: "BYTE_ARRAY", converted_type: "JSON", logical_type: { type: "JSON" } }, (v) => v);
    case "decimal":
    case "wei": {
      const [defaultPrecision, defaultScale] =
        column.data_type === "wei" ? capabilities.weiPrecision : capabilities.decimalPrecision;
      const declared = column.precision ?? defaultPrecision;
      const declaredScale = column.scale ?? (column.precision === undefined ? defaultScale : 0);
      const { precision, scale, length } = parquetDecimal(declared, declaredScale);
      return plan(
        {
          type: "FIXED_LEN_BYTE_ARRAY",
          type_length: length,
          converted_type: "DECIMAL",
          precision,
          scale,
          logical_type: { type: "DECIMAL", precision, scale },
        },
        (v) => decimalToUnscaled(v, precision, scale),
      );
    }
  }
}

/** Builds a terminal job error about a value that does not fit its column. */
function valueError(table: string, column: string, line: number, reason: string): DestinationError {
  return new DestinationError(
    `[tsdlt] [filesystem] Value of column \`${column}\` in row ${line} of table \`${table}\` cannot be written to parquet: ${reason}. Fix the data or the column's type hints.`,
    { code: "DESTINATION_TERMINAL", retryable: false, destination: "filesystem", table, column },
  );
}

/**
 * Converts the `jsonl` job file at `input` into a parquet file at `output` with the table's complete
 * `columns`, in schema order. Keys missing from a line are NULL; keys not in `columns` are ignored.
 * Returns the number of rows written.
 */
export async function writeParquetFile(options: {
  readonly table: string;
  readonly columns: readonly CompleteColumnSchema[];
  readonly input: string;
  readonly output: string;
  readonly capabilities: DestinationCapabilities;
  readonly parquet?: ParquetOptions | undefined;
}): Promise<number> {
  const { table, columns, input, output, capabilities } = options;
  const rowGroupSize = options.parquet?.rowGroupSize ?? 20_000;
  const rowGroupChars = options.parquet?.rowGroupChars ?? 16 * 1024 * 1024;
  const plans = columns.map((c) => planColumn(c, capabilities));
  const schema: SchemaElement[] = [
    { name: "root", num_children: plans.length },
    ...plans.map((p) => p.element),
  ];
  const writer = new ParquetWriter({
    writer: fileWriter(output),
    schema,
    codec: "SNAPPY",
    createdBy: "tsdlt",
  });
  const exact = columns.filter((c) => c.data_type === "bigint").map((c) => c.name);

  let buffers: unknown[][] = plans.map(() => []);
  let buffered = 0;
  let chars = 0;
  let line = 0;
  const flush = async (): Promise<void> => {
    if (buffered === 0) return;
    const columnData: ColumnSource[] = plans.map((p, i) => ({
      name: p.name,
      data: buffers[i] as ColumnSource["data"],
    }));
    await writer.write({ columnData, rowGroupSize: buffered });
    buffers = plans.map(() => []);
    buffered = 0;
    chars = 0;
  };
  for await (const { row, chars: size } of readJsonlRows(input, exact)) {
    line++;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i] as ColumnPlan;
      const value = row[p.name];
      if (value === null || value === undefined) {
        if (p.required)
          throw valueError(table, p.name, line, "the column is not nullable but the row has no value");
        (buffers[i] as unknown[]).push(null);
        continue;
      }
      try {
        (buffers[i] as unknown[]).push(p.convert(value));
      } catch (cause) {
        const reason =
          cause instanceof RangeError || cause instanceof DecimalRangeError ? cause.message : String(cause);
        throw valueError(table, p.name, line, `${JSON.stringify(value)}: ${reason}`);
      }
    }
    buffered++;
    chars += size;
    if (buffered >= rowGroupSize || chars >= rowGroupChars) await flush();
  }
  await flush();
  await writer.finish();
  return line;
}
