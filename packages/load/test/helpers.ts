/** Test fixtures: a fresh temp dir per test with a load storage, and hand-built normalized packages. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLoadId,
  type DestinationContext,
  formatJobFileName,
  type JobState,
  type LoadPackage,
  newFileId,
  PackageStorage,
  Schema,
} from "@tsdlt/core";
import { type LoadOptions, type LoadResult, loadPackage } from "../src/index.js";
import { type FileDestination, type FileDestinationOptions, fileDestination } from "./file-destination.js";

export const DATASET = "ds";

export interface Fixture {
  readonly dir: string;
  readonly storage: PackageStorage;
  readonly destDir: string;
  cleanup(): void;
}

export function createFixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "tsdlt-load-"));
  return {
    dir,
    storage: new PackageStorage(join(dir, "load"), "load"),
    destDir: join(dir, "dest"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A schema with `users` (append) and `orders` (merge) plus a nested `orders__items`. */
export function testSchema(): Schema {
  const schema = new Schema("s");
  schema.updateTable({
    name: "users",
    write_disposition: "append",
    columns: { id: { name: "id", data_type: "bigint" }, name: { name: "name", data_type: "text" } },
  });
  schema.updateTable({
    name: "orders",
    write_disposition: "merge",
    columns: { id: { name: "id", data_type: "bigint", primary_key: true, nullable: false } },
  });
  schema.updateTable({
    name: "orders__items",
    parent: "orders",
    columns: { sku: { name: "sku", data_type: "text" } },
  });
  return schema;
}

/** One job file of a hand-built package. */
export interface JobSpec {
  readonly table: string;
  readonly rows: readonly Record<string, unknown>[];
  readonly fileId?: string;
  readonly retryCount?: number;
  /** Folder the job starts in. @default "new_jobs" */
  readonly state?: JobState;
}

export interface BuiltPackage {
  readonly pkg: LoadPackage;
  /** File names of the jobs, in the order given. */
  readonly files: string[];
}

/** Builds a normalized package with `schema.json` and jsonl job files, and commits it. */
export function normalizedPackage(
  fixture: Fixture,
  jobs: readonly JobSpec[],
  schema: Schema = testSchema(),
  loadId: string = createLoadId(),
): BuiltPackage {
  const temp = fixture.storage.createTempPackage(loadId);
  temp.writeSchemaDoc(schema.toDict());
  const files: string[] = [];
  for (const job of jobs) {
    const fileName = formatJobFileName({
      tableName: job.table,
      fileId: job.fileId ?? newFileId(),
      retryCount: job.retryCount ?? 0,
      fileFormat: "jsonl",
      compressed: false,
    });
    writeFileSync(
      temp.jobPath(job.state ?? "new_jobs", fileName),
      job.rows.map((r) => `${JSON.stringify(r)}\n`).join(""),
    );
    files.push(fileName);
  }
  const pkg = fixture.storage.commitPackage(temp, "normalized");
  return { pkg, files };
}

export function context(fixture: Fixture, signal?: AbortSignal): DestinationContext {
  return {
    pipelineName: "p",
    datasetName: DATASET,
    workingDir: fixture.dir,
    localDir: fixture.dir,
    ...(signal ? { signal } : {}),
  };
}

export function destination(
  fixture: Fixture,
  options: Omit<FileDestinationOptions, "dir"> = {},
): FileDestination {
  return fileDestination({ dir: fixture.destDir, ...options });
}

/** Runs {@link loadPackage} over `pkg` with fast retries. */
export function load(
  fixture: Fixture,
  pkg: LoadPackage,
  dest: FileDestination,
  options: Partial<LoadOptions> = {},
): Promise<LoadResult> {
  return loadPackage({
    package: pkg,
    storage: fixture.storage,
    destination: dest,
    context: context(fixture),
    retryBaseDelayMs: 1,
    ...options,
  });
}

/** Job files (not `.exception` files) in a job folder of the package at `path`. */
export function jobsIn(path: string, state: JobState): string[] {
  const dir = join(path, state);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => !f.endsWith(".exception"))
        .sort()
    : [];
}

/** `.exception` files in `failed_jobs/` of the package at `path`. */
export function exceptionFiles(path: string): string[] {
  const dir = join(path, "failed_jobs");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".exception")) : [];
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}

/** Catches the rejection of `promise` (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the promise to reject");
}

/** A logger collecting messages by level. */
export function recordingLogger(): {
  messages: { level: string; message: string }[];
  debug(m: string): void;
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
} {
  const messages: { level: string; message: string }[] = [];
  return {
    messages,
    debug: (message) => messages.push({ level: "debug", message }),
    info: (message) => messages.push({ level: "info", message }),
    warn: (message) => messages.push({ level: "warn", message }),
    error: (message) => messages.push({ level: "error", message }),
  };
}
