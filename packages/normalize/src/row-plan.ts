/**
 * Planned rows: the relational normalizer's fast path for items that look like the ones before them.
 *
 * Extracted items of one resource usually share one shape: the same keys in the same order, each
 * value of the type its column already has. After the general path normalized an item, the
 * normalizer learns a {@link RowPlan} from it: the item's keys as the exact bytes the extracted JSON
 * spells them with, which keys are nested dicts (flattened) or lists (nested tables), and for every
 * column the encoding its values take. A later item is then scanned as UTF-8 bytes against the plan
 * ({@link RowPlan.scan}): a string, number or boolean that already has the text its column writes is
 * copied into the normalized row as it is, without `JSON.parse`, objects or strings; any other
 * scalar (a typed PUA value, a number for a `text` column, an escaped string) is coerced as the
 * general path does it.
 *
 * Whatever the plan does not foresee — another key or key order, a value that needs a variant column
 * or a new one, a null in a column that does not take one, an invalid escape — makes the scan fail
 * before anything is written, and the item goes the general way. The output is byte-for-byte what the general path writes (a test
 * normalizes the same packages both ways).
 */
import { isPuaEncoded } from "@tsdlt/core";
import { type ColumnInfo, encodeAs } from "./coercion.js";
import { csvText } from "./csv-text.js";
import {
  FALSE_BYTES,
  isCanonicalUtcBytes,
  isLiteral,
  NULL_BYTES,
  numberIsPlainDecimal,
  numberIsPlainInteger,
  scanNumber,
  scanString,
  skipValue,
  stringHasEscape,
  TRUE_BYTES,
} from "./json-bytes.js";
import { decodeTyped, valueType } from "./values.js";

/**
 * How a planned column's values are checked and written (from the column's data type): the values
 * named here are copied as they are; other values of any encoding are coerced as the general path
 * does them.
 */
export const Encoding = {
  /** `text`: a string without escapes. */
  text: 0,
  /** `timestamp` with time zone: a string in the canonical UTC form. */
  timestampUtc: 1,
  /** `bigint`: a plain integer. */
  bigint: 2,
  /** `double`: a plain integer or decimal (others are rendered as `String(n)`). */
  double: 3,
  /** `bool`: `true` / `false`. */
  bool: 4,
  /** A column without a data type yet: only null is planned (the normalizer records it). */
  untyped: 5,
  /** Any other column type: every value is coerced. */
  other: 6,
} as const;
export type Encoding = (typeof Encoding)[keyof typeof Encoding];

/** A field of a planned scan result: null, skipped (no output). */
export const FIELD_NULL = -1;
/** A field of a planned scan result: null in a column without a data type (the normalizer records it). */
export const FIELD_UNTYPED_NULL = -2;

const MEMBER_LEAF = 0;
const MEMBER_DICT = 1;
const MEMBER_LIST = 2;

/** One key of a planned object, in the order the extracted JSON has it. */
interface PlanMember {
  /** `"<key>":`, preceded by `,` unless it is the object's first key, as UTF-8. */
  readonly key: Uint8Array;
  readonly kind: typeof MEMBER_LEAF | typeof MEMBER_DICT | typeof MEMBER_LIST;
  /** Leaf: the output field; list: the list's index in the row. */
  readonly index: number;
  /** Dict: its own members (flattened into the row). */
  readonly dict: PlannedObject | undefined;
}

/** The planned keys of one (possibly nested) object. */
export class PlannedObject {
  readonly members: PlanMember[] = [];

  addLeaf(key: string, field: number): void {
    this.members.push({
      key: keyBytes(key, this.members.length),
      kind: MEMBER_LEAF,
      index: field,
      dict: undefined,
    });
  }

  addDict(key: string): PlannedObject {
    const dict = new PlannedObject();
    this.members.push({ key: keyBytes(key, this.members.length), kind: MEMBER_DICT, index: -1, dict });
    return dict;
  }

  addList(key: string, list: number): void {
    this.members.push({
      key: keyBytes(key, this.members.length),
      kind: MEMBER_LIST,
      index: list,
      dict: undefined,
    });
  }
}

