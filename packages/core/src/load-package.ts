/**
 * The on-disk grammar where the stages meet (REFERENCE §6.1): load ids, job file names, package
 * folders and their states. Extract writes packages under `<working_dir>/normalize/`, normalize moves
 * them to `<working_dir>/load/`, load completes them into `load/loaded/`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOADER_FILE_FORMATS, type LoaderFileFormat } from "./data-types.js";
import { TsdltError } from "./errors.js";
import { renameDurableSync, writeFileAtomicSync } from "./fs-utils.js";
import { uniqId } from "./hashing.js";
import type { TableSchema } from "./schema/types.js";
import { fromTypedJson, toTypedJson } from "./typed-json.js";

/** Folders a job file moves through inside a package. */
export const JOB_STATES = ["new_jobs", "started_jobs", "completed_jobs", "failed_jobs"] as const;
/** A job folder. */
export type JobState = (typeof JOB_STATES)[number];

/** States of a package as reported in `LoadPackageInfo` (dlt's names). */
export const PACKAGE_STATES = ["new", "extracted", "normalized", "loaded", "aborted"] as const;
/** A package state. */
export type PackageState = (typeof PACKAGE_STATES)[number];

/** Files inside a package folder. */
export const PACKAGE_FILES = {
  schema: "schema.json",
  schemaUpdates: "schema_updates.json",
  appliedSchemaUpdates: "applied_schema_updates.json",
  packageState: "load_package_state.json",
  completed: "package_completed.json",
} as const;

/** Storage versions written to `normalize/.version` and `load/.version`. */
export const STORAGE_VERSIONS = { normalize: "1.0.1", load: "1.0.0" } as const;

/** The parts of a job file name `<table>.<file_id>.<retry_count>.<ext>[.gz]`. */
export interface ParsedJobFileName {
  readonly tableName: string;
  readonly fileId: string;
  readonly retryCount: number;
  /** Extension, i.e. the file format (`jsonl`, `typed-jsonl`, `sql`, ...). */
  readonly fileFormat: string;
  readonly compressed: boolean;
}

/** Characters a table name may not contain, because they break the job file grammar. */
const FORBIDDEN_TABLE_CHARS = /[.%{}]/;

/** Formats a job file name. */
export function formatJobFileName(parts: ParsedJobFileName): string {
  if (FORBIDDEN_TABLE_CHARS.test(parts.tableName)) {
    throw new TsdltError(
      `Table name \`${parts.tableName}\` cannot be used in a job file name: it contains one of \`.\`, \`%\`, \`{\`, \`}\`.`,
      { code: "LOAD_PACKAGE_INVALID", table: parts.tableName },
    );
  }
  const name = `${parts.tableName}.${parts.fileId}.${parts.retryCount}.${parts.fileFormat}${parts.compressed ? ".gz" : ""}`;
  // Every other part must survive the round trip through parseJobFileName.
  parseJobFileName(name);
  return name;
}

/** Parses a job file name; throws a `LOAD_PACKAGE_INVALID` error when it does not follow the grammar. */
export function parseJobFileName(fileName: string): ParsedJobFileName {
  const parts = fileName.split(".");
  const compressed = parts.at(-1) === "gz";
  if (compressed) parts.pop();
  const [tableName, fileId, retry, fileFormat] = parts;
  const retryCount = Number(retry);
  // The retry count is plain decimal digits: `Number()` alone would accept "", " ", "1e1", "0x1".
  if (parts.length !== 4 || !tableName || !fileId || !fileFormat || !/^\d+$/.test(retry ?? "")) {
    throw new TsdltError(
      `\`${fileName}\` is not a job file name: expected \`<table>.<file_id>.<retry_count>.<format>[.gz]\`.`,
      { code: "LOAD_PACKAGE_INVALID" },
    );
  }
  return { tableName, fileId, retryCount, fileFormat, compressed };
}

/** The job id: the file name without the retry count (stable across retries). */
export function jobIdOf(fileName: string): string {
  const p = parseJobFileName(fileName);
  return `${p.tableName}.${p.fileId}.${p.fileFormat}`;
}

/** A new random file id (10 hex characters). */
export function newFileId(): string {
  return uniqId(5);
}

/** True when `format` is one of the loader file formats. */
export function isLoaderFileFormat(format: string): format is LoaderFileFormat {
  return (LOADER_FILE_FORMATS as readonly string[]).includes(format);
}

let lastLoadId = 0;

