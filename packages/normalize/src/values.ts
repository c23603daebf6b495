/**
 * How normalize sees a value: its natural data type (dlt's `py_type_to_sc_type`) and PUA decoding of
 * typed-JSON strings. Values JS has no native type for (datetimes with sub-millisecond digits,
 * dates, times, decimals, wei) are kept as {@link TypedText}: their source text plus a data type.
 */
import { type DataType, decodePua, PUA_KINDS, PUA_START } from "@tsdlt/core";

/** A value carried as its source text, tagged with its data type (from a PUA-encoded string). */
export class TypedText {
  readonly type: "timestamp" | "date" | "time" | "decimal" | "wei";
  readonly text: string;

  constructor(type: TypedText["type"], text: string) {
    this.type = type;
    this.text = text;
  }
}

/**
 * Decodes a PUA-encoded string (the caller checked `isPuaEncoded`). Datetimes stay text (to keep
 * every fraction digit), UUIDs become plain strings, hex bytes become `Uint8Array`; bytes and bigints
 * go through core's `decodePua`. Undecodable values are returned unchanged.
 */
export function decodeTyped(s: string): unknown {
  switch (s.charCodeAt(0) - PUA_START) {
    case PUA_KINDS.datetime:
      return new TypedText("timestamp", s.slice(1));
    case PUA_KINDS.date:
      return new TypedText("date", s.slice(1));
    case PUA_KINDS.time:
      return new TypedText("time", s.slice(1));
    case PUA_KINDS.decimal:
      return new TypedText("decimal", s.slice(1));
    case PUA_KINDS.wei:
      return new TypedText("wei", s.slice(1));
    case PUA_KINDS.uuid:
      return s.slice(1);
    case PUA_KINDS.hexbytes: {
      const hex = s.slice(s.startsWith("0x", 1) ? 3 : 1);
      return /^(?:[0-9a-fA-F]{2})*$/.test(hex) ? new Uint8Array(Buffer.from(hex, "hex")) : s;
    }
    default:
      try {
        return decodePua(s);
      } catch {
        return s;
      }
  }
}

/** True for a plain object (a JSON object / Python dict), the only kind of value that is flattened. */
export function isDict(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The natural data type of a non-null, already decoded value. */
export function valueType(v: unknown): DataType {
  switch (typeof v) {
    case "string":
      return "text";
    case "number":
      return Number.isInteger(v) ? "bigint" : "double";
    case "bigint":
      return "bigint";
    case "boolean":
      return "bool";
    case "object":
      if (v instanceof TypedText) return v.type;
      if (v instanceof Uint8Array) return "binary";
      if (v instanceof Date) return "timestamp";
      return "json";
    default:
      // functions / symbols cannot come out of JSON; treat them as text
      return "text";
  }
}
