/**
 * Random root-row ids (`_dlt_id`) drawn from a pooled random buffer. Same format as core's
 * `randomDltId()` — base64 of `DLT_ID_LENGTH_BYTES` random bytes without padding — but one
 * `randomFillSync` per few thousand ids instead of one per row (the per-call cost dominated
 * normalize's profile).
 */
import { randomFillSync } from "node:crypto";
import { DLT_ID_LENGTH_BYTES } from "@tsdlt/core";

const IDS_PER_FILL = 4096;

/** Generates random `_dlt_id`s from a pool refilled in bulk. */
export class RandomIdPool {
  private readonly bytes: number;
  /** Base64 characters of an id without its `=` padding. */
  private readonly unpadded: number;
  private readonly pool: Buffer;
  private offset: number;

  constructor(bytes: number = DLT_ID_LENGTH_BYTES) {
    this.bytes = bytes;
    this.unpadded = Math.ceil((bytes * 4) / 3);
    this.pool = Buffer.allocUnsafe(bytes * IDS_PER_FILL);
    this.offset = this.pool.length;
  }

  /** The next random id. */
  next(): string {
    if (this.offset + this.bytes > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const start = this.offset;
    this.offset += this.bytes;
    const id = this.pool.toString("base64", start, this.offset);
    return id.charCodeAt(id.length - 1) === 61 /* = */ ? id.slice(0, this.unpadded) : id;
  }
}
