/**
 * Normalizer throughput on GitHub-issue-like rows (a dozen scalars with ISO timestamps, a nested
 * `user` object, a `labels` list of two objects, a ~200-character body). Not a unit test: it runs only
 * with `TSDLT_BENCH=1` and prints items/s; figures go in the closing notes.
 *
 *   TSDLT_BENCH=1 npx vitest run --project normalize test/throughput.bench.test.ts
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { Schema } from "@tsdlt/core";
import { afterAll, describe, expect, it } from "vitest";
import { normalizePackage } from "../src/index.js";
import { capabilities, createFixture, extractPackage } from "./helpers.js";

const ITEMS = Number(process.env.TSDLT_BENCH_ITEMS ?? 200_000);
const BATCH = 1_000;
const BODY = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(4).slice(0, 200);

function issue(i: number): Record<string, unknown> {
  return {
    id: 1_000_000 + i,
    number: i,
    title: `Issue number ${i} has a title`,
    state: i % 3 === 0 ? "closed" : "open",
    locked: i % 5 === 0,
    comments: i % 11,
    created_at: `2024-0${1 + (i % 9)}-1${i % 10}T10:${String(i % 60).padStart(2, "0")}:00Z`,
    updated_at: `2024-0${1 + (i % 9)}-2${i % 10}T11:${String(i % 60).padStart(2, "0")}:30.5Z`,
    closed_at: i % 3 === 0 ? "2024-10-01T00:00:00Z" : null,
    author_association: "MEMBER",
    score: i + 0.5,
    html_url: `https://github.com/acme/repo/issues/${i}`,
    user: { login: `user${i % 7}`, id: 500 + (i % 7), site_admin: false },
    labels: [
      { id: 1, name: "bug", default: true },
      { id: 2, name: "p1", default: false },
    ],
    body: BODY,
  };
}

describe.skipIf(!process.env.TSDLT_BENCH)("normalize throughput", () => {
  const fixture = createFixture();
  afterAll(() => fixture.cleanup());

  it(`normalizes ${ITEMS} issue-like items`, async () => {
    const batches: Record<string, unknown>[][] = [];
    for (let b = 0; b < ITEMS / BATCH; b++) {
      batches.push(Array.from({ length: BATCH }, (_, j) => issue(b * BATCH + j)));
    }
    const runs: number[] = [];
    const cpuRuns: number[] = [];
    // TSDLT_BENCH_PROFILE=<file.cpuprofile> records a CPU profile of the last run
    const profile = process.env.TSDLT_BENCH_PROFILE;
    const session = profile ? new Session() : undefined;
    for (let run = 0; run < 3; run++) {
      const extracted = extractPackage(fixture, [{ table: "issues", batches }], new Schema("bench"));
      if (session && run === 2) {
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
      }
      const started = performance.now();
      const cpu = process.cpuUsage();
      const result = await normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities });
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      expect(result.rowCounts.issues).toBe(ITEMS);
      expect(result.rowCounts.issues__labels).toBe(ITEMS * 2);
      runs.push(ITEMS / seconds);
      // CPU time is steadier than wall time on a shared machine
      cpuRuns.push(ITEMS / ((used.user + used.system) / 1e6));
      fixture.loadStorage.deletePackage(result.package);
    }
    if (session && profile) {
      const { profile: data } = await session.post("Profiler.stop");
      writeFileSync(profile, JSON.stringify(data));
      session.disconnect();
    }
    const best = Math.max(...runs);
    const fmt = (n: number): string => Math.round(n).toLocaleString("en");
    console.log(
      `normalize: ${ITEMS} items → wall ${runs.map(fmt).join(", ")} items/s (best ${fmt(best)} items/s, ${fmt(best * 3)} rows/s); per CPU second ${cpuRuns.map(fmt).join(", ")} items`,
    );
  }, 600_000);
});
