/** Hash helpers with the exact byte recipes of dlt (SHAKE-128 / SHA3-256, base64 without padding). */
import { createHash, randomBytes } from "node:crypto";

/** dlt's default byte length of `_dlt_id` values (overridable by env `DLT_DLT_ID_LENGTH_BYTES`). */
export const DLT_ID_LENGTH_BYTES: number = Number(process.env.DLT_DLT_ID_LENGTH_BYTES ?? 10);

/** base64(SHAKE-128(utf8(value)), first `bytes` bytes) with `=` padding stripped. */
export function digest128(value: string, bytes: number = DLT_ID_LENGTH_BYTES): string {
  return createHash("shake128", { outputLength: bytes })
    .update(value, "utf8")
    .digest("base64")
    .replace(/=+$/, "");
}

/** base64(SHA3-256(utf8(value))) with padding, as dlt's `digest256`. */
export function digest256(value: string): string {
  return createHash("sha3-256").update(value, "utf8").digest("base64");
}

/** Random id of `bytes` bytes as base64 without padding (dlt's random `_dlt_id`). */
export function randomDltId(bytes: number = DLT_ID_LENGTH_BYTES): string {
  return randomBytes(bytes).toString("base64").replace(/=+$/, "");
}

/** Random lowercase hex id of `bytes` bytes (dlt's `uniq_id`): 5 bytes → 10 hex chars. */
export function uniqId(bytes = 5): string {
  return randomBytes(bytes).toString("hex");
}
