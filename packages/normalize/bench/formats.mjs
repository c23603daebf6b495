/**
 * Normalize throughput per job file format: the bench rows (`tooling/bench/generate.mjs`
 * `issuePages`) normalized on one thread (`workers: 1`) into `jsonl` and into `csv` job files,
 * alternating, a few rounds each. Prints rows/s (all tables: issues + issues__labels) and the bytes
 * of the job files written. Runs the built package: `npx tsc -b` first.
 *
 *   node packages/normalize/bench/formats.mjs [items=200000] [rounds=3] [formats=jsonl,csv]
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLoadId,
  defineCapabilities,
  formatJobFileName,
  newFileId,
  PackageStorage,
  Schema,
  toTypedJson,
} from "@tsdlt/core";
import { normalizePackage } from "@tsdlt/normalize";
import { issuePages } from "../../../tooling/bench/generate.mjs";

const ITEMS = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const FORMATS = (process.argv[4] ?? "jsonl,csv").split(",");
/** Items per extracted job file (extract rotates its files too). */
const ITEMS_PER_FILE = 50_000;

const capabilities = defineCapabilities({
  preferredLoaderFileFormat: "jsonl",
  supportedLoaderFileFormats: ["jsonl", "csv"],
});

// the extracted job files' text, made once: one line per page of 1,000 items
const files = [];
let text = "";
let inFile = 0;
for await (const page of issuePages(ITEMS, { pageSize: 1000 })) {
  text += `${toTypedJson(page)}\n`;
  inFile += page.length;
  if (inFile >= ITEMS_PER_FILE) {
    files.push(text);
    text = "";
    inFile = 0;
  }
}
if (text.length > 0) files.push(text);

const dir = mkdtempSync(join(tmpdir(), "tsdlt-normalize-formats-"));
const normalizeStorage = new PackageStorage(join(dir, "normalize"), "normalize");
const loadStorage = new PackageStorage(join(dir, "load"), "load");

async function run(fileFormat) {
  const pkg = normalizeStorage.createTempPackage(createLoadId());
  pkg.writeSchemaDoc(new Schema("bench").toDict());
  for (const content of files) {
    const fileName = formatJobFileName({
      tableName: "issues",
      fileId: newFileId(),
      retryCount: 0,
      fileFormat: "typed-jsonl",
      compressed: false,
    });
    writeFileSync(pkg.jobPath("new_jobs", fileName), content);
  }
  const extracted = normalizeStorage.commitPackage(pkg, "extracted");
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await normalizePackage({ extracted, loadStorage, capabilities, fileFormat, workers: 1 });
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  const rows = Object.values(result.rowCounts).reduce((a, b) => a + b, 0);
  const jobsDir = join(result.package.path, "new_jobs");
  let bytes = 0;
  for (const f of readdirSync(jobsDir)) bytes += statSync(join(jobsDir, f)).size;
  loadStorage.deletePackage(result.package);
  return { rows, seconds, cpuSeconds: (used.user + used.system) / 1e6, bytes };
}

const results = Object.fromEntries(FORMATS.map((format) => [format, []]));
try {
  // one warm-up run each, not counted
  for (const format of FORMATS) await run(format);
  for (let round = 0; round < ROUNDS; round++) {
    for (const format of FORMATS) results[format].push(await run(format));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const fmt = (n) => Math.round(n).toLocaleString("en");
for (const [format, runs] of Object.entries(results)) {
  const { rows, bytes } = runs[0];
  const wall = runs.map((r) => r.rows / r.seconds);
  const cpu = runs.map((r) => r.rows / r.cpuSeconds);
  console.log(
    `${format.padEnd(5)} ${fmt(rows)} rows, ${fmt(bytes)} bytes: wall ${wall.map(fmt).join(", ")} rows/s (best ${fmt(Math.max(...wall))}); per CPU second ${cpu.map(fmt).join(", ")} (best ${fmt(Math.max(...cpu))})`,
  );
}
