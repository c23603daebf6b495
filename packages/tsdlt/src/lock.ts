/**
 * One process at a time per pipeline working folder. The lock is a folder (`<working_dir>.lock`)
 * created atomically and refreshed while held (proper-lockfile); a lock left by a killed process goes
 * stale after {@link LOCK_STALE_MS} and is taken over.
 */
import { TsdltError } from "@tsdlt/core";
import lockfile from "proper-lockfile";

/** A lock not refreshed for this long belongs to a dead process. */
export const LOCK_STALE_MS = 10_000;

/** Acquires the lock of `workingDir`; resolves to the release function. */
export async function lockWorkingDir(workingDir: string, pipelineName: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(workingDir, {
      stale: LOCK_STALE_MS,
      update: LOCK_STALE_MS / 2,
      realpath: false,
      onCompromised: () => {
        // The lock was taken over (e.g. the machine slept past the stale time); keep going: the other
        // process sees a fresh lock and the atomic package moves keep the folder consistent.
      },
    });
  } catch (cause) {
    if ((cause as { code?: string }).code === "ELOCKED") {
      throw new TsdltError(
        `Pipeline \`${pipelineName}\` is being run by another process (its working folder ${workingDir} is locked). ` +
          `Wait for that run to finish. If no other process runs it, the lock is released ${LOCK_STALE_MS / 1000} s after that process died.`,
        { code: "PIPELINE_LOCKED", pipelineName, cause },
      );
    }
    throw cause;
  }
}
