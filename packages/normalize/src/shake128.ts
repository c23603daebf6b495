/**
 * dlt's `digest128` (base64 of the first 10 bytes of SHAKE-128 of the UTF-8 text, without padding)
 * for the ids of nested rows, computed by a small WebAssembly Keccak-f[1600] built at load time.
 * Byte-identical to core's {@link digest128} (which uses `node:crypto`), and 2–3× faster for the short
 * texts hashed per nested row (`<parent id>_<table>_<index>`), where the cost of `createHash` is
 * mostly per call. Texts that are not ASCII or longer than one SHAKE-128 block (167 bytes) go to
 * core's implementation.
 */
import { DLT_ID_LENGTH_BYTES, digest128 } from "@tsdlt/core";

/** SHAKE-128 rate in bytes: the input must fit one block, padding included. */
const RATE = 168;
/** Where the module's memory holds the 24 round constants (little-endian u64, set at start). */
const RC_OFFSET = 256;

/** Round constants of Keccak-f[1600]. */
function roundConstants(): bigint[] {
  const out: bigint[] = [];
  let r = 1;
  for (let round = 0; round < 24; round++) {
    let rc = 0n;
    for (let j = 0; j < 7; j++) {
      r = ((r << 1) ^ ((r >> 7) * 0x71)) % 256;
      if (r & 2) rc ^= 1n << ((1n << BigInt(j)) - 1n);
    }
    out.push(rc);
  }
  return out;
}

/** Rotation offsets of the rho step, by lane index `x + 5y`. */
function rotationOffsets(): number[] {
  const rot = new Array<number>(25).fill(0);
  let x = 1;
  let y = 0;
  for (let t = 0; t < 24; t++) {
    rot[x + 5 * y] = (((t + 1) * (t + 2)) / 2) % 64;
    const nextY = (2 * x + 3 * y) % 5;
    x = y;
    y = nextY;
  }
  return rot;
}

function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function sleb64(value: bigint): number[] {
  let v = BigInt.asIntN(64, value);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/**
 * A WebAssembly module exporting memory `m` and `f(n)`: pads the `n` input bytes at `m[0..n)` as one
 * SHAKE-128 block (domain byte 0x1f, final bit 0x80), runs Keccak-f[1600] (a loop over the 24
 * rounds, state in 25 i64 locals, round constants read from `m[256..448)`) and stores the first 16
 * bytes of the state at `m[0..16)`.
 */
function keccakModule(): Uint8Array {
  const rot = rotationOffsets();
  // the round counter (i32 local 57)
  const r = 57;
  // locals: 0 = n (param), 1..25 = state, 26..50 = B, 51..55 = C, 56 = D
  const s = (i: number): number => 1 + i;
  const b = (i: number): number => 26 + i;
  const c = (i: number): number => 51 + i;
  const d = 56;
  const code: number[] = [];
  const get = (l: number): void => void code.push(0x20, ...uleb(l));
  const set = (l: number): void => void code.push(0x21, ...uleb(l));
  const xor = (): void => void code.push(0x85);
  const and = (): void => void code.push(0x83);
  const rotl = (): void => void code.push(0x89);
  const i64 = (v: bigint): void => void code.push(0x42, ...sleb64(v));
  // memory.fill(n, 0, 200 - n); m[n] = 0x1f; m[167] ^= 0x80
  code.push(0x20, 0, 0x41, 0, 0x41, ...sleb64(200n), 0x20, 0, 0x6b, 0xfc, 0x0b, 0x00);
  code.push(0x20, 0, 0x41, 0x1f, 0x3a, 0x00, 0x00);
  code.push(0x41, ...sleb64(167n), 0x41, ...sleb64(167n), 0x2d, 0x00, 0x00);
  code.push(0x41, ...sleb64(0x80n), 0x73, 0x3a, 0x00, 0x00);
  for (let i = 0; i < 25; i++) {
    code.push(0x41, 0, 0x29, 0x03, ...uleb(8 * i));
    set(s(i));
  }
  // for (r = 0; r < 24; r++): one round per iteration (a fully unrolled permutation is slower: the
  // large function compiles to code with more register spills)
  code.push(0x41, 0);
  set(r);
  code.push(0x03, 0x40);
  // theta
  for (let x = 0; x < 5; x++) {
    get(s(x));
    for (let y = 1; y < 5; y++) {
      get(s(x + 5 * y));
      xor();
    }
    set(c(x));
  }
  for (let x = 0; x < 5; x++) {
    get(c((x + 4) % 5));
    get(c((x + 1) % 5));
    i64(1n);
    rotl();
    xor();
    set(d);
    for (let y = 0; y < 5; y++) {
      get(s(x + 5 * y));
      get(d);
      xor();
      set(s(x + 5 * y));
    }
  }
  // rho and pi
  for (let x = 0; x < 5; x++) {
    for (let y = 0; y < 5; y++) {
      const i = x + 5 * y;
      get(s(i));
      const r = rot[i] as number;
      if (r !== 0) {
        i64(BigInt(r));
        rotl();
      }
      set(b(y + 5 * ((2 * x + 3 * y) % 5)));
    }
  }
  // chi
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      get(b(x + 5 * y));
      get(b(((x + 1) % 5) + 5 * y));
      i64(-1n);
      xor();
      get(b(((x + 2) % 5) + 5 * y));
      and();
      xor();
      set(s(x + 5 * y));
    }
  }
  // iota: s[0] ^= the round constant at m[RC_OFFSET + 8r]
  get(s(0));
  get(r);
  code.push(0x41, 3, 0x74);
  code.push(0x29, 0x03, ...uleb(RC_OFFSET));
  xor();
  set(s(0));
  // r++; continue while r < 24
  get(r);
  code.push(0x41, 1, 0x6a, 0x22, r, 0x41, 24, 0x49, 0x0d, 0x00, 0x0b);
  for (let i = 0; i < 2; i++) {
    code.push(0x41, 0);
    get(s(i));
    code.push(0x37, 0x03, ...uleb(8 * i));
  }
  code.push(0x0b);
  const body = [0x02, ...uleb(56), 0x7e, 0x01, 0x7f, ...code];
  const section = (id: number, bytes: readonly number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
  const name = (text: string): number[] => [...uleb(text.length), ...Buffer.from(text, "latin1")];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 1, 0x7f, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name("f"), 0x00, 0, ...name("m"), 0x02, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** Character codes of the base64 alphabet. */
const B64C = Uint8Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", (ch) =>
  ch.charCodeAt(0),
);