/** The character of the 2- or 3-byte UTF-8 sequence at `p` (a 4-byte one gives a non-marker). */
function firstCharacter(b: Buffer, p: number): string {
  const lead = b[p] as number;
  if (lead < 0xe0) return String.fromCharCode(((lead & 0x1f) << 6) | ((b[p + 1] as number) & 0x3f));
  if (lead >= 0xf0) return "";
  return String.fromCharCode(
    ((lead & 0x0f) << 12) | (((b[p + 1] as number) & 0x3f) << 6) | ((b[p + 2] as number) & 0x3f),
  );
}

function keyBytes(key: string, position: number): Uint8Array {
  return Buffer.from(`${position === 0 ? "" : ","}${JSON.stringify(key)}:`, "utf8");
}

/**
 * The plan of one table's rows at one nesting level. `S` is the normalizer's column handle (its
 * slot), `T` its table handle. The scan fills the per-field arrays, which the normalizer reads to
 * assemble the row: fields in the order the general path writes them (its flattening order).
 */
export class RowPlan<S, T> {
  readonly level: number;
  readonly root: PlannedObject = new PlannedObject();
  /** Per output field: the column handle, `,"<column>":` as UTF-8, the encoding and nullability. */
  readonly slots: S[] = [];
  readonly fieldKeys: Uint8Array[] = [];
  readonly encodings: Encoding[] = [];
  /** Per output field: the column (undefined while it has no data type). */
  readonly cols: (ColumnInfo | undefined)[] = [];
  /** Per list of the row: the nested table. */
  readonly listTables: T[] = [];
  /** Names the incoming propagated values (`extend`) must have, in order (nested tables). */
  readonly extendNames: readonly string[];
  /** Columns that receive this row's `_dlt_id` in the rows of its nested tables (propagation). */
  readonly propagateTo: readonly string[];
  /** `,"<column>":` of the propagated values, the parent id, list index and row id, as UTF-8. */
  readonly extendKeys: readonly Uint8Array[];
  readonly parentIdKey: Uint8Array;
  readonly listIdxKey: Uint8Array;
  readonly idKey: Uint8Array;
  /** `,"_dlt_load_id":"<load id>"` as UTF-8 (root rows). */
  readonly loadIdField: Uint8Array;
  /** `csv`: the load id as a field. */
  readonly csvLoadId: Uint8Array;
  /** `csv`: the generation of the writer's open file the order below was made for (see `JobWriter`). */
  csvGeneration = -1;
  /** `csv`: the parts of a record (data fields from 0, the normalizer's own columns below 0) in header order, with their positions. */
  csvParts: Int32Array = new Int32Array(0);
  csvPositions: Int32Array = new Int32Array(0);
  /** `csv`: the parts whose column is not in the open file's header. */
  csvMissing: Int32Array = new Int32Array(0);
  /** Bytes of a row's fixed parts, at most (the row size bound adds the fields to it). */
  readonly fixedBytes: number;
  /** Scan result per field: start of the value's bytes, or {@link FIELD_NULL} / {@link FIELD_UNTYPED_NULL}. */
  starts: Int32Array = new Int32Array(0);
  ends: Int32Array = new Int32Array(0);
  /** Scan result per field: the text to write instead of the bytes (decoded-and-encoded values). */
  texts: (string | undefined)[] = [];
  /** Runs of fields as `[first, last, ...]`, in order: a run's fields may be copied as one block. */
  runs: Int32Array = new Int32Array(0);
  /** Per field: bytes of `"<key>":` in the item (before the value). */
  headLengths: Int32Array = new Int32Array(0);
  /** Scan result per list: the bytes of the list, brackets included. */
  listStarts: Int32Array = new Int32Array(0);
  listEnds: Int32Array = new Int32Array(0);

