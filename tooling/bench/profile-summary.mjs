#!/usr/bin/env node
/**
 * Summarizes V8 CPU profiles (`.cpuprofile`, e.g. from `run.mjs --cpu-prof <dir>`): self time per
 * package and the top functions by self time, for the whole process and (when the child saved its
 * pipeline step windows as `steps.<pid>.json`) per step: extract / normalize / load. Only the main JS
 * thread is profiled: native work on other threads (DuckDB's own threads) shows as `(idle)` while the
 * main thread awaits it. Builtins such as `JSON.stringify` / `JSON.parse` are counted in the function
 * that calls them.
 *
 *   node tooling/bench/profile-summary.mjs <file.cpuprofile | dir> [--top <n>]
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";

/**
 * @typedef {{ functionName: string, url: string, lineNumber: number, columnNumber: number }} CallFrame
 * @typedef {{ id: number, callFrame: CallFrame }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} Profile
 */

/**
 * Which package a script URL belongs to: `@tsdlt/<name>` for workspace packages, the npm package
 * name for dependencies, `node` for Node's own JS, `(v8)` for builtins and VM states.
 * @param {string} url
 * @returns {string}
 */
export function packageOf(url) {
  if (url === "") return "(v8)";
  if (url.startsWith("node:")) return "node";
  const path = decodeURIComponent(url.replace(/^file:\/\//, ""));
  const pnpm = /\/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (pnpm) return /** @type {string} */ (pnpm[1]);
  const modules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (modules) return /** @type {string} */ (modules[1]);
  const workspace = /\/(packages|apps|tooling)\/([^/]+)\//.exec(path);
  if (workspace) {
    const [, kind, name] = workspace;
    if (kind === "packages") return name === "tsdlt" ? "tsdlt" : `@tsdlt/${name}`;
    return `${kind}/${name}`;
  }
  return path;
}

/**
 * Self time (ms) per profile node id, over the samples taken in `[fromUs, toUs)` (profile clock).
 * @param {Profile} profile
 * @param {number} [fromUs]
 * @param {number} [toUs]
 * @returns {Map<number, number>}
 */
function selfTimes(profile, fromUs = Number.NEGATIVE_INFINITY, toUs = Number.POSITIVE_INFINITY) {
  /** @type {Map<number, number>} */
  const self = new Map();
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  // timeDeltas[i] is the time before sample i; attribute the gap after a sample to it.
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i] ?? 0;
    if (at < fromUs || at >= toUs) continue;
    const id = /** @type {number} */ (samples[i]);
    const delta = (timeDeltas[i + 1] ?? 0) / 1000;
    self.set(id, (self.get(id) ?? 0) + delta);
  }
  return self;
}

/**
 * Self time per package and per function.
 * @param {Profile} profile
 * @param {Map<number, number>} self
 */
function aggregate(profile, self) {
  /** @type {Map<string, number>} */
  const byPackage = new Map();
  /** @type {Map<string, { fn: string, pkg: string, location: string, ms: number }>} */
  const byFunction = new Map();
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const file = url.split("/").at(-1) ?? "";
    const location = file ? `${file}:${lineNumber + 1}` : "";
    const key = `${functionName}|${url}|${lineNumber}`;
    const entry = byFunction.get(key) ?? { fn: functionName || "(anonymous)", pkg, location, ms: 0 };
    entry.ms += ms;
    byFunction.set(key, entry);
  }
  return {
    packages: [...byPackage].sort((a, b) => b[1] - a[1]),
    functions: [...byFunction.values()].sort((a, b) => b.ms - a.ms),
  };
}

/**
 * The summary text of one profile; with `steps` (pipeline step windows on the profile clock), also
 * one section per step.
 * @param {Profile} profile
 * @param {number} top
 * @param {{ step: string, startUs: number, endUs: number }[]} [steps]
 */
export function summarize(profile, top, steps = []) {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  /**
   * @param {ReturnType<typeof aggregate>} agg
   * @param {number} spanMs
   * @param {number} n
   * @param {string[]} lines
   */
  const render = (agg, spanMs, n, lines) => {
    const pct = (/** @type {number} */ ms) => `${((100 * ms) / spanMs).toFixed(1).padStart(5)}%`;
    lines.push("  self time by package:");
    for (const [pkg, ms] of agg.packages.filter(([, ms]) => ms >= spanMs / 1000)) {
      lines.push(`    ${(ms / 1000).toFixed(2).padStart(7)} s ${pct(ms)}  ${pkg}`);
    }
    lines.push(`  top ${n} functions by self time:`);
    for (const e of agg.functions.slice(0, n)) {
      lines.push(
        `    ${(e.ms / 1000).toFixed(2).padStart(7)} s ${pct(e.ms)}  ${e.fn}  [${e.pkg}] ${e.location}`,
      );
    }
  };
  const lines = [`whole process: ${(totalMs / 1000).toFixed(2)} s`];
  render(aggregate(profile, selfTimes(profile)), totalMs, top, lines);
  for (const { step, startUs, endUs } of steps) {
    const spanMs = (endUs - startUs) / 1000;
    lines.push("", `step ${step}: ${(spanMs / 1000).toFixed(2)} s`);
    render(aggregate(profile, selfTimes(profile, startUs, endUs)), spanMs, Math.min(top, 12), lines);
  }
  return lines.join("\n");
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values, positionals } = parseArgs({
    options: { top: { type: "string", default: "25" } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    process.stderr.write(
      "usage: node tooling/bench/profile-summary.mjs <file.cpuprofile | dir> [--top <n>]\n",
    );
    process.exit(2);
  }
  const files = positionals.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith(".cpuprofile"))
          .map((f) => join(p, f))
      : [p],
  );
  for (const file of files) {
    const profile = /** @type {Profile} */ (JSON.parse(readFileSync(file, "utf8")));
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; the child saved its step windows as steps.<pid>.json
    const pid = basename(file).split(".")[3];
    const stepsFile = join(dirname(file), `steps.${pid}.json`);
    const meta = existsSync(stepsFile) ? JSON.parse(readFileSync(stepsFile, "utf8")) : undefined;
    const title = meta ? `${meta.name} (${file})` : file;
    process.stdout.write(`== ${title}\n${summarize(profile, Number(values.top), meta?.steps)}\n\n`);
  }
}
