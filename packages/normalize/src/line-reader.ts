/** Streams the lines of a (possibly gzipped) file without holding the whole file in memory. */
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Yields every non-empty line of `path` (without `\n` / `\r\n`) as bytes. A yielded buffer may be a
 * view into the read buffer: use it before asking for the next line.
 */
export async function* readLineBuffers(path: string, gzipped = false): AsyncGenerator<Buffer> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const input = gzipped ? raw.pipe(createGunzip()) : raw;
  // pieces of the current line that arrived in earlier chunks
  let pending: Buffer[] = [];
  const trimmed = (line: Buffer): Buffer =>
    line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
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