  constructor(
    level: number,
    extendNames: readonly string[],
    propagateTo: readonly string[],
    bytes: {
      readonly extendKeys: readonly Uint8Array[];
      readonly loadIdField: Uint8Array;
      readonly parentIdKey: Uint8Array;
      readonly listIdxKey: Uint8Array;
      readonly idKey: Uint8Array;
      readonly csvLoadId: Uint8Array;
    },
  ) {
    this.level = level;
    this.extendNames = extendNames;
    this.propagateTo = propagateTo;
    this.extendKeys = bytes.extendKeys;
    this.loadIdField = bytes.loadIdField;
    this.parentIdKey = bytes.parentIdKey;
    this.listIdxKey = bytes.listIdxKey;
    this.idKey = bytes.idKey;
    this.csvLoadId = bytes.csvLoadId;
    let fixed =
      this.loadIdField.length + this.parentIdKey.length + this.listIdxKey.length + this.idKey.length;
    for (const key of this.extendKeys) fixed += key.length;
    this.fixedBytes = fixed + 24;
  }

  /** True when the propagated values a row receives are the ones the plan was made with (strings). */
  acceptsExtend(extend: readonly unknown[] | undefined): boolean {
    const names = this.extendNames;
    if (extend === undefined) return names.length === 0;
    if (extend.length !== names.length * 2) return false;
    for (let i = 0; i < names.length; i++) {
      if (extend[2 * i] !== names[i] || typeof extend[2 * i + 1] !== "string") return false;
    }
    return true;
  }

  addField(slot: S, sepKey: string, col: ColumnInfo | undefined): number {
    this.slots.push(slot);
    this.fieldKeys.push(Buffer.from(sepKey, "utf8"));
    this.encodings.push(encodingOf(col));
    this.cols.push(col);
    return this.slots.length - 1;
  }

  addListTable(table: T): number {
    this.listTables.push(table);
    return this.listTables.length - 1;
  }

  /**
   * Completes the plan: sizes the scan arrays and finds the runs of fields that can be copied as one
   * block — fields that follow each other in the item as in the row, each written under the key it
   * has in the item (`"id":1,"node_id":"x",...`).
   */
  seal(): void {
    const fields = this.slots.length;
    this.headLengths = new Int32Array(fields);
    const runEnd = new Int32Array(fields).map((_, f) => f);
    const objects: PlannedObject[] = [this.root];
    for (let k = 0; k < objects.length; k++) {
      const members = (objects[k] as PlannedObject).members;
      let previous = -1;
      for (let m = 0; m < members.length; m++) {
        const member = members[m] as PlanMember;
        if (member.kind === MEMBER_DICT) objects.push(member.dict as PlannedObject);
        if (member.kind !== MEMBER_LEAF) {
          previous = -1;
          continue;
        }
        const f = member.index;
        const head = m === 0 ? member.key : member.key.subarray(1);
        this.headLengths[f] = head.length;
        const sameKey = Buffer.compare(head, (this.fieldKeys[f] as Uint8Array).subarray(1)) === 0;
        if (sameKey && previous >= 0 && f === previous + 1) {
          let first = previous;
          while (first > 0 && runEnd[first - 1] === previous) first--;
          for (let g = first; g <= previous; g++) runEnd[g] = f;
          runEnd[f] = f;
        }
        previous = sameKey ? f : -1;
      }
    }
    const runs: number[] = [];
    for (let f = 0; f < fields; f = (runEnd[f] as number) + 1) runs.push(f, runEnd[f] as number);
    this.runs = Int32Array.from(runs);
    this.starts = new Int32Array(fields);
    this.ends = new Int32Array(fields);
    this.texts = new Array(fields).fill(undefined);
    this.listStarts = new Int32Array(this.listTables.length);
    this.listEnds = new Int32Array(this.listTables.length);
  }

  /**
   * Scans the object at `pos` against the plan, filling the scan result; returns the index after the
   * object, or -1 when the object does not follow the plan (nothing was written: take the general
   * path).
   */
  scan(b: Buffer, pos: number, end: number): number {
    return this.scanObject(this.root, b, pos, end);
  }

