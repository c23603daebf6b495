/**
 * Shared by the tests that load the tutorial's GitHub issues through a local filesystem bucket
 * (`filesystem.test.ts`, `staging.test.ts`): a fresh folder per test and the issues.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";

/** The folders of the current test. */
export interface BucketDirs {
  /** A fresh temporary folder, deleted after the test. */
  readonly root: string;
  /** `root/bucket`, not created: the bucket URL of the filesystem destination. */
  readonly bucket: string;
}

/**
 * Gives every test of the calling file a fresh temporary folder named `prefix…`, deleted after the
 * test. Call it once at the top level of the file: the object it returns holds the current test's
 * folders.
 */
export function useBucket(prefix: string): BucketDirs {
  const dirs = { root: "", bucket: "" };
  beforeEach(() => {
    dirs.root = mkdtempSync(join(tmpdir(), prefix));
    dirs.bucket = join(dirs.root, "bucket");
  });
  afterEach(() => {
    rmSync(dirs.root, { recursive: true, force: true });
  });
  return dirs;
}

/**
 * The tutorial's GitHub issues 1001 and 1002 (a nested `user`, a `labels` list, empty on 1002) with a
 * few more types: `secondTitle` is the title of 1002; `comments`, when given, the issues' comment
 * counts (a `comments` column).
 */
export function tutorialIssues(
  secondTitle: string,
  comments?: readonly [number, number],
): Record<string, unknown>[] {
  const commentsOf = (i: 0 | 1) => (comments === undefined ? {} : { comments: comments[i] });
  return [
    {
      id: 2_313_456_789,
      number: 1001,
      title: "Filesystem destination",
      state: "open",
      locked: false,
      ...commentsOf(0),
      score: 0.75,
      created_at: "2024-03-01T10:20:30.123456Z",
      user: { login: "rudolfix", id: 8_000_001 },
      labels: [
        { name: "enhancement", color: "a2eeef" },
        { name: "destination", color: "0e8a16" },
      ],
    },
    {
      id: 2_313_456_790,
      number: 1002,
      title: secondTitle,
      state: "closed",
      locked: true,
      ...commentsOf(1),
      score: 1.5,
      created_at: "2024-03-02T08:00:00Z",
      user: { login: "sh-rp", id: 8_000_002 },
      labels: [],
    },
  ];
}
