/**
 * Normalizing one extracted job file (typed JSONL: every line is a JSON array of items, one buffered
 * batch) with a {@link RelationalNormalizer}; shared by the main thread and the worker threads.
 */
import { NormalizeError } from "@tsdlt/core";
import { readLineBuffers } from "./line-reader.js";
import type { RelationalNormalizer, TableState } from "./relational-normalizer.js";

const TAB = 0x09;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;

/**
 * Streams one job file: every line is a JSON array of items (one buffered batch), or one item.
 *
 * Extract writes long batches in chunks separated by `,<TAB>` (whitespace JSON allows, and a tab
 * cannot occur unescaped inside a JSON string). Such a line is parsed chunk by chunk, so only a
 * chunk's items are alive at a time — they die young instead of filling the old generation. A line
 * whose chunks do not parse on their own (a tab elsewhere in a hand-written file) is parsed whole.
 */
export async function normalizeJobFile(
  normalizer: RelationalNormalizer,
  root: TableState,
  path: string,
  fileName: string,
  gzipped: boolean,
  loadId: string,
): Promise<void> {
  const rowsBefore = root.rows;
  let line = 0;
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new NormalizeError(
        `Line ${line} of job file \`${fileName}\` in load \`${loadId}\` is not valid JSON: ${(cause as Error).message}.`,
        { code: "NORMALIZE_FAILED", loadId, table: root.name, path: fileName, cause },
      );
    }
  };
  for await (const bytes of readLineBuffers(path, gzipped)) {
    line++;
    normalizer.setPosition(fileName, line);
    if (normalizer.plansRows(root)) {
      normalizer.normalizeLine(root, bytes, parse);
      continue;
    }
    let tab = bytes[0] === OPEN ? bytes.indexOf(TAB) : -1;
    if (tab === -1) {
      const batch = parse(bytes.toString("utf8"));
      if (Array.isArray(batch)) {
        for (const item of batch) normalizer.normalizeItem(root, item);
      } else {
        normalizer.normalizeItem(root, batch);
      }
      continue;
    }
    // chunk by chunk: `[c1,<TAB>c2,<TAB>c3]`
    let done = 0;
    let start = 1;
    for (;;) {
      const last = tab === -1;
      const end = last ? bytes.length - 1 : tab - 1;
      let chunk: unknown;
      if (bytes[end] === (last ? CLOSE : COMMA)) {
        try {
          chunk = JSON.parse(`[${bytes.toString("utf8", start, end)}]`);
        } catch {
          chunk = undefined;
        }
      }
      if (!Array.isArray(chunk)) {
        // not extract's chunking: parse the whole line and go on after the items already done
        const batch = parse(bytes.toString("utf8"));
        const items = Array.isArray(batch) ? batch : [batch];
        for (let i = done; i < items.length; i++) normalizer.normalizeItem(root, items[i]);
        break;
      }
      for (const item of chunk) normalizer.normalizeItem(root, item);
      done += chunk.length;
      if (last) break;
      start = tab + 1;
      tab = bytes.indexOf(TAB, start);
    }
  }
  // no rows from this file: an empty file materializes a declared table; a table that has seen
  // data gets an empty job (so replace truncates it)
  if (root.rows === rowsBefore) normalizer.materializeIfDeclared(root, line === 0);
}