  private scanObject(object: PlannedObject, b: Buffer, pos: number, end: number): number {
    if (b[pos] !== 0x7b /* { */) return -1;
    let p = pos + 1;
    const members = object.members;
    for (let m = 0; m < members.length; m++) {
      const member = members[m] as PlanMember;
      const key = member.key;
      const keyLength = key.length;
      if (p + keyLength > end) return -1;
      for (let i = 0; i < keyLength; i++) if (b[p + i] !== key[i]) return -1;
      p += keyLength;
      if (member.kind === MEMBER_LEAF) {
        p = this.scanField(member.index, b, p, end);
      } else if (member.kind === MEMBER_DICT) {
        p = this.scanObject(member.dict as PlannedObject, b, p, end);
      } else {
        if (b[p] !== 0x5b /* [ */) return -1;
        const listEnd = skipValue(b, p, end);
        this.listStarts[member.index] = p;
        this.listEnds[member.index] = listEnd;
        p = listEnd;
      }
      if (p < 0) return -1;
    }
    return b[p] === 0x7d /* } */ ? p + 1 : -1;
  }

  /** Scans the value of field `f` at `p`; returns the index after it, or -1. */
  private scanField(f: number, b: Buffer, p: number, end: number): number {
    const c = b[p] as number;
    this.texts[f] = undefined;
    const encoding = this.encodings[f];
    if (c === 0x6e /* n */) {
      if (!isLiteral(b, p, end, NULL_BYTES)) return -1;
      if (encoding === Encoding.untyped) this.starts[f] = FIELD_UNTYPED_NULL;
      else if (this.cols[f]?.nullable === true) this.starts[f] = FIELD_NULL;
      else return -1;
      return p + 4;
    }
    // a value for a column without a type: the general path infers the column
    if (encoding === Encoding.untyped) return -1;
    let next: number;
    if (c === 0x22 /* " */) {
      next = scanString(b, p, end);
      if (next < 0) return -1;
      const plain =
        !stringHasEscape && !((b[p + 1] as number) >= 0xc0 && isPuaEncoded(firstCharacter(b, p + 1)));
      if (plain && encoding === Encoding.text) return this.take(f, p, next);
      if (plain && encoding === Encoding.timestampUtc && isCanonicalUtcBytes(b, p + 1, next - 1)) {
        return this.take(f, p, next);
      }
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */) {
      const word = c === 0x74 ? TRUE_BYTES : FALSE_BYTES;
      if (!isLiteral(b, p, end, word)) return -1;
      next = p + word.length;
      if (encoding === Encoding.bool) return this.take(f, p, next);
    } else {
      next = scanNumber(b, p, end);
      if (next < 0) return -1;
      if (numberIsPlainInteger && (encoding === Encoding.bigint || encoding === Encoding.double)) {
        return this.take(f, p, next);
      }
      if (encoding === Encoding.double) {
        if (numberIsPlainDecimal) return this.take(f, p, next);
        // a fraction or exponent: the shortest text of the number, as `String(n)` gives it
        const value = Number(b.toString("latin1", p, next));
        if (Number.isFinite(value)) {
          this.texts[f] = String(value);
          return this.take(f, p, next);
        }
      }
    }
    // not the column's own text: encode the value as the general path does (coercion, typed values)
    let value: unknown;
    try {
      value = JSON.parse(b.toString("utf8", p, next));
    } catch {
      return -1; // (an invalid escape: the general path reports the line)
    }
    const fragment = this.coerced(f, value);
    if (fragment === undefined) return -1;
    this.texts[f] = fragment;
    return this.take(f, p, next);
  }

  private take(f: number, start: number, end: number): number {
    this.starts[f] = start;
    this.ends[f] = end;
    return end;
  }

