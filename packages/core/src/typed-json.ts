/**
 * Typed JSON: JSON in which values JSON cannot hold are strings prefixed with one Unicode private-use
 * character (dlt's PUA encoding, starting at U+F026). Used for `state.json`, extracted `typed-jsonl`
 * files and the compressed state in `_dlt_pipeline_state`, so files round-trip with Python dlt.
 */

/** First PUA code point (env `DLT_JSON_TYPED_PUA_START` overrides, as in dlt). */
export const PUA_START: number =
  Number.parseInt(process.env.DLT_JSON_TYPED_PUA_START ?? "0xF026", 16) || 0xf026;

/** Offsets from {@link PUA_START} for each encoded kind, in dlt's order. */
export const PUA_KINDS = {
  decimal: 0,
  datetime: 1,
  date: 2,
  uuid: 3,
  hexbytes: 4,
  bytes: 5,
  wei: 6,
  time: 7,
  /** tsdlt extension: a JS `bigint` (dlt stores arbitrary-size ints as JSON numbers). */
  bigint: 8,
} as const;
export type PuaKind = keyof typeof PUA_KINDS;

const PUA_DATETIME = String.fromCharCode(PUA_START + PUA_KINDS.datetime);
const PUA_BYTES = String.fromCharCode(PUA_START + PUA_KINDS.bytes);
const PUA_BIGINT = String.fromCharCode(PUA_START + PUA_KINDS.bigint);
const PUA_END = PUA_START + PUA_KINDS.bigint;

/** A decoded PUA value that JS has no native type for; carried as its string form. */
export interface TypedScalar {
  readonly kind: "decimal" | "date" | "uuid" | "hexbytes" | "wei" | "time";
  readonly value: string;
}

/** True when `s` starts with a PUA marker (cheap check for hot loops). */
export function isPuaEncoded(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= PUA_START && c <= PUA_END;
}

/** Decodes one PUA-prefixed string; returns the string unchanged when it is not encoded. */
export function decodePua(s: string): unknown {
  const c = s.charCodeAt(0);
  if (c < PUA_START || c > PUA_END) return s;
  const body = s.slice(1);
  switch (c - PUA_START) {
    case PUA_KINDS.datetime: {
      const d = new Date(body);
      return Number.isNaN(d.getTime()) ? s : d;
    }
    case PUA_KINDS.bytes:
      return new Uint8Array(Buffer.from(body, "base64"));
    case PUA_KINDS.bigint:
      return /^-?\d+$/.test(body) ? BigInt(body) : s;
    case PUA_KINDS.decimal:
      return { kind: "decimal", value: body } satisfies TypedScalar;
    case PUA_KINDS.date:
      return { kind: "date", value: body } satisfies TypedScalar;
    case PUA_KINDS.uuid:
      return { kind: "uuid", value: body } satisfies TypedScalar;
    case PUA_KINDS.hexbytes:
      return { kind: "hexbytes", value: body } satisfies TypedScalar;
    case PUA_KINDS.wei:
      return { kind: "wei", value: body } satisfies TypedScalar;
    case PUA_KINDS.time:
      return { kind: "time", value: body } satisfies TypedScalar;
    default:
      return s;
  }
}

/** `JSON.stringify` replacer that PUA-encodes Date, bigint and binary values. */
export function typedJsonReplacer(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case "bigint":
      return PUA_BIGINT + value.toString();
    case "string": {
      // Date#toJSON already ran; look at the holder to recover the Date.
      const raw = (this as Record<string, unknown>)[key];
      if (raw instanceof Date) return PUA_DATETIME + value;
      return value;
    }
    case "object":
      if (value instanceof Uint8Array) return PUA_BYTES + Buffer.from(value).toString("base64");
      if ((value as { type?: unknown } | null)?.type === "Buffer") {
        // Buffer#toJSON already ran; look at the holder to recover the bytes.
        const raw = (this as Record<string, unknown>)[key];
        if (raw instanceof Uint8Array) return PUA_BYTES + Buffer.from(raw).toString("base64");
      }
      return value;
    default:
      return value;
  }
}

/** Serializes to typed JSON. */
export function toTypedJson(value: unknown, space?: number): string {
  return JSON.stringify(value, typedJsonReplacer, space);
}

function typedJsonReviver(_key: string, value: unknown): unknown {
  return typeof value === "string" && isPuaEncoded(value) ? decodePua(value) : value;
}

/** Parses typed JSON, restoring Dates, bigints and binary values. */
export function fromTypedJson<T = unknown>(text: string): T {
  return JSON.parse(text, typedJsonReviver) as T;
}
