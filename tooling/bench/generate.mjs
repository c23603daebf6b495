/**
 * Deterministic GitHub-issue-like rows for the benchmarks. Row `i` is a pure function of `i` (a
 * splitmix32 hash of the index drives every choice), so every case and every run sees the same rows,
 * and the rows can be generated in any order or in parts without keeping state.
 *
 * Shape (13 scalars, a nested `user` object, a `labels` list of two objects, a ~200-character body):
 * `id, node_id, number, title, state, locked, comments, created_at, updated_at, closed_at,
 * author_association, html_url, score, user{login,id,type,site_admin}, labels[{id,name,color}×2], body`.
 * `closed_at` is null for open issues. Timestamps are ISO 8601 UTC (`2021-03-04T05:06:07Z`).
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";

/** @typedef {{ login: string, id: number, type: string, site_admin: boolean }} IssueUser */
/** @typedef {{ id: number, name: string, color: string }} IssueLabel */
/**
 * @typedef {{
 *   id: number, node_id: string, number: number, title: string, state: string, locked: boolean,
 *   comments: number, created_at: string, updated_at: string, closed_at: string | null,
 *   author_association: string, html_url: string, score: number, user: IssueUser,
 *   labels: IssueLabel[], body: string,
 * }} IssueRow
 */

const WORDS = (
  "pipeline schema normalize extract load duckdb table column nested merge append replace cursor " +
  "incremental state package file writer buffer rotate memory stream async generator page resource " +
  "source destination dataset timestamp variant coerce infer null list object json parquet bulk"
).split(" ");
const LABELS = [
  ["bug", "d73a4a"],
  ["enhancement", "a2eeef"],
  ["documentation", "0075ca"],
  ["question", "d876e3"],
  ["performance", "fbca04"],
  ["good first issue", "7057ff"],
  ["help wanted", "008672"],
  ["wontfix", "ffffff"],
];
const ASSOCIATIONS = ["OWNER", "MEMBER", "CONTRIBUTOR", "NONE"];
/** Text the bodies are cut from: ~200 characters starting at a row-dependent offset. */
const BODY_SOURCE = (() => {
  let text = "";
  for (let i = 0; text.length < 4096; i++) text += `${WORDS[(i * 7) % WORDS.length]} `;
  return text;
})();
const BASE_MS = Date.UTC(2020, 0, 1);

/**
 * splitmix32: a well-mixed 32-bit hash of `x`.
 * @param {number} x
 * @returns {number}
 */
function mix(x) {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, "0"));
/** `YYYY-MM-DDT` per day number (cached: `Date#toISOString` would dominate the generator). */
const dayPrefixes = new Map();

/**
 * `2021-03-04T05:06:07Z` (whole seconds, UTC).
 * @param {number} ms
 * @returns {string}
 */
function iso(ms) {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  let s = Math.floor((ms - day * DAY_MS) / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${prefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s]}Z`;
}

/**
 * The row at 0-based index `i` (its `id` and `number` are `i + 1`).
 * @param {number} i
 * @returns {IssueRow}
 */
export function issueRow(i) {
  const h1 = mix(i);
  const h2 = mix(h1 ^ i);
  const h3 = mix(h2 + i);
  const createdMs = BASE_MS + i * 60_000 + (h1 % 60_000);
  const closed = (h1 & 3) === 0;
  const updatedMs = createdMs + (h2 % 864_000_000);
  const userId = 1000 + (h2 % 50_000);
  const l1 = h3 % LABELS.length;
  const l2 = (l1 + 1 + ((h3 >>> 8) % (LABELS.length - 1))) % LABELS.length;
  const label1 = /** @type {[string, string]} */ (LABELS[l1]);
  const label2 = /** @type {[string, string]} */ (LABELS[l2]);
  const bodyStart = h2 % 3800;
  return {
    id: i + 1,
    node_id: `I_kwDOA${(h1 >>> 4).toString(36)}${(i + 1).toString(36)}`,
    number: i + 1,
    title: `${WORDS[h1 % WORDS.length]} ${WORDS[h2 % WORDS.length]} fails on ${WORDS[h3 % WORDS.length]} #${i + 1}`,
    state: closed ? "closed" : "open",
    locked: (h3 & 31) === 0,
    comments: h3 % 40,
    created_at: iso(createdMs),
    updated_at: iso(updatedMs),
    closed_at: closed ? iso(updatedMs) : null,
    author_association: /** @type {string} */ (ASSOCIATIONS[h1 % ASSOCIATIONS.length]),
    html_url: `https://github.com/tsdlt/tsdlt/issues/${i + 1}`,
    score: (h2 % 10_000) / 100,
    user: { login: `user${userId}`, id: userId, type: "User", site_admin: (h1 & 255) === 0 },
    labels: [
      { id: 100 + l1, name: label1[0], color: label1[1] },
      { id: 100 + l2, name: label2[0], color: label2[1] },
    ],
    body: BODY_SOURCE.slice(bodyStart, bodyStart + 190 + (h3 % 21)),
  };
}

/**
 * Rows `[start, start + count)` as pages (arrays) of `pageSize`, from an async generator.
 * @param {number} count
 * @param {{ pageSize?: number, start?: number }} [options]
 * @returns {AsyncGenerator<IssueRow[]>}
 */
export async function* issuePages(count, options = {}) {
  const pageSize = options.pageSize ?? 1000;
  const start = options.start ?? 0;
  for (let offset = 0; offset < count; offset += pageSize) {
    const size = Math.min(pageSize, count - offset);
    /** @type {IssueRow[]} */
    const page = new Array(size);
    for (let j = 0; j < size; j++) page[j] = issueRow(start + offset + j);
    yield page;
  }
}

/**
 * Writes rows `[0, count)` as newline-delimited JSON to `path`, streaming (bounded memory).
 * @param {string} path
 * @param {number} count
 * @returns {Promise<number>} bytes written
 */
export async function writeIssuesJsonl(path, count) {
  const out = createWriteStream(path);
  let bytes = 0;
  for await (const page of issuePages(count, { pageSize: 1000 })) {
    let chunk = "";
    for (const row of page) chunk += `${JSON.stringify(row)}\n`;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return bytes;
}
