/**
 * Runs one benchmark case in this process and prints one JSON line to stdout:
 * `{ name, rows, seconds, rowsPerSec, peakRssMb, cpuSeconds, ...extra, loadAvg1m }`, `{ name, rows, skipped }` or
 * `{ name, rows, error }`. Peak RSS is this process's high-water mark (`process.resourceUsage().maxRSS`),
 * so it covers the case's setup as well as the timed part. Started by `run.mjs`:
 * `node child.mjs <case> <baseRows>`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CASES, round, STEP_WINDOWS } from "./cases.mjs";

const [name = "", baseArg = ""] = process.argv.slice(2);
const benchCase = CASES.find((c) => c.name === name);
const baseRows = Number(baseArg);
if (!benchCase || !Number.isSafeInteger(baseRows) || baseRows <= 0) {
  process.stderr.write(`usage: node child.mjs <${CASES.map((c) => c.name).join("|")}> <baseRows>\n`);
  process.exit(2);
}
const rows = benchCase.rows(baseRows);
const dir = mkdtempSync(join(tmpdir(), `tsdlt-bench-${name}-`));
// Other work on the machine skews wall times; the 1-minute load average at the start says how much.
const loadAvg1m = round(/** @type {number} */ (loadavg()[0]), 2);

/**
 * With `--cpu-prof`, saves the pipeline steps' windows next to the profile as `steps.<pid>.json`, on
 * the profile's clock (monotonic microseconds), so `profile-summary.mjs` can split samples by step.
 * @param {{ step: string, startMs: number, endMs: number }[] | undefined} windows
 */
function writeStepWindows(windows) {
  const profileDir = process.env.TSDLT_BENCH_PROFILE_DIR;
  if (!profileDir || !windows) return;
  const offsetUs = Number(process.hrtime.bigint() / 1000n) - Date.now() * 1000;
  const steps = windows.map((w) => ({
    step: w.step,
    startUs: w.startMs * 1000 + offsetUs,
    endUs: w.endMs * 1000 + offsetUs,
  }));
  writeFileSync(join(profileDir, `steps.${process.pid}.json`), JSON.stringify({ name, steps }));
}

/** @type {Record<string, unknown>} */
let line;
try {
  const result = await benchCase.run({
    rows,
    baseRows,
    dir,
    log: (message) => process.stderr.write(`[bench] ${name}: ${message}\n`),
  });
  if ("skipped" in result) {
    line = { name, rows, skipped: result.skipped };
  } else {
    const { seconds, ...extra } = result;
    writeStepWindows(/** @type {any} */ (result)[STEP_WINDOWS]);
    line = {
      name,
      rows,
      seconds: round(seconds, 3),
      rowsPerSec: Math.round(rows / seconds),
      peakRssMb: round(process.resourceUsage().maxRSS / 1024, 1),
      ...extra,
      loadAvg1m,
    };
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  line = { name, rows, error: message.length > 2000 ? `${message.slice(0, 2000)}…` : message };
} finally {
  rmSync(dir, { recursive: true, force: true });
}
// Exit explicitly: a native handle left open by a failed case must not keep the child alive.
process.stdout.write(`${JSON.stringify(line)}\n`, () => process.exit(0));
