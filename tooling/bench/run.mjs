#!/usr/bin/env node
/**
 * The tsdlt benchmark runner (`pnpm bench` builds the packages, then runs this). Each case runs in a
 * child process of its own (so peak RSS is per case) and prints one JSON line to stdout:
 * `{ name, rows, seconds, rowsPerSec, peakRssMb, ... }`, or `{ name, rows, skipped }` /
 * `{ name, rows, error }`. Progress goes to stderr.
 *
 *   node tooling/bench/run.mjs [--case <name>]... [--rows <n> | --quick] [--full] [--repeat <n>] [--cpu-prof <dir>]
 *
 * --case <name>     run only this case (repeatable, or comma-separated); opt-in cases included
 * --rows <n>        rows of the 1M cases (default 1,000,000); `duckdb-10m` loads 10 × n, `rest-4x50`
 *                   scales its pages with n
 * --quick           same as --rows 50000 (the CI smoke size)
 * --full            also run the opt-in cases (`duckdb-10m`)
 * --repeat <n>      run the selected cases n times, round after round (so a case and its ceiling see
 *                   the same machine), and print one line per case: the run of median `seconds`, with
 *                   `peakRssMb` the highest of all runs and every run's figures in `secondsAll` /
 *                   `peakRssMbAll` (wall times on a shared machine move by ±20% from run to run)
 * --cpu-prof <dir>  write a V8 CPU profile of each case to <dir> (summarize with profile-summary.mjs)
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CASES } from "./cases.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_ROWS = 1_000_000;
const QUICK_ROWS = 50_000;

/**
 * Prints `message` and the usage, then exits (code 2 unless given).
 * @param {string} message
 * @param {number} [code]
 * @returns {never}
 */
function usage(message, code = 2) {
  process.stderr.write(
    `${message}\nusage: node tooling/bench/run.mjs [--case <name>]... [--rows <n> | --quick] [--full] [--repeat <n>] [--cpu-prof <dir>]\n` +
      `cases:\n${CASES.map((c) => `  ${c.name.padEnd(16)} ${c.description}${c.optIn ? ` (opt-in: ${c.optIn})` : ""}`).join("\n")}\n`,
  );
  process.exit(code);
}

/** @type {ReturnType<typeof parseArgs>["values"]} */
let values;
try {
  ({ values } = parseArgs({
    options: {
      case: { type: "string", multiple: true },
      rows: { type: "string" },
      quick: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      repeat: { type: "string" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  }));
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
if (values.help) usage("Runs the tsdlt benchmarks.", 0);

const rowsArg = /** @type {string | undefined} */ (values.rows);
if (rowsArg !== undefined && values.quick) usage("--rows and --quick exclude each other.");
const baseRows = values.quick ? QUICK_ROWS : rowsArg === undefined ? DEFAULT_ROWS : Number(rowsArg);
if (!Number.isSafeInteger(baseRows) || baseRows <= 0)
  usage(`--rows must be a positive integer, got ${rowsArg}.`);

const repeatArg = /** @type {string | undefined} */ (values.repeat);
const repeat = repeatArg === undefined ? 1 : Number(repeatArg);
if (!Number.isSafeInteger(repeat) || repeat <= 0)
  usage(`--repeat must be a positive integer, got ${repeatArg}.`);

const requested = /** @type {string[]} */ (values.case ?? []).flatMap((c) => c.split(",")).filter(Boolean);
for (const name of requested) {
  if (!CASES.some((c) => c.name === name)) usage(`Unknown case \`${name}\`.`);
}
const selected = requested.length > 0 ? CASES.filter((c) => requested.includes(c.name)) : CASES;

const cpuProfDir = /** @type {string | undefined} */ (values["cpu-prof"]);
/** @type {string[]} */
const nodeArgs = [];
if (cpuProfDir !== undefined) {
  mkdirSync(resolve(cpuProfDir), { recursive: true });
  nodeArgs.push("--cpu-prof", "--cpu-prof-dir", resolve(cpuProfDir));
}

/**
 * Runs one case in a child process and returns its JSON line (an `error` line when the child printed
 * none).
 * @param {string} name
 * @param {number} rows
 * @returns {Promise<Record<string, unknown>>}
 */
function runChild(name, rows) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...nodeArgs, join(HERE, "child.mjs"), name, String(baseRows)], {
      stdio: ["ignore", "pipe", "inherit"],
      env:
        cpuProfDir === undefined
          ? process.env
          : { ...process.env, TSDLT_BENCH_PROFILE_DIR: resolve(cpuProfDir) },
    });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.on("error", (error) => done({ name, rows, error: `could not start the child: ${error.message}` }));
    child.on("close", (code, signal) => {
      /** @type {Record<string, unknown> | undefined} */
      let line;
      for (const text of stdout.split("\n")) {
        if (text.trim() === "") continue;
        try {
          const parsed = JSON.parse(text);
          if (parsed && typeof parsed === "object" && parsed.name === name) {
            line = parsed;
            continue;
          }
        } catch {}
        process.stderr.write(`[bench] ${name} (stdout): ${text}\n`);
      }
      done(
        line ?? {
          name,
          rows,
          error: `the child exited with ${signal ? `signal ${signal}` : `code ${code}`} without a result`,
        },
      );
    });
  });
}

/**
 * One line for the runs of a case: the run of median `seconds` (so its stages and CPU belong to the
 * same run), with the highest `peakRssMb` of all runs and every run's `seconds` / `peakRssMb`. A case
 * that was skipped or failed in any run reports that run's line.
 * @param {Record<string, unknown>[]} runs
 * @returns {Record<string, unknown>}
 */
function summarize(runs) {
  const odd = runs.find((line) => typeof line.seconds !== "number");
  if (odd !== undefined) return { ...odd, runs: runs.length };
  const bySeconds = [...runs].sort((a, b) => Number(a.seconds) - Number(b.seconds));
  const median = /** @type {Record<string, unknown>} */ (bySeconds[Math.floor((bySeconds.length - 1) / 2)]);
  const peaks = runs.map((line) => Number(line.peakRssMb));
  return {
    ...median,
    peakRssMb: Math.max(...peaks),
    runs: runs.length,
    secondsAll: runs.map((line) => line.seconds),
    peakRssMbAll: peaks,
  };
}

/** @type {Map<string, Record<string, unknown>[]>} */
const results = new Map();
for (let round = 1; round <= repeat; round++) {
  for (const benchCase of selected) {
    const rows = benchCase.rows(baseRows);
    if (benchCase.optIn && !values.full && !requested.includes(benchCase.name)) {
      const skipped = `opt-in (${benchCase.optIn}): run with --full or --case ${benchCase.name}`;
      if (round === 1) process.stdout.write(`${JSON.stringify({ name: benchCase.name, rows, skipped })}\n`);
      continue;
    }
    const of = repeat > 1 ? ` (run ${round} of ${repeat})` : "";
    process.stderr.write(`[bench] ${benchCase.name}: ${rows.toLocaleString("en-US")} rows…${of}\n`);
    const line = await runChild(benchCase.name, rows);
    if (repeat === 1) process.stdout.write(`${JSON.stringify(line)}\n`);
    else results.set(benchCase.name, [...(results.get(benchCase.name) ?? []), line]);
  }
}
for (const runs of results.values()) process.stdout.write(`${JSON.stringify(summarize(runs))}\n`);
