/**
 * Fields of `csv` job files (RFC 4180 with `\n` line ends). A field is quoted when a CSV reader
 * could take it for something else: the empty string (an unquoted empty field is NULL), a field with
 * `,` `"` `\n` `\r`, one starting with `\` (Postgres reads a line `\.` as the end of the data), and
 * one starting or ending with a space or tab (readers that trim would change it).
 */

import type { DataType } from "@tsdlt/core";

/** Characters that make a field quoted wherever they are. */
const SPECIAL = /[",\n\r]/;

/** `s` as a CSV field: as it is, or quoted with inner `"` doubled (see the module docs). */
export function csvText(s: string): string {
  const n = s.length;
  if (n === 0) return '""';
  const c0 = s.charCodeAt(0);
  const cn = s.charCodeAt(n - 1);
  if (c0 === 0x20 || c0 === 0x09 || c0 === 0x5c || cn === 0x20 || cn === 0x09 || SPECIAL.test(s)) {
    return quoteCsv(s);
  }
  return s;
}

/** `s` quoted, inner `"` doubled. */
export function quoteCsv(s: string): string {
  return `"${s.includes('"') ? s.replaceAll('"', '""') : s}"`;
}

/** Commas by count, made once: the separators of the fields between two values of a record. */
const COMMAS: string[] = [""];

/** `k` commas (none for `k <= 0`). */
export function commas(k: number): string {
  if (k <= 0) return "";
  while (COMMAS.length <= k) COMMAS.push(`${COMMAS[COMMAS.length - 1]},`);
  return COMMAS[k] as string;
}

/** The text of a JSON string fragment (as `encodeAs` renders it), parsed only when it has escapes. */
function jsonStringText(fragment: string): string {
  return fragment.includes("\\") ? (JSON.parse(fragment) as string) : fragment.slice(1, -1);
}

/**
 * The CSV field of a value that `encodeAs` rendered as the JSON fragment of a `jsonl` line, for a
 * column of data type `type`: numbers and booleans as they are (a non-finite double without its JSON
 * quotes), `json` always quoted, `binary` as `\x` and lowercase hex (Postgres' `bytea` input), any
 * other type as its text.
 */
export function csvFromJson(type: DataType, fragment: string): string {
  switch (type) {
    case "bigint":
    case "bool":
      return fragment;
    case "double":
      return fragment.charCodeAt(0) === 0x22 ? fragment.slice(1, -1) : fragment;
    case "json":
      return quoteCsv(fragment);
    case "binary":
      return `"\\x${Buffer.from(jsonStringText(fragment), "base64").toString("hex")}"`;
    default:
      return csvText(jsonStringText(fragment));
  }
}
