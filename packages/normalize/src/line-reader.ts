/** Streams the lines of a (possibly gzipped) file without holding the whole file in memory. */
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";

const NEWLINE = 0x0a;

/** Yields every non-empty line of `path` (without `\n` / `\r\n`), decoding UTF-8 line by line. */
export async function* readLines(path: string, gzipped = false): AsyncGenerator<string> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const input = gzipped ? raw.pipe(createGunzip()) : raw;
  // pieces of the current line that arrived in earlier chunks
  let pending: Buffer[] = [];
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      let end = chunk.indexOf(NEWLINE, start);
      while (end !== -1) {
        let line: string;
        if (pending.length > 0) {
          pending.push(chunk.subarray(start, end));
          line = Buffer.concat(pending).toString("utf8");
          pending = [];
        } else {
          line = chunk.toString("utf8", start, end);
        }
        if (line.endsWith("\r")) line = line.slice(0, -1);
        if (line.length > 0) yield line;
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
    if (pending.length > 0) {
      let line = Buffer.concat(pending).toString("utf8");
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line.length > 0) yield line;
    }
  } finally {
    raw.destroy();
  }
}
