/**
 * Date/time detection and coercion against what dlt 1.26.0 does with the same inputs
 * (fixtures/dlt-datetime-cases.json, made by tooling/dlt-reference/datetime_cases.py).
 */
import { readFileSync } from "node:fs";
import { Schema } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { columnInfo, encodeAs } from "../src/coercion.js";
import { TypeInference } from "../src/type-inference.js";

interface Outcome {
  value?: string;
  naive?: string;
  error?: string;
  in?: string;
}

interface DatetimeCase {
  input: string | number;
  iso_timestamp?: string | null;
  iso_date?: string | null;
  timestamp: Outcome;
  date: Outcome;
  time?: Outcome;
}

const { cases } = JSON.parse(
  readFileSync(new URL("./fixtures/dlt-datetime-cases.json", import.meta.url), "utf8"),
) as { cases: DatetimeCase[] };

/**
 * Where tsdlt deliberately differs. dlt fails the whole normalize step (OverflowError) when a
 * timestamp shifted to UTC leaves years 1..9999; tsdlt treats the value as not coercible (a variant).
 */
const DIFFERENCES: Readonly<Record<string, string>> = {
  "0001-01-01T00:00:00+01:00": "out of range in UTC: dlt crashes, tsdlt makes a variant",
  "9999-12-31T23:59:59-01:00": "out of range in UTC: dlt crashes, tsdlt makes a variant",
  "2024-01-01T10:00:00+24:00": "offset hour 24: dlt detects a timestamp it then cannot coerce",
  "2024-01-01T10:00:00+02:60": "offset minute 60: accepted by pendulum, rejected by tsdlt",
  "T10:00": "a `T`-prefixed time of day: pendulum takes `T10:00` but not `T10:00:00`; tsdlt takes neither",
};

/** `2024-01-01T10:00:00.100000+00:00` / `"2024-01-01T10:00:00.1Z"` → `2024-01-01T10:00:00.1Z`. */
function canonical(text: string): string {
  const m = /^"?(\d{4}-\d{2}-\d{2}T)?(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|\+00:00)?"?$/.exec(text);
  if (m === null) return text.replace(/^"(.*)"$/, "$1");
  const fraction = (m[3] ?? "").replace(/0+$/, "");
  return `${m[1] ?? ""}${m[2]}${fraction ? `.${fraction}` : ""}${m[4] ? "Z" : ""}`;
}

function expected(outcome: Outcome, naive = false): string | undefined {
  const value = naive ? outcome.naive : outcome.value;
  return value === undefined ? undefined : canonical(value);
}

const inference = new TypeInference(
  Object.assign(new Schema("dates"), {
    settings: { detections: ["iso_timestamp", "iso_date"] },
  }),
);
const TIMESTAMP = columnInfo({ name: "c", data_type: "timestamp" });
const NAIVE_TIMESTAMP = columnInfo({ name: "c", data_type: "timestamp", timezone: false });
const DATE = columnInfo({ name: "c", data_type: "date" });
const TIME = columnInfo({ name: "c", data_type: "time" });

function coerce(column: typeof TIMESTAMP, input: string | number): string | undefined {
  const from = typeof input === "string" ? "text" : Number.isInteger(input) ? "bigint" : "double";
  const out = encodeAs(column, from, input);
  return out === undefined ? undefined : canonical(out);
}

describe("dates and times as dlt 1.26.0 detects and coerces them", () => {
  const compared = cases.filter((c) => DIFFERENCES[String(c.input)] === undefined);

  it.each(compared.filter((c) => typeof c.input === "string"))("should detect $input like dlt", (c) => {
    const detected = inference.inferType(c.input, "text", "c", true);
    const dlt = c.iso_timestamp ?? c.iso_date ?? "text";
    expect(detected).toBe(dlt);
  });

  it.each(compared)("should coerce $input into timestamp, date and time columns like dlt", (c) => {
    expect(coerce(TIMESTAMP, c.input), "timestamp").toBe(expected(c.timestamp));
    expect(coerce(NAIVE_TIMESTAMP, c.input), "naive timestamp").toBe(expected(c.timestamp, true));
    expect(coerce(DATE, c.input), "date").toBe(c.date.value);
    if (c.time !== undefined) expect(coerce(TIME, c.input), "time").toBe(expected(c.time));
  });

  it("should list only differences that the fixture still holds", () => {
    const inputs = new Set(cases.map((c) => String(c.input)));
    for (const input of Object.keys(DIFFERENCES)) expect(inputs.has(input), input).toBe(true);
  });
});
