import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
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
});