/** The part of the `WebAssembly` global used here (the project's `lib` does not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: unknown };
}

/** Creates the fast `digest128`; undefined when WebAssembly is not available. */
function createDigest(): Digest | undefined {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (DLT_ID_LENGTH_BYTES !== 10 || wasm === undefined) return undefined;
  let exports: { f: (n: number) => void; m: { readonly buffer: ArrayBuffer } };
  try {
    const instance = new wasm.Instance(new wasm.Module(keccakModule()));
    exports = instance.exports as typeof exports;
  } catch {
    return undefined;
  }
  const { f } = exports;
  const m = new Uint8Array(exports.m.buffer);
  new BigUint64Array(exports.m.buffer, RC_OFFSET, 24).set(roundConstants());
  /** Copies ASCII `text` to the input at `at`; -1 when it is not ASCII or does not fit one block. */
  const put = (text: string, at: number): number => {
    const end = at + text.length;
    if (end >= RATE) return -1;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) return -1;
      m[at + i] = code;
    }
    return end;
  };
  return (prefix: string, middle: string, index: number): string => {
    let n = put(prefix, 0);
    if (n >= 0 && middle !== "") n = put(middle, n);
    if (n >= 0 && index >= 0) n = put(index < 10 ? (DIGITS[index] as string) : String(index), n);
    if (n < 0) return fallbackDigest(prefix, middle, index);
    f(n);
    const b0 = m[0] as number;
    const b1 = m[1] as number;
    const b2 = m[2] as number;
    const b3 = m[3] as number;
    const b4 = m[4] as number;
    const b5 = m[5] as number;
    const b6 = m[6] as number;
    const b7 = m[7] as number;
    const b8 = m[8] as number;
    const b9 = m[9] as number;
    return String.fromCharCode(
      B64C[b0 >> 2] as number,
      B64C[((b0 & 3) << 4) | (b1 >> 4)] as number,
      B64C[((b1 & 15) << 2) | (b2 >> 6)] as number,
      B64C[b2 & 63] as number,
      B64C[b3 >> 2] as number,
      B64C[((b3 & 3) << 4) | (b4 >> 4)] as number,
      B64C[((b4 & 15) << 2) | (b5 >> 6)] as number,
      B64C[b5 & 63] as number,
      B64C[b6 >> 2] as number,
      B64C[((b6 & 3) << 4) | (b7 >> 4)] as number,
      B64C[((b7 & 15) << 2) | (b8 >> 6)] as number,
      B64C[b8 & 63] as number,
      B64C[b9 >> 2] as number,
      B64C[(b9 & 3) << 4] as number,
    );
  };
}

/** The digits of one-digit indexes. */
const DIGITS = Array.from({ length: 10 }, (_, i) => String(i));

/** `digest(prefix, middle, index)` hashes `${prefix}${middle}${index}` (no index when it is negative). */
type Digest = (prefix: string, middle: string, index: number) => string;

let digest: Digest | undefined;

function fallbackDigest(prefix: string, middle: string, index: number): string {
  return digest128(`${prefix}${middle}${index < 0 ? "" : index}`);
}

/**
 * dlt's `digest128(text)` (10 bytes of SHAKE-128, base64 without padding), byte-identical to core's
 * and faster for short ASCII texts. The WebAssembly module is built on the first call.
 */
export function fastDigest128(text: string): string {
  digest ??= createDigest() ?? fallbackDigest;
  return digest(text, "", -1);
}

/**
 * `fastDigest128(`${parentId}${infix}${index}`)` without making the text: the id of a nested row,
 * hashed from its parent's id, `_<table>_` and its list index.
 */
export function nestedRowDigest(parentId: string, infix: string, index: number): string {
  digest ??= createDigest() ?? fallbackDigest;
  return digest(parentId, infix, index);
}
