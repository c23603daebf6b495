/** Streams the lines of a (possibly gzipped) file without holding the whole file in memory. */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createGunzip } from "node:zlib";

const NEWLINE = 0x0a;
const CR = 0x0d;
/** Bytes read at a time from an uncompressed file (the buffer grows for a longer line). */
const READ_BYTES = 2 << 20;

/** A line without its `\r`. */
function trimmed(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

/**
 * {@link readLineBuffers} of an uncompressed file: read into one reused buffer, the part of a line
 * that a read cut off is moved to its front, so a line is never copied into a buffer of its own.
 */
async function* readPlainLines(path: string): AsyncGenerator<Buffer> {
  const handle = await open(path, "r");
  try {
    let buffer = Buffer.allocUnsafe(READ_BYTES);
    let start = 0;
    let end = 0;
    for (;;) {
      // bytes after `end` are stale: a newline found there does not count
      let newline = buffer.indexOf(NEWLINE, start);
      while (newline !== -1 && newline < end) {
        const line = trimmed(buffer.subarray(start, newline));
        if (line.length > 0) yield line;
        start = newline + 1;
        newline = buffer.indexOf(NEWLINE, start);
      }
      if (start > 0) {
        buffer.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      if (end === buffer.length) {
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, end);
        buffer = larger;
      }
      const { bytesRead } = await handle.read(buffer, end, buffer.length - end, null);
      if (bytesRead === 0) {
        const line = trimmed(buffer.subarray(0, end));
        if (line.length > 0) yield line;
        return;
      }
      end += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Yields every non-empty line of `path` (without `\n` / `\r\n`) as bytes. A yielded buffer may be a
 * view into the read buffer: use it before asking for the next line.
 */
export async function* readLineBuffers(path: string, gzipped = false): AsyncGenerator<Buffer> {
  if (!gzipped) {
    yield* readPlainLines(path);
    return;
  }
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const input = gzipped ? raw.pipe(createGunzip()) : raw;
  // pieces of the current line that arrived in earlier chunks
  let pending: Buffer[] = [];
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      let end = chunk.indexOf(NEWLINE, start);
      while (end !== -1) {
        let line: Buffer;
        if (pending.length > 0) {
          pending.push(chunk.subarray(start, end));
          line = Buffer.concat(pending);
          pending = [];
        } else {
          line = chunk.subarray(start, end);
        }
        line = trimmed(line);
        if (line.length > 0) yield line;
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
    if (pending.length > 0) {
      const line = trimmed(Buffer.concat(pending));
      if (line.length > 0) yield line;
    }
  } finally {
    raw.destroy();
  }
}

/** Yields every non-empty line of `path` (without `\n` / `\r\n`), decoding UTF-8 line by line. */
export async function* readLines(path: string, gzipped = false): AsyncGenerator<string> {
  for await (const line of readLineBuffers(path, gzipped)) yield line.toString("utf8");
}
