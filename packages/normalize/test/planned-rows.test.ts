/**
 * The planned-row fast path (`row-plan.ts`) writes exactly what the general path writes: every case
 * here normalizes the same extracted lines twice — planned rows on and off, into `jsonl` and into
 * `csv` job files — and compares the job
 * files byte for byte (random row ids mapped to their order of appearance), the row counts and the
 * evolved schema. Each case also checks that the fast path took some of the rows, so a plan that
 * silently stops matching fails here.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLoadId, DEFAULT_CAPABILITIES, Schema, toTypedJson } from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { normalizeJobFile } from "../src/job-file.js";
import { namingFor } from "../src/normalize-package.js";
import { RelationalNormalizer } from "../src/relational-normalizer.js";
import { createFixture, type Fixture } from "./helpers.js";

let fixture: Fixture;
beforeEach(() => {
  fixture = createFixture();
});
afterEach(() => {
  fixture.cleanup();
});

interface Outcome {
  /** Per table: its job files' text, ids canonicalized. */
  readonly files: Record<string, string>;
  readonly rows: Record<string, number>;
  readonly schema: unknown;
  /** Rows the fast path wrote, over all tables. */
  readonly planned: number;
}

/** Normalizes `lines` (the text of one extracted job file of `table`) with planned rows on or off. */
async function normalizeLines(
  table: string,
  lines: readonly string[],
  plannedRows: boolean,
  schemaDoc?: Record<string, unknown>,
  fileFormat: "jsonl" | "csv" = "jsonl",
): Promise<Outcome> {
  const loadId = createLoadId();
  const schema = schemaDoc === undefined ? new Schema("shop") : Schema.fromDict(structuredClone(schemaDoc));
  const output = fixture.loadStorage.createTempPackage(`${loadId}${plannedRows ? "1" : "0"}${fileFormat}`);
  const path = join(fixture.dir, `${table}.${plannedRows}.${fileFormat}.typed-jsonl`);
  writeFileSync(path, `${lines.join("\n")}\n`);
  const naming = namingFor(schema, DEFAULT_CAPABILITIES, loadId);
  const normalizer = new RelationalNormalizer({
    schema,
    naming,
    loadId,
    output,
    fileFormat,
    fileMaxItems: undefined,
    maxTableNesting: undefined,
    plannedRows,
  });
  const root = normalizer.rootTable(naming.normalizeTablesPath(table));
  await normalizeJobFile(normalizer, root, path, "job", false, loadId);
  normalizer.close();
  const tables = normalizer.touchedTables();
  const ids = new Map<string, string>();
  const files: Record<string, string> = {};
  const rows: Record<string, number> = {};
  let planned = 0;
  for (const state of tables) {
    rows[state.name] = state.rows;
    planned += state.planHits;
    let text = "";
    // in the order the files were written (a csv table starts a new file when its header changes)
    for (const file of state.writer?.files ?? []) text += readFileSync(file.path, "utf8");
    files[state.name] = text
      .split("\n")
      .map((line) => {
        if (line === "") return line;
        if (fileFormat === "csv") {
          // ids are base64 (10 bytes: 14 characters) in fields of their own
          return line
            .split(",")
            .map((field) => {
              if (field === loadId) return "LOAD";
              if (!/^[A-Za-z0-9+/]{14}$/.test(field)) return field;
              if (!ids.has(field)) ids.set(field, `id${ids.size}`);
              return ids.get(field) as string;
            })
            .join(",");
        }
        const row = JSON.parse(line) as Record<string, unknown>;
        let canonical = line;
        for (const key of ["_dlt_id", "_dlt_parent_id", "_dlt_root_id", "_dlt_load_id"]) {
          const id = row[key];
          if (typeof id !== "string") continue;
          if (!ids.has(id)) ids.set(id, key === "_dlt_load_id" ? "LOAD" : `id${ids.size}`);
          canonical = canonical.split(JSON.stringify(id)).join(JSON.stringify(ids.get(id)));
        }
        return canonical;
      })
      .join("\n");
  }
  const doc = schema.toDict() as unknown as Record<string, unknown>;
  for (const key of ["version", "version_hash", "previous_hashes"]) delete doc[key];
  return { files, rows, schema: doc, planned };
}

