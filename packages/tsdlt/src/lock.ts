/**
 * One process at a time per pipeline working folder. The lock is a folder (`<working_dir>.lock`)
 * created atomically and refreshed while held (proper-lockfile). It records its owner's pid and host:
 * a lock whose owner died on this host (killed, crashed) is taken over at once; a lock from another
 * host is taken over when it was not refreshed for {@link LOCK_STALE_MS}.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { TsdltError } from "@tsdlt/core";
import lockfile from "proper-lockfile";

/**
 * A lock not refreshed for this long belongs to a dead process (only consulted for owners on other
 * hosts: a dead owner on this host is recognised by its pid). Long, because a busy event loop
 * (normalizing a big file) may delay the refresh.
 */
export const LOCK_STALE_MS = 60_000;

interface LockOwner {
  readonly pid: number;
  readonly host: string;
}

function lockDir(workingDir: string): string {
  return `${workingDir}.lock`;
}

/**
 * The owner record lives next to the lock folder, not inside it: writing into the folder changes its
 * mtime, which proper-lockfile reads as someone else having taken the lock.
 */
function ownerFile(workingDir: string): string {
  return `${workingDir}.lock-owner.json`;
}

function readOwner(workingDir: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(ownerFile(workingDir), "utf8")) as LockOwner;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when the lock's owner is a process of this host that no longer runs. */
function ownerIsDead(workingDir: string): boolean {
  const owner = readOwner(workingDir);
  if (owner === undefined) {
    // A holder writes its owner file right after taking the lock and removes it right before
    // releasing: a lock without one for seconds belongs to a process killed in between.
    try {
      return Date.now() - statSync(lockDir(workingDir)).mtimeMs > ORPHANED_LOCK_MS;
    } catch {
      return false;
    }
  }
  return owner.host === hostname() && owner.pid !== process.pid && !isAlive(owner.pid);
}

/** Age after which a lock without an owner file is taken to be left by a killed process. */
const ORPHANED_LOCK_MS = 5000;

/** Options of {@link lockWorkingDir}. */
export interface LockOptions {
  /** Milliseconds after which an unrefreshed lock is stale; refreshed every half of it. @default LOCK_STALE_MS */
  readonly staleMs?: number;
}

async function acquire(workingDir: string, staleMs: number): Promise<() => Promise<void>> {
  const release = await lockfile.lock(workingDir, {
    stale: staleMs,
    update: staleMs / 2,
    realpath: false,
    onCompromised: () => {
      // The lock was taken over (e.g. the machine slept past the stale time); keep going: the other
      // process sees a fresh lock and the atomic package moves keep the folder consistent.
    },
  });
  const owner = ownerFile(workingDir);
  writeFileSync(owner, JSON.stringify({ pid: process.pid, host: hostname() }));
  return async () => {
    rmSync(owner, { force: true });
    await release().catch((error: unknown) => {
      // released already: the lock was declared compromised after a refresh came too late
      if ((error as { code?: string }).code !== "ERELEASED") throw error;
    });
  };
}

/** Acquires the lock of `workingDir`; resolves to the release function. */
export async function lockWorkingDir(
  workingDir: string,
  pipelineName: string,
  options: LockOptions = {},
): Promise<() => Promise<void>> {
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  try {
    return await acquire(workingDir, staleMs);
  } catch (cause) {
    if ((cause as { code?: string }).code !== "ELOCKED") throw cause;
    if (ownerIsDead(workingDir)) {
      rmSync(lockDir(workingDir), { recursive: true, force: true });
      return acquire(workingDir, staleMs).catch((again: unknown) => {
        throw lockedError(workingDir, pipelineName, again);
      });
    }
    throw lockedError(workingDir, pipelineName, cause);
  }
}

function lockedError(workingDir: string, pipelineName: string, cause: unknown): TsdltError {
  const owner = readOwner(workingDir);
  const by = owner ? ` (process ${owner.pid} on ${owner.host})` : "";
  return new TsdltError(
    `Pipeline \`${pipelineName}\` is being run by another process${by}: its working folder ${workingDir} is locked. ` +
      `Wait for that run to finish. A lock whose process died is released at once on this machine, or ${LOCK_STALE_MS / 1000} s after its last refresh elsewhere.`,
    { code: "PIPELINE_LOCKED", pipelineName, cause },
  );
}