/** A new load id: the unix time in seconds as a float string, strictly increasing in this process. */
export function createLoadId(): string {
  let now = (performance.timeOrigin + performance.now()) / 1000;
  now = Math.round(now * 1e6) / 1e6;
  if (now <= lastLoadId) now = Math.round((lastLoadId + 1e-6) * 1e6) / 1e6;
  lastLoadId = now;
  return String(now);
}

/** Compares load ids numerically (they are float strings). */
export function compareLoadIds(a: string, b: string): number {
  return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The typed-JSON document in `load_package_state.json`. */
export interface LoadPackageStateDoc {
  created_at: Date;
  /** The pipeline state extracted with this package, if the state changed. */
  pipeline_state?: { version_hash: string; state: string };
  /**
   * Tables a `refresh` run drops before loading (dlt stores their table schemas); the load stage
   * drops them, with the stored versions of the schema, before it migrates the dataset.
   */
  dropped_tables?: TableSchema[];
  /** Tables a `refresh: "drop_data"` run empties before loading (their table schemas, as dlt). */
  truncated_tables?: TableSchema[];
  destination_state?: Record<string, unknown>;
  load_metrics?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A job file inside a package. */
export interface PackageJob {
  readonly fileName: string;
  readonly path: string;
  readonly state: JobState;
  readonly parsed: ParsedJobFileName;
}

/**
 * One package folder: its job folders and metadata files. Obtained from {@link PackageStorage}.
 * Job moves are atomic renames.
 */
export class LoadPackage {
  readonly loadId: string;
  readonly path: string;

  constructor(loadId: string, path: string) {
    this.loadId = loadId;
    this.path = path;
  }

  /** Creates the job folders (idempotent). */
  ensureLayout(): void {
    for (const state of JOB_STATES) mkdirSync(join(this.path, state), { recursive: true });
  }

  /** Path of a job file in a given job folder. */
  jobPath(state: JobState, fileName: string): string {
    return join(this.path, state, fileName);
  }

  /** The job files in `state`, sorted by name. */
  listJobs(state: JobState): PackageJob[] {
    const dir = join(this.path, state);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => !f.endsWith(".exception") && !f.endsWith(".tmp"))
      .sort()
      .map((fileName) => ({
        fileName,
        path: join(dir, fileName),
        state,
        parsed: parseJobFileName(fileName),
      }));
  }

  /** Moves a job between folders atomically; returns its new path. `newFileName` renames it (retries). */
  moveJob(fileName: string, from: JobState, to: JobState, newFileName: string = fileName): string {
    const target = this.jobPath(to, newFileName);
    renameDurableSync(this.jobPath(from, fileName), target);
    return target;
  }

  /** Records why a job failed next to it in `failed_jobs/`. */
  writeJobException(fileName: string, message: string): void {
    writeFileAtomicSync(join(this.path, "failed_jobs", `${jobIdOf(fileName)}.exception`), message);
  }

  /** The failure message of a failed job, if recorded. */
  readJobException(fileName: string): string | undefined {
    const file = join(this.path, "failed_jobs", `${jobIdOf(fileName)}.exception`);
    return existsSync(file) ? readFileSync(file, "utf8") : undefined;
  }

  /** Reads a JSON metadata file of the package, or undefined when absent. */
  readJson<T>(file: string): T | undefined {
    const path = join(this.path, file);
    return existsSync(path) ? fromTypedJson<T>(readFileSync(path, "utf8")) : undefined;
  }

  /** Writes a JSON metadata file of the package atomically. */
  writeJson(file: string, value: unknown): void {
    writeFileAtomicSync(join(this.path, file), toTypedJson(value, 2));
  }

  /** Reads `load_package_state.json`. */
  readState(): LoadPackageStateDoc {
    return this.readJson<LoadPackageStateDoc>(PACKAGE_FILES.packageState) ?? { created_at: new Date(0) };
  }

  /** Writes `load_package_state.json`. */
  writeState(state: LoadPackageStateDoc): void {
    this.writeJson(PACKAGE_FILES.packageState, state);
  }

  /** The schema snapshot stored in the package (`schema.json`), as a plain document. */
  readSchemaDoc(): unknown {
    const path = join(this.path, PACKAGE_FILES.schema);
    if (!existsSync(path)) {
      throw new TsdltError(`Load package \`${this.loadId}\` at ${this.path} has no schema.json.`, {
        code: "LOAD_PACKAGE_INVALID",
        loadId: this.loadId,
      });
    }
    return JSON.parse(readFileSync(path, "utf8"));
  }

  /** Writes the schema snapshot (`schema.json`). */
  writeSchemaDoc(doc: unknown): void {
    writeFileAtomicSync(join(this.path, PACKAGE_FILES.schema), `${JSON.stringify(doc, null, 2)}\n`);
  }

  /** Total size in bytes of the files in a job folder. */
  jobsSize(state: JobState): number {
    return this.listJobs(state).reduce((sum, j) => sum + statSync(j.path).size, 0);
  }
}

/** Kind of package storage: `normalize` holds extracted packages, `load` holds normalized and loaded ones. */
export type PackageStorageKind = keyof typeof STORAGE_VERSIONS;

/** Folder names per storage and package state. */
const STATE_FOLDERS = {
  normalize: { extracted: "extracted" },
  load: { new: "new", normalized: "normalized", loaded: "loaded" },
} as const;

/**
 * The packages of one storage root (`<working_dir>/normalize` or `<working_dir>/load`). New packages
 * are built in a temporary folder and become visible by one atomic rename.
 */
export class PackageStorage {
  readonly root: string;
  readonly kind: PackageStorageKind;

  constructor(root: string, kind: PackageStorageKind) {
    this.root = root;
    this.kind = kind;
    mkdirSync(root, { recursive: true });
    const versionFile = join(root, ".version");
    if (!existsSync(versionFile)) writeFileSync(versionFile, STORAGE_VERSIONS[kind]);
  }

  private folder(state: string): string {
    return join(this.root, state);
  }

  /** Starts a package in a private temporary folder. Commit it with {@link commitPackage}. */
  createTempPackage(loadId: string): LoadPackage {
    const tempRoot =
      this.kind === "normalize" ? join(this.root, uniqId(8)) : this.folder(STATE_FOLDERS.load.new);
    const pkg = new LoadPackage(loadId, join(tempRoot, loadId));
    rmSync(pkg.path, { recursive: true, force: true });
    pkg.ensureLayout();
    return pkg;
  }

  /** Makes a temporary package visible in `state` with one atomic rename. */
  commitPackage(pkg: LoadPackage, state: "extracted" | "normalized"): LoadPackage {
    const target = join(this.folder(state), pkg.loadId);
    mkdirSync(this.folder(state), { recursive: true });
    if (existsSync(target)) {
      throw new TsdltError(`Load package \`${pkg.loadId}\` already exists in ${this.folder(state)}.`, {
        code: "LOAD_PACKAGE_INVALID",
        loadId: pkg.loadId,
      });
    }
    renameDurableSync(pkg.path, target);
    if (this.kind === "normalize") rmSync(join(pkg.path, ".."), { recursive: true, force: true });
    return new LoadPackage(pkg.loadId, target);
  }

  /** Load ids of the packages in `state`, oldest first. */
  listPackages(state: "extracted" | "normalized" | "loaded"): string[] {
    const dir = this.folder(state);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => statSync(join(dir, name)).isDirectory())
      .sort(compareLoadIds);
  }

  /** The package `loadId` in `state`, or undefined. */
  getPackage(state: "extracted" | "normalized" | "loaded", loadId: string): LoadPackage | undefined {
    const path = join(this.folder(state), loadId);
    return existsSync(path) ? new LoadPackage(loadId, path) : undefined;
  }

  /** Moves a package to another state folder (e.g. `normalized` → `loaded`). */
  movePackage(pkg: LoadPackage, to: "loaded"): LoadPackage {
    mkdirSync(this.folder(to), { recursive: true });
    const target = join(this.folder(to), pkg.loadId);
    rmSync(target, { recursive: true, force: true });
    renameDurableSync(pkg.path, target);
    return new LoadPackage(pkg.loadId, target);
  }

  /** Deletes a package folder. */
  deletePackage(pkg: LoadPackage): void {
    rmSync(pkg.path, { recursive: true, force: true });
  }

  /** Deletes a package that was never committed, with the private temporary folder holding it. */
  discardTempPackage(pkg: LoadPackage): void {
    rmSync(this.kind === "normalize" ? join(pkg.path, "..") : pkg.path, { recursive: true, force: true });
  }

  /** Removes temporary folders left by a crashed extract or normalize (never committed data). */
  cleanupTemp(): void {
    if (!existsSync(this.root)) return;
    if (this.kind === "load") {
      rmSync(this.folder(STATE_FOLDERS.load.new), { recursive: true, force: true });
      return;
    }
    for (const name of readdirSync(this.root)) {
      if (/^[0-9a-f]{16}$/.test(name)) rmSync(join(this.root, name), { recursive: true, force: true });
    }
  }
}