/** Normalizes both ways into both formats and expects the same outcome; returns the planned `jsonl` one. */
async function expectSame(
  table: string,
  lines: readonly string[],
  schemaDoc?: Record<string, unknown>,
): Promise<Outcome> {
  let jsonl: Outcome | undefined;
  for (const format of ["jsonl", "csv"] as const) {
    const general = await normalizeLines(table, lines, false, schemaDoc, format);
    const planned = await normalizeLines(table, lines, true, schemaDoc, format);
    expect(general.planned).toBe(0);
    expect(planned.rows).toEqual(general.rows);
    for (const name of Object.keys(general.files)) {
      expect(planned.files[name], `${format}: ${name}`).toBe(general.files[name]);
    }
    expect(Object.keys(planned.files).sort()).toEqual(Object.keys(general.files).sort());
    expect(planned.schema).toEqual(general.schema);
    // the rows planned: the fewer of the two formats
    jsonl = jsonl === undefined ? planned : { ...jsonl, planned: Math.min(jsonl.planned, planned.planned) };
  }
  return jsonl as Outcome;
}

/** Items written as extract writes them: one line per batch, long batches in `,<TAB>` chunks. */
function extractLines(items: readonly unknown[], batch = 10, chunk = 4): string[] {
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += batch) {
    const slice = items.slice(i, i + batch);
    const chunks: string[] = [];
    for (let j = 0; j < slice.length; j += chunk) {
      chunks.push(
        slice
          .slice(j, j + chunk)
          .map((item) => toTypedJson(item))
          .join(","),
      );
    }
    lines.push(`[${chunks.join(",\t")}]`);
  }
  return lines;
}

function issue(i: number): Record<string, unknown> {
  return {
    id: i + 1,
    node_id: `I_${i.toString(36)}`,
    title: `issue "${i}" \\ fails`,
    state: i % 4 === 0 ? "closed" : "open",
    locked: i % 7 === 0,
    comments: i % 40,
    created_at: `2021-03-0${(i % 9) + 1}T05:06:07Z`,
    closed_at: i % 4 === 0 ? `2021-04-0${(i % 9) + 1}T05:06:07.123Z` : null,
    score: i === 30 ? 3 : ((i * 37) % 1000) / 7 + 0.5,
    user: { login: `user${i % 13}`, id: 1000 + (i % 13), site_admin: i % 5 === 0 },
    labels: [
      { id: 100 + (i % 3), name: "bug", color: "d73a4a" },
      { id: 200 + (i % 5), name: `good first ${i % 2}`, color: "7057ff", tags: ["a", i % 2 ? "b" : "c"] },
    ],
    body: `line one\nline two — ünïcødé ${i} 🎉\t"quoted"`,
  };
}

