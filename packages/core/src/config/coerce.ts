/**
 * Turns provider values into the types a spec asks for: environment variables are strings, so
 * `"5432"` becomes a number, `"true"` a boolean and `'["a","b"]'` a list (JSON; Python literals with
 * single quotes, `True`/`False`/`None` are accepted too, as dlt documents them).
 */
import type { z } from "zod";
import { schemaDef, unwrapSchema } from "./schema-meta.js";

const TRUE = new Set(["true", "1", "yes", "on", "y", "t"]);
const FALSE = new Set(["false", "0", "no", "off", "n", "f"]);

/** Parses a JSON (or Python-literal) list or object; `undefined` when it is neither. */
export function parseStructured(text: string): unknown {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    // Python literal: single quotes, True/False/None.
    const json = trimmed
      .replace(/'((?:[^'\\]|\\.)*)'/g, (_m, inner: string) => JSON.stringify(inner.replace(/\\'/g, "'")))
      .replace(/\bTrue\b/g, "true")
      .replace(/\bFalse\b/g, "false")
      .replace(/\bNone\b/g, "null")
      .replace(/,\s*([\]}])/g, "$1");
    try {
      return JSON.parse(json);
    } catch {
      return undefined;
    }
  }
}

/**
 * Casts a string without a target type, as dlt's accessors do: booleans, integers, floats and
 * JSON/Python lists and objects; anything else stays a string.
 */
export function autoCast(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (trimmed === "true" || trimmed === "True") return true;
  if (trimmed === "false" || trimmed === "False") return false;
  if (/^[+-]?\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(trimmed)) return Number(trimmed);
  const structured = parseStructured(trimmed);
  return structured === undefined ? value : structured;
}

/** Coerces `raw` towards `schema`'s type; returns `raw` unchanged when it cannot. zod validates afterwards. */
export function coerceValue(raw: unknown, schema: z.ZodType): unknown {
  if (raw === undefined || raw === null) return raw;
  const { inner, type } = unwrapSchema(schema);
  const def = schemaDef(inner);
  switch (type) {
    case "string":
    case "template_literal":
      if (typeof raw === "number" || typeof raw === "boolean" || typeof raw === "bigint") return String(raw);
      if (raw instanceof Date) return raw.toISOString();
      return raw;
    case "number":
    case "int":
      if (typeof raw === "string" && raw.trim() !== "" && !Number.isNaN(Number(raw))) return Number(raw);
      if (typeof raw === "bigint") return Number(raw);
      return raw;
    case "bigint":
      if (typeof raw === "string" || typeof raw === "number") {
        try {
          return BigInt(raw);
        } catch {
          return raw;
        }
      }
      return raw;
    case "boolean":
      if (typeof raw === "string") {
        const lower = raw.trim().toLowerCase();
        if (TRUE.has(lower)) return true;
        if (FALSE.has(lower)) return false;
      }
      if (raw === 1 || raw === 0) return raw === 1;
      return raw;
    case "date":
      if (typeof raw === "string" || typeof raw === "number") {
        const d = new Date(raw);
        return Number.isNaN(d.getTime()) ? raw : d;
      }
      return raw;
    case "array": {
      const list = typeof raw === "string" ? (parseStructured(raw) ?? raw) : raw;
      return Array.isArray(list) ? list.map((item) => coerceValue(item, def.element as z.ZodType)) : list;
    }
    case "record": {
      const table = typeof raw === "string" ? (parseStructured(raw) ?? raw) : raw;
      if (typeof table !== "object" || table === null || Array.isArray(table)) return table;
      return Object.fromEntries(
        Object.entries(table).map(([k, v]) => [k, coerceValue(v, def.valueType as z.ZodType)]),
      );
    }
    case "object":
    case "tuple":
    case "map":
    case "set":
      return typeof raw === "string" ? (parseStructured(raw) ?? raw) : raw;
    case "literal": {
      if (typeof raw !== "string") return raw;
      for (const literal of def.values as Iterable<unknown>) {
        if (String(literal) === raw) return literal;
      }
      return raw;
    }
    case "union": {
      for (const option of def.options as readonly z.ZodType[]) {
        if (option.safeParse(raw).success) return raw;
      }
      for (const option of def.options as readonly z.ZodType[]) {
        const coerced = coerceValue(raw, option);
        if (option.safeParse(coerced).success) return coerced;
      }
      return raw;
    }
    default:
      return raw;
  }
}
