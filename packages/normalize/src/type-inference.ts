/**
 * Type inference for new columns (REFERENCE §2.9): the schema's type detections, the natural type of
 * the value, then `preferred_types`; plus the column hints that `default_hints` give a new column.
 * Every lookup by column name is memoized: names repeat for every row.
 */
import { type ColumnHint, type DataType, isDataType, type Schema, SchemaError } from "@tsdlt/core";
import { parseIso } from "./datetime.js";

/** A compiled SimpleRegex: exact name, or `re:` + a regular expression searched in the name. */
export type NameMatcher = (name: string) => boolean;

/** Compiles a SimpleRegex; `where` says where the pattern comes from, for the error message. */
export function compileSimpleRegex(pattern: string, where = "in the schema settings"): NameMatcher {
  if (pattern.startsWith("re:")) {
    let re: RegExp;
    try {
      re = new RegExp(pattern.slice(3));
    } catch (cause) {
      throw new SchemaError(`The SimpleRegex \`${pattern}\` ${where} is not a valid regular expression.`, {
        code: "SCHEMA_INVALID",
        cause,
      });
    }
    return (name) => re.test(name);
  }
  return (name) => name === pattern;
}

/** Hints a new column gets from the schema's `default_hints`. */
export interface NewColumnHints {
  /** False when the name matches a `not_null` hint. */
  readonly nullable: boolean;
  /** Other boolean hints whose patterns match the name (`unique`, `row_key`, ...). */
  readonly props: readonly ColumnHint[];
}

/** dlt's legacy hint names and the column property each one sets. */
const LEGACY_HINTS: Readonly<Record<string, ColumnHint>> = { foreign_key: "parent_key" };

/** Seconds since the epoch when this process started (the `timestamp` detection's reference). */
const PROCESS_START_S = performance.timeOrigin / 1000;
/** ±5 years around the process start, as dlt's `timestamp` detection. */
const TIMESTAMP_RANGE_S = 5 * 31536000;
const INT64_MAX = 2n ** 63n - 1n;
/** Largest integer dlt's `large_integer` detection still maps to `wei`. */
const WEI_MAX = 578960446186580977117854925043439539266n;

/** A type detection: returns a data type for values it recognises. */
type Detection = (from: DataType, v: unknown) => DataType | undefined;

function asBigInt(v: unknown): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

/** The detections dlt knows, by the name used in `settings.detections`. */
const DETECTIONS: Readonly<Record<string, Detection>> = {
  iso_timestamp: (from, v) =>
    from === "text" && (v as string).length > 0 && parseIso(v as string)?.kind === "datetime"
      ? "timestamp"
      : undefined,
  iso_date: (from, v) =>
    from === "text" && (v as string).length > 0 && parseIso(v as string)?.kind === "date"
      ? "date"
      : undefined,
  timestamp: (from, v) => {
    if (from !== "bigint" && from !== "double") return undefined;
    const n = Number(v);
    return n >= PROCESS_START_S - TIMESTAMP_RANGE_S && n <= PROCESS_START_S + TIMESTAMP_RANGE_S
      ? "timestamp"
      : undefined;
  },
  large_integer: (from, v) => {
    if (from !== "bigint") return undefined;
    // only the positive side, as dlt (`v > 2**63 - 1`)
    const n = asBigInt(v);
    if (n === undefined || n <= INT64_MAX) return undefined;
    return n > WEI_MAX ? "text" : "wei";
  },
  wei_to_double: (from) => (from === "wei" ? "double" : undefined),
};

/** Memoized inference and hint lookups over one schema's settings. */
export class TypeInference {
  private readonly detections: readonly Detection[];
  private readonly preferred: readonly (readonly [NameMatcher, DataType])[];
  private readonly hints: readonly (readonly [string, readonly NameMatcher[]])[];
  private readonly preferredCache = new Map<string, DataType | null>();
  private readonly hintsCache = new Map<string, NewColumnHints>();

  constructor(schema: Schema) {
    const settings = schema.settings;
    this.detections = (settings.detections ?? [])
      .map((name) => DETECTIONS[name])
      .filter((d): d is Detection => d !== undefined);
    this.preferred = Object.entries(settings.preferred_types ?? {})
      .filter((entry): entry is [string, DataType] => isDataType(entry[1]))
      .map(([pattern, type]) => [compileSimpleRegex(pattern), type] as const);
    this.hints = Object.entries(settings.default_hints ?? {}).map(
      ([hint, patterns]) => [hint, patterns.map((pattern) => compileSimpleRegex(pattern))] as const,
    );
  }

  /** The preferred type of a column name, if a `preferred_types` pattern matches it. */
  preferredType(name: string): DataType | undefined {
    let type = this.preferredCache.get(name);
    if (type === undefined) {
      type = this.preferred.find(([match]) => match(name))?.[1] ?? null;
      this.preferredCache.set(name, type);
    }
    return type ?? undefined;
  }

  /** Hints that `default_hints` give a new column called `name`. */
  newColumnHints(name: string): NewColumnHints {
    let hints = this.hintsCache.get(name);
    if (hints === undefined) {
      let nullable = true;
      const props: ColumnHint[] = [];
      for (const [hint, matchers] of this.hints) {
        if (!matchers.some((match) => match(name))) continue;
        if (hint === "not_null") nullable = false;
        else props.push((LEGACY_HINTS[hint] ?? hint) as ColumnHint);
      }
      hints = { nullable, props };
      this.hintsCache.set(name, hints);
    }
    return hints;
  }

  /**
   * The data type of a new column receiving `v` (natural type `from`): first matching detection,
   * else the natural type; a preferred type wins unless `skipPreferred` (variant columns).
   */
  inferType(v: unknown, from: DataType, name: string, skipPreferred: boolean): DataType {
    if (!skipPreferred) {
      const preferred = this.preferredType(name);
      if (preferred !== undefined) return preferred;
    }
    for (const detect of this.detections) {
      const detected = detect(from, v);
      if (detected !== undefined) return detected;
    }
    return from;
  }
}