describe("planned rows write what the general path writes", () => {
  it("for issue-like items (nested dict, lists, nulls, timestamps, escapes, unicode)", async () => {
    const items = Array.from({ length: 120 }, (_, i) => issue(i));
    const outcome = await expectSame("issues", extractLines(items, 25, 7));
    expect(outcome.rows).toEqual({ issues: 120, issues__labels: 240, issues__labels__tags: 240 });
    // the tags (a list of strings) go the general way
    expect(outcome.planned).toBeGreaterThan(340);
  });

  it("when items change shape, types and order midway (variants, new columns, null dicts)", async () => {
    const items: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      const item = issue(i);
      if (i >= 40 && i < 60) item.extra = i; // a new column
      if (i === 70) item.comments = "many"; // a variant of a bigint column
      if (i === 71) item.score = "n/a"; // a variant of a double column
      if (i === 72) item.locked = 1; // coerced? a variant
      if (i === 73) item.created_at = "2021-03-04 05:06:07"; // a timestamp that needs parsing
      if (i === 74) item.created_at = "2021-03-04T05:06:07+02:00";
      if (i === 75) item.id = 1234567890123456; // 16 digits
      if (i === 76) item.score = 1e21;
      if (i === 77) item.title = 42; // a number in a text column
      if (i % 10 === 3) item.user = null; // a dict that is sometimes null
      if (i % 11 === 4) item.labels = []; // an empty list
      if (i % 17 === 5) item.labels = ["x", ["y", "z"], { name: "w" }]; // scalars, a list of lists
      if (i >= 150) {
        // another key order from here on
        const { body, ...rest } = item;
        items.push({ body, ...rest });
        continue;
      }
      items.push(item);
    }
    const outcome = await expectSame("issues", extractLines(items, 30, 8));
    expect(outcome.planned).toBeGreaterThan(200);
  });

  it("for typed values (dates, bigints, bytes) and text starting with non-ASCII characters", async () => {
    const items = Array.from({ length: 60 }, (_, i) => ({
      id: i,
      at:
        i % 3 === 0
          ? new Date(Date.UTC(2024, 0, 1, 0, 0, i))
          : `2024-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
      big: i % 5 === 0 ? 2n ** 62n : BigInt(i),
      raw: i % 7 === 0 ? new Uint8Array([1, 2, i]) : null,
      note: i % 4 === 0 ? "\uf02f next to the markers" : i % 4 === 1 ? "\u00e9t\u00e9" : `plain ${i}`,
    }));
    const outcome = await expectSame("events", extractLines(items, 12, 5));
    expect(outcome.planned).toBeGreaterThan(10);
  });

  it("for numbers in odd spellings, whitespace, single-item lines and malformed-looking text", async () => {
    const lines = [
      '[{"id":1,"v":1.5,"n":2,"ok":true,"s":"a"},{"id":2,"v":2.25,"n":3,"ok":false,"s":"b"}]',
      '[{"id":3,"v":1.0,"n":4,"ok":true,"s":"c"}, {"id":4,"v":1e2,"n":-0,"ok":true,"s":"d"}]',
      '{"id":5,"v":-2.5E-3,"n":5,"ok":false,"s":"e\\u0041\\/"}',
      '[ {"id":6,"v":7,"n":6,"ok":true,"s":"f"} ,\t{"id":7, "v":8,"n":7,"ok":true,"s":"g"} ]',
      '[{"id":8,"v":9.75,"n":8,"ok":true,"s":"h","1":"index key"},{"id":9,"v":1,"n":9,"ok":null,"s":null}]',
      '[{"id":10,"v":0.1,"n":10,"ok":true,"s":"i"},{"id":11,"v":0.30000000000000004,"n":11,"ok":true,"s":"j"}]',
      "[]",
      '[{"id":14,"v":0.000001,"n":14,"ok":true,"s":"m"},{"id":15,"v":0.0000001,"n":15,"ok":true,"s":"n"}]',
      '[{"id":16,"v":123456789012.345,"n":16,"ok":true,"s":"o"},{"id":17,"v":1234567890123.4567,"n":17,"ok":true,"s":"p"}]',
      '[{"id":18,"v":1.50,"n":18,"ok":true,"s":"q"},{"id":19,"v":-0.0,"n":19,"ok":true,"s":"r"},{"id":20,"v":-100.25,"n":20,"ok":true,"s":"t"}]',
      '[{"id":12,"v":3,"n":12,"ok":true,"s":"k"},{"id":13,"v":4,"n":13,"ok":true,"s":"l"}]',
    ];
    const outcome = await expectSame("numbers", lines);
    expect(outcome.planned).toBeGreaterThan(3);
  });

  it("with key normalization, colliding names, data in `_dlt` columns and a nesting limit", async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({
      createdAt: i,
      "Some Name!": `n${i}`,
      a: { b: i, c: { d: i * 2, e: { f: `deep ${i}` } } },
      ...(i % 9 === 0 ? { a__b: "clash" } : {}),
      ...(i % 13 === 0 ? { _dlt_id: `own-${i}` } : {}),
      list: [{ x: i, inner: [{ y: i }] }],
    }));
    const outcome = await expectSame("nested", extractLines(items, 8, 3));
    expect(outcome.planned).toBeGreaterThan(20);
    // below the nesting limit a dict is a json value, which rows are not planned for
    const limited = new Schema("shop");
    limited.updateTable({ name: "nested", columns: {}, "x-normalizer": { max_nesting: 2 } } as never);
    await expectSame("nested", extractLines(items, 8, 3), limited.toDict() as never);
  });

  it("with root key propagation into nested tables (merge) and a row filter", async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({
      id: i,
      secret: `s${i}`,
      parts: [{ p: i }, { p: i + 1, sub: [{ q: i }] }],
    }));
    const merge = new Schema("shop");
    merge.updateTable({
      name: "orders",
      write_disposition: "merge",
      columns: { id: { name: "id", data_type: "bigint", primary_key: true, nullable: false } },
    });
    const merged = await expectSame("orders", extractLines(items, 10, 4), merge.toDict() as never);
    expect(merged.files.orders__parts).toContain('"_dlt_root_id"');
    expect(merged.planned).toBeGreaterThan(50);

    const filtered = new Schema("shop");
    filtered.updateTable({ name: "orders", columns: {}, filters: { excludes: ["secret"] } } as never);
    await expectSame("orders", extractLines(items, 10, 4), filtered.toDict() as never);
  });

  it("reports a line that is not valid JSON, after planned items, as the general path does", async () => {
    const good = '{"id":1,"s":"a","n":1.5}';
    for (const bad of ['{"id":3,"s":"bad \\x escape","n":2.5}', '{"id":3,"s":"c","n":2.5} {"id":4}']) {
      const lines = [`[${good},${good}]`, `[${good},${bad}]`];
      for (const plannedRows of [false, true]) {
        await expect(normalizeLines("broken", lines, plannedRows)).rejects.toThrow(
          /Line 2 of job file `job` in load `.*` is not valid JSON/,
        );
      }
    }
  });
});
