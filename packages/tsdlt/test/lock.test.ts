import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockWorkingDir } from "../src/lock.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-lock-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("lockWorkingDir", () => {
  // regression (found by the benchmark): the owner record was written inside the lock folder; its
  // mtime change made the first refresh declare the lock compromised, so release left it behind
  it("should stay valid across refreshes and be gone after release", async () => {
    const workingDir = join(root, "long_run");
    mkdirSync(workingDir);
    const release = await lockWorkingDir(workingDir, "long_run", { staleMs: 400 });
    await new Promise((r) => setTimeout(r, 700)); // several refreshes (every 200 ms)
    await expect(lockWorkingDir(workingDir, "long_run", { staleMs: 400 })).rejects.toThrow(
      /being run by another process/,
    );
    await release();
    expect(existsSync(`${workingDir}.lock`)).toBe(false);
    expect(existsSync(`${workingDir}.lock-owner.json`)).toBe(false);
    const again = await lockWorkingDir(workingDir, "long_run", { staleMs: 400 });
    await again();
  });

  // regression (found by the crash test under load): a process killed between taking the lock and
  // writing its owner file left a lock nobody could take for a minute
  it("should take over a lock left without an owner file by a killed process", async () => {
    const workingDir = join(root, "killed");
    mkdirSync(workingDir);
    mkdirSync(`${workingDir}.lock`); // what the killed process left
    await expect(lockWorkingDir(workingDir, "killed")).rejects.toThrow(/being run by another process/);
    const old = new Date(Date.now() - 10_000);
    utimesSync(`${workingDir}.lock`, old, old);
    const release = await lockWorkingDir(workingDir, "killed");
    expect(existsSync(`${workingDir}.lock-owner.json`)).toBe(true);
    await release();
  });
});
