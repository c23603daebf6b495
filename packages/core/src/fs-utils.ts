/** Crash-safe file helpers: every state change on disk is write → fsync → rename. */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";

/** Writes `data` to `path` atomically: readers see the old or the new content, never a partial file. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, data);
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDirSync(dirname(path));
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Renames `from` to `to` and makes the rename durable by syncing the target folder. */
export function renameDurableSync(from: string, to: string): void {
  renameSync(from, to);
  fsyncDirSync(dirname(to));
}

/** fsyncs a directory so renames inside it survive a crash (no-op where the OS refuses). */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** True when the file at `path` starts with gzip's magic bytes (job files may be compressed without a `.gz` suffix). */
export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
