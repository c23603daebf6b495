/**
 * The small storage surface the filesystem destination needs, addressed by bucket-relative POSIX
 * paths (`<dataset>/<table>/<file>`), with a local-folder implementation. Local writes are atomic:
 * a file is written under a temporary name next to its target and renamed, so readers never see a
 * partial file. The S3 implementation lives in `s3-store.ts`.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, posix, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fsyncDirSync, writeFileAtomicSync } from "@tsdlt/core";

/** Where the destination keeps its files. Paths are bucket-relative and use `/`. */
export interface FileStore {
  readonly protocol: "file" | "s3";
  /** The full URL of a path (`file:///abs/...`, `s3://bucket/prefix/...`). */
  url(path: string): string;
  /** The bucket-relative path of a URL of this store, or undefined when the URL points elsewhere. */
  pathOf(url: string): string | undefined;
  /** Streams the bytes of `path`; rejects when there is no such file. */
  openRead(path: string): Promise<Readable>;
  /** A local file to write the content of `path` into before {@link FileStore.commitFile}. */
  tempFileFor(path: string): Promise<string>;
  /** Publishes a local file written at `tempFile` as `path` (rename or upload); `tempFile` is gone afterwards. */
  commitFile(tempFile: string, path: string): Promise<void>;
  /** Copies a local file to `path`, leaving the source in place. */
  copyIn(localFile: string, path: string): Promise<void>;
  writeText(path: string, text: string): Promise<void>;
  /** The text of `path`, or undefined when there is no such file. */
  readText(path: string): Promise<string | undefined>;
  /** Every file whose path starts with `prefix` (a folder ends with `/`), at any depth. */
  list(prefix: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** Deletes files; missing ones are ignored. */
  deleteFiles(paths: readonly string[]): Promise<void>;
  /** Makes sure a folder exists (no-op on object stores, which have no folders). */
  ensureFolder(path: string): Promise<void>;
  /** Releases connections and temporary files. */
  close(): Promise<void>;
}

const isMissing = (error: unknown): boolean => (error as { code?: string }).code === "ENOENT";

function tempName(path: string): string {
  return `${path}.${randomBytes(4).toString("hex")}.tmp`;
}

/** A {@link FileStore} over a local folder. */
export class LocalFileStore implements FileStore {
  readonly protocol = "file" as const;
  /** Absolute folder that bucket-relative paths resolve against. */
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The absolute local path of a bucket-relative path. */
  localPath(path: string): string {
    return join(this.root, ...path.split("/"));
  }

  url(path: string): string {
    return pathToFileURL(this.localPath(path)).href;
  }

  pathOf(url: string): string | undefined {
    if (!url.startsWith("file:")) return undefined;
    const rel = relative(this.root, fileURLToPath(url));
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return undefined;
    return rel.split(sep).join("/");
  }

  async openRead(path: string): Promise<Readable> {
    const local = this.localPath(path);
    await stat(local); // a missing file rejects here, not as a stream error later
    return createReadStream(local, { highWaterMark: 1024 * 1024 });
  }

  async tempFileFor(path: string): Promise<string> {
    const target = this.localPath(path);
    await mkdir(dirname(target), { recursive: true });
    return tempName(target);
  }

  async commitFile(tempFile: string, path: string): Promise<void> {
    const target = this.localPath(path);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(tempFile, target);
    } catch (error) {
      // a temporary file on another device: copy next to the target, then rename
      if ((error as { code?: string }).code !== "EXDEV") throw error;
      await this.copyIn(tempFile, path);
      await rm(tempFile, { force: true });
      return;
    }
    fsyncDirSync(dirname(target));
  }

  async copyIn(localFile: string, path: string): Promise<void> {
    const target = this.localPath(path);
    await mkdir(dirname(target), { recursive: true });
    const tmp = tempName(target);
    try {
      await copyFile(localFile, tmp);
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    fsyncDirSync(dirname(target));
  }

  async writeText(path: string, text: string): Promise<void> {
    const target = this.localPath(path);
    await mkdir(dirname(target), { recursive: true });
    writeFileAtomicSync(target, text);
  }

  async readText(path: string): Promise<string | undefined> {
    try {
      return await readFile(this.localPath(path), "utf8");
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const folder = prefix.endsWith("/") ? prefix.slice(0, -1) : posix.dirname(prefix);
    const base = folder === "." ? "" : folder;
    let entries: string[];
    try {
      entries = await readdir(this.localPath(base), { recursive: true });
    } catch (error) {
      if (isMissing(error) || (error as { code?: string }).code === "ENOTDIR") return [];
      throw error;
    }
    const out: string[] = [];
    for (const entry of entries) {
      const path = (base === "" ? "" : `${base}/`) + entry.split(sep).join("/");
      if (!path.startsWith(prefix)) continue;
      const info = await stat(this.localPath(path)).catch(() => undefined);
      if (info?.isFile()) out.push(path);
    }
    return out.sort();
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.localPath(path));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async deleteFiles(paths: readonly string[]): Promise<void> {
    for (const path of paths) await rm(this.localPath(path), { force: true });
  }

  async ensureFolder(path: string): Promise<void> {
    await mkdir(this.localPath(path), { recursive: true });
  }

  async close(): Promise<void> {}
}
