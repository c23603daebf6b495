/** JSON renderings used by normalize: `json` column values (PUA markers removed) and hash input. */
import { isPuaEncoded, PUA_KINDS, PUA_START } from "@tsdlt/core";
import { TypedText } from "./values.js";

/** The plain JSON of a PUA string: the encoded text, or bare digits for a tsdlt bigint. */
function plainPua(s: string): string {
  const body = s.slice(1);
  if (s.charCodeAt(0) - PUA_START === PUA_KINDS.bigint && /^-?\d+$/.test(body)) return body;
  return JSON.stringify(body);
}

/**
 * Compact JSON of a `json` value as written to job files: PUA markers removed (dlt's
 * `custom_pua_remove`), bigints as bare digits, binary as base64, non-finite numbers as `null`.
 */
export function jsonOf(v: unknown): string {
  switch (typeof v) {
    case "string":
      return isPuaEncoded(v) ? plainPua(v) : JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) {
        let out = "[";
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out += ",";
          const e: unknown = v[i];
          out += e === undefined || typeof e === "function" || typeof e === "symbol" ? "null" : jsonOf(e);
        }
        return `${out}]`;
      }
      if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString("base64"));
      if (v instanceof Date) return JSON.stringify(v.toISOString());
      if (v instanceof TypedText) return JSON.stringify(v.text);
      let out = "{";
      let first = true;
      const obj = v as Record<string, unknown>;
      for (const key in obj) {
        const e = obj[key];
        if (e === undefined || typeof e === "function" || typeof e === "symbol") continue;
        out += `${first ? "" : ","}${JSON.stringify(key)}:${jsonOf(e)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return "null";
  }
}

/**
 * Compact JSON with object keys sorted at every level and values as they arrived (PUA strings
 * intact), the input of dlt's `key_hash` / `row_hash` row ids.
 */
export function sortedJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint") return v.toString();
  if (typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(",")}]`;
  if (v instanceof Uint8Array || v instanceof Date || v instanceof TypedText) return jsonOf(v);
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson(obj[k])}`).join(",")}}`;
}