  /**
   * The field text of scalar `raw` for the column of field `f`, as the normalizer's `encodeField`
   * renders it (a pure mirror of its coercing branch); undefined when the value needs a variant
   * column, or fails (the general path then reports it).
   */
  private coerced(f: number, raw: unknown): string | undefined {
    const col = this.cols[f] as ColumnInfo;
    if (typeof raw === "string") {
      if (isPuaEncoded(raw)) {
        const typed = decodeTyped(raw);
        return encodeAs(col, valueType(typed), typed);
      }
      if (col.type === "text") return JSON.stringify(raw);
      // (the canonical-text shortcut of a timestamp column is only taken for unescaped strings)
      return col.type === "timestamp" ? undefined : encodeAs(col, "text", raw);
    }
    if (typeof raw === "number") {
      const native =
        col.type === "bigint" ? Number.isSafeInteger(raw) : col.type === "double" && Number.isFinite(raw);
      return native ? String(raw) : encodeAs(col, Number.isInteger(raw) ? "bigint" : "double", raw);
    }
    if (typeof raw === "boolean") return col.type === "bool" ? String(raw) : encodeAs(col, "bool", raw);
    return undefined;
  }
}

/** How the planned-row fast path writes values of a column. */
function encodingOf(col: ColumnInfo | undefined): Encoding {
  if (col === undefined) return Encoding.untyped;
  switch (col.type) {
    case "text":
      return Encoding.text;
    case "timestamp":
      return col.timezone ? Encoding.timestampUtc : Encoding.other;
    case "bigint":
      return Encoding.bigint;
    case "double":
      return Encoding.double;
    case "bool":
      return Encoding.bool;
    default:
      return Encoding.other;
  }
}

/** Copies bytes `[start, end)` of `src` to `out` at `o`; returns the index after them. */
export function copyBytes(out: Uint8Array, o: number, src: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n > 48) {
    // a plain view: cheaper to make than a Buffer's `subarray`
    out.set(new Uint8Array(src.buffer, src.byteOffset + start, n), o);
  } else {
    for (let i = 0; i < n; i++) out[o + i] = src[start + i] as number;
  }
  return o + n;
}

/**
 * Writes `text` as a JSON string (quoted) to `out` at `o` when it is printable ASCII without `"` or
 * a backslash (an id); returns the index after it, or -1 (nothing that counts was written).
 */
export function writeJsonAscii(out: Uint8Array, o: number, text: string): number {
  out[o] = 0x22;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    out[o + 1 + i] = c;
  }
  out[o + 1 + text.length] = 0x22;
  return o + text.length + 2;
}

/** Writes an ASCII string (an id) to `out` at `o`; returns the index after it. */
export function writeAscii(out: Uint8Array, o: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[o + i] = text.charCodeAt(i);
  return o + text.length;
}

/**
 * Bytes that make a `csv` field quoted wherever they are: the byte twin of `csvText`'s rules, for the
 * content of an unescaped JSON string (which has no `"`, `\n` or `\r`, but the rule stays whole).
 */
function csvQuoteAnywhere(c: number): boolean {
  return c === 0x2c || c === 0x22 || c === 0x0a || c === 0x0d;
}

/** Bytes that make a `csv` field quoted at its start or end: space, tab (and `\` at the start). */
function csvEdge(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Writes the text bytes `[start, end)` (a JSON string's content without escapes) as a `csv` field —
 * quoted when `csvText` would quote it; returns the index after it.
 */
export function writeCsvContent(
  out: Uint8Array,
  o: number,
  b: Uint8Array,
  start: number,
  end: number,
): number {
  let quote =
    end === start || csvEdge(b[start] as number) || b[start] === 0x5c || csvEdge(b[end - 1] as number);
  for (let i = start; i < end && !quote; i++) quote = csvQuoteAnywhere(b[i] as number);
  if (!quote) return copyBytes(out, o, b, start, end);
  out[o] = 0x22;
  const next = copyBytes(out, o + 1, b, start, end);
  out[next] = 0x22;
  return next + 1;
}

/** Writes string `text` as a `csv` field (quoted as `csvText` quotes it); returns the index after it. */
export function writeCsvString(out: Buffer, o: number, text: string): number {
  const field = csvText(text);
  for (let i = 0; i < field.length; i++) {
    if (field.charCodeAt(i) > 0x7f) return o + out.write(field, o, "utf8");
  }
  return writeAscii(out, o, field);
}
