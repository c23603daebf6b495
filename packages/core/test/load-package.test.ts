import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  compareLoadIds,
  createLoadId,
  formatJobFileName,
  isLoaderFileFormat,
  isTsdltError,
  JOB_STATES,
  jobIdOf,
  LoadPackage,
  newFileId,
  PACKAGE_FILES,
  PackageStorage,
  type ParsedJobFileName,
  parseJobFileName,
  STORAGE_VERSIONS,
} from "../src/index.js";

function expectLoadPackageInvalid(fn: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isTsdltError(thrown, "LOAD_PACKAGE_INVALID")).toBe(true);
  expect((thrown as Error).message).toMatch(message);
}

describe("job file names", () => {
  const cases: ReadonlyArray<readonly [string, ParsedJobFileName]> = [
    [
      "users.a1b2c3d4e5.0.jsonl",
      { tableName: "users", fileId: "a1b2c3d4e5", retryCount: 0, fileFormat: "jsonl", compressed: false },
    ],
    [
      "users__orders.a1b2c3d4e5.3.typed-jsonl.gz",
      {
        tableName: "users__orders",
        fileId: "a1b2c3d4e5",
        retryCount: 3,
        fileFormat: "typed-jsonl",
        compressed: true,
      },
    ],
    [
      "_dlt_pipeline_state.0123456789.12.insert_values",
      {
        tableName: "_dlt_pipeline_state",
        fileId: "0123456789",
        retryCount: 12,
        fileFormat: "insert_values",
        compressed: false,
      },
    ],
    [
      "orders.ffffffffff.0.parquet.gz",
      { tableName: "orders", fileId: "ffffffffff", retryCount: 0, fileFormat: "parquet", compressed: true },
    ],
  ];

  it.each(cases)("should parse and format %s as a round trip", (fileName, parsed) => {
    expect(parseJobFileName(fileName)).toEqual(parsed);
    expect(formatJobFileName(parsed)).toBe(fileName);
    expect(formatJobFileName(parseJobFileName(fileName))).toBe(fileName);
  });

  it.each([
    "users.jsonl",
    "users.abc.jsonl",
    "users.abc.0",
    "users.abc.0.jsonl.extra",
    "users.abc.x.jsonl",
    "users.abc.-1.jsonl",
    "users.abc.1.5.jsonl",
    "users.abc..jsonl",
    "users.abc. .jsonl",
    "users.abc.1e1.jsonl",
    "users.abc.0x1.jsonl",
    ".abc.0.jsonl",
    "users..0.jsonl",
    "users.abc.0.",
    "users.abc.0.gz",
    "",
  ])("should reject the invalid job file name %j", (fileName) => {
    expectLoadPackageInvalid(() => parseJobFileName(fileName), /is not a job file name: expected/);
  });

  it.each(["my.table", "50%", "{users}", "a}b", "x{"])(
    "should refuse to format a job file name for the table %j",
    (tableName) => {
      expectLoadPackageInvalid(
        () =>
          formatJobFileName({
            tableName,
            fileId: "abc",
            retryCount: 0,
            fileFormat: "jsonl",
            compressed: false,
          }),
        /Table name `.*` cannot be used in a job file name: it contains one of `\.`, `%`, `\{`, `\}`/,
      );
    },
  );

  it("should name the offending table in the error of formatJobFileName", () => {
    try {
      formatJobFileName({
        tableName: "a.b",
        fileId: "abc",
        retryCount: 0,
        fileFormat: "jsonl",
        compressed: false,
      });
      expect.unreachable();
    } catch (error) {
      expect(isTsdltError(error)).toBe(true);
      expect((error as { table?: string }).table).toBe("a.b");
    }
  });

  it.each([
    { tableName: "", fileId: "abc", retryCount: 0, fileFormat: "jsonl", compressed: false },
    { tableName: "t", fileId: "", retryCount: 0, fileFormat: "jsonl", compressed: false },
    { tableName: "t", fileId: "a.b", retryCount: 0, fileFormat: "jsonl", compressed: false },
    { tableName: "t", fileId: "abc", retryCount: -1, fileFormat: "jsonl", compressed: false },
    { tableName: "t", fileId: "abc", retryCount: 1.5, fileFormat: "jsonl", compressed: false },
    { tableName: "t", fileId: "abc", retryCount: 0, fileFormat: "", compressed: false },
    { tableName: "t", fileId: "abc", retryCount: 0, fileFormat: "json.l", compressed: false },
  ])("should refuse to format a name that would not parse back: %j", (parts) => {
    expect(() => formatJobFileName(parts)).toThrowError(
      expect.objectContaining({ code: "LOAD_PACKAGE_INVALID" }),
    );
  });

  it("should derive the job id without the retry count", () => {
    expect(jobIdOf("users.a1b2c3d4e5.0.jsonl")).toBe("users.a1b2c3d4e5.jsonl");
    expect(jobIdOf("users.a1b2c3d4e5.7.jsonl")).toBe("users.a1b2c3d4e5.jsonl");
    expect(jobIdOf("users.a1b2c3d4e5.2.insert_values.gz")).toBe("users.a1b2c3d4e5.insert_values");
    expect(() => jobIdOf("not-a-job")).toThrowError(
      expect.objectContaining({ code: "LOAD_PACKAGE_INVALID" }),
    );
  });

  it("should create random 10-hex-char file ids", () => {
    const ids = new Set(Array.from({ length: 100 }, () => newFileId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{10}$/);
  });

  it("should recognise loader file formats", () => {
    expect(isLoaderFileFormat("typed-jsonl")).toBe(true);
    expect(isLoaderFileFormat("insert_values")).toBe(true);
    expect(isLoaderFileFormat("sql")).toBe(false);
  });
});

describe("load ids", () => {
  it("should create strictly increasing load ids over 10,000 calls", () => {
    const ids = Array.from({ length: 10_000 }, () => createLoadId());
    for (let i = 1; i < ids.length; i++) {
      const previous = ids[i - 1] as string;
      const current = ids[i] as string;
      expect(Number(current)).toBeGreaterThan(Number(previous));
      expect(compareLoadIds(previous, current)).toBeLessThan(0);
    }
  });

  it("should create load ids that parse as a float of the current unix time in seconds", () => {
    const before = Date.now() / 1000;
    const id = createLoadId();
    const after = Date.now() / 1000;
    expect(id).toMatch(/^\d+(\.\d{1,6})?$/);
    const value = Number.parseFloat(id);
    expect(String(value)).toBe(id);
    expect(value).toBeGreaterThan(before - 1);
    expect(value).toBeLessThan(after + 1);
  });

  it("should compare load ids numerically, not as strings", () => {
    expect(compareLoadIds("999999999.9", "1700000000.1")).toBeLessThan(0);
    expect(compareLoadIds("1700000000.25", "1700000000.5")).toBeLessThan(0);
    expect(compareLoadIds("1700000000.5", "1700000000.25")).toBeGreaterThan(0);
    expect(compareLoadIds("1700000000.5", "1700000000.5")).toBe(0);
    expect(["1700000000.5", "999999999.9", "1700000000.25"].sort(compareLoadIds)).toEqual([
      "999999999.9",
      "1700000000.25",
      "1700000000.5",
    ]);
  });
});

describe("PackageStorage", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tsdlt-core-pkg-"));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function addJob(pkg: LoadPackage, fileName: string, content = "{}\n"): void {
    writeFileSync(pkg.jobPath("new_jobs", fileName), content);
  }

  it("should write the storage .version files", () => {
    new PackageStorage(join(dir, "normalize"), "normalize");
    new PackageStorage(join(dir, "load"), "load");
    expect(readFileSync(join(dir, "normalize", ".version"), "utf8")).toBe("1.0.1");
    expect(readFileSync(join(dir, "load", ".version"), "utf8")).toBe("1.0.0");
    expect(STORAGE_VERSIONS).toEqual({ normalize: "1.0.1", load: "1.0.0" });
  });

  it("should not overwrite an existing .version file", () => {
    mkdirSync(join(dir, "load"));
    writeFileSync(join(dir, "load", ".version"), "0.9.0");
    new PackageStorage(join(dir, "load"), "load");
    expect(readFileSync(join(dir, "load", ".version"), "utf8")).toBe("0.9.0");
  });

  it("should build an extracted package in a temp folder and commit it with one rename", () => {
    const storage = new PackageStorage(join(dir, "normalize"), "normalize");
    const loadId = createLoadId();
    const temp = storage.createTempPackage(loadId);
    const tempRoot = join(temp.path, "..");
    expect(tempRoot).not.toBe(storage.root);
    expect(readdirSync(dir)).toEqual(["normalize"]);
    for (const state of JOB_STATES) expect(existsSync(join(temp.path, state))).toBe(true);
    addJob(temp, "users.a1b2c3d4e5.0.typed-jsonl", '{"id":1}\n');
    temp.writeSchemaDoc({ name: "src" });

    // Not visible before the commit.
    expect(storage.listPackages("extracted")).toEqual([]);

    const committed = storage.commitPackage(temp, "extracted");
    expect(committed.loadId).toBe(loadId);
    expect(committed.path).toBe(join(dir, "normalize", "extracted", loadId));
    expect(storage.listPackages("extracted")).toEqual([loadId]);
    expect(existsSync(temp.path)).toBe(false);
    expect(existsSync(tempRoot)).toBe(false);
    expect(readdirSync(storage.root).sort()).toEqual([".version", "extracted"]);
    expect(committed.listJobs("new_jobs").map((j) => j.fileName)).toEqual(["users.a1b2c3d4e5.0.typed-jsonl"]);
    expect(readFileSync(committed.jobPath("new_jobs", "users.a1b2c3d4e5.0.typed-jsonl"), "utf8")).toBe(
      '{"id":1}\n',
    );
    expect(committed.readSchemaDoc()).toEqual({ name: "src" });
  });

  it("should build a normalized package under load/new and commit it to load/normalized", () => {
    const storage = new PackageStorage(join(dir, "load"), "load");
    const loadId = createLoadId();
    const temp = storage.createTempPackage(loadId);
    expect(temp.path).toBe(join(dir, "load", "new", loadId));
    addJob(temp, "users.a1b2c3d4e5.0.insert_values");
    const committed = storage.commitPackage(temp, "normalized");
    expect(committed.path).toBe(join(dir, "load", "normalized", loadId));
    expect(existsSync(temp.path)).toBe(false);
    expect(storage.listPackages("normalized")).toEqual([loadId]);
    expect(storage.getPackage("normalized", loadId)?.path).toBe(committed.path);
    expect(storage.getPackage("normalized", "1.5")).toBeUndefined();
  });

  it("should refuse to commit over an existing package", () => {
    const storage = new PackageStorage(join(dir, "normalize"), "normalize");
    const loadId = createLoadId();
    storage.commitPackage(storage.createTempPackage(loadId), "extracted");
    const again = storage.createTempPackage(loadId);
    expectLoadPackageInvalid(() => storage.commitPackage(again, "extracted"), /already exists/);
  });

  it("should list packages oldest first by load id", () => {
    const storage = new PackageStorage(join(dir, "normalize"), "normalize");
    for (const loadId of ["1700000000.5", "999999999.9", "1700000000.25", "1700000001"]) {
      storage.commitPackage(storage.createTempPackage(loadId), "extracted");
    }
    writeFileSync(join(storage.root, "extracted", "stray-file"), "");
    expect(storage.listPackages("extracted")).toEqual([
      "999999999.9",
      "1700000000.25",
      "1700000000.5",
      "1700000001",
    ]);
    expect(storage.listPackages("loaded")).toEqual([]);
  });

  it("should move jobs between job folders and rename them on retry", () => {
    const storage = new PackageStorage(join(dir, "load"), "load");
    const pkg = storage.commitPackage(storage.createTempPackage(createLoadId()), "normalized");
    addJob(pkg, "users.a1b2c3d4e5.0.jsonl", "a\n");
    addJob(pkg, "orders.0000000001.0.jsonl", "b\n");
    expect(pkg.listJobs("new_jobs").map((j) => j.fileName)).toEqual([
      "orders.0000000001.0.jsonl",
      "users.a1b2c3d4e5.0.jsonl",
    ]);

    const started = pkg.moveJob("users.a1b2c3d4e5.0.jsonl", "new_jobs", "started_jobs");
    expect(started).toBe(pkg.jobPath("started_jobs", "users.a1b2c3d4e5.0.jsonl"));
    expect(readFileSync(started, "utf8")).toBe("a\n");
    expect(pkg.listJobs("new_jobs").map((j) => j.fileName)).toEqual(["orders.0000000001.0.jsonl"]);
    const [job] = pkg.listJobs("started_jobs");
    expect(job?.state).toBe("started_jobs");
    expect(job?.parsed.tableName).toBe("users");

    // A retry goes back to new_jobs with retry_count + 1.
    pkg.moveJob("users.a1b2c3d4e5.0.jsonl", "started_jobs", "new_jobs", "users.a1b2c3d4e5.1.jsonl");
    expect(pkg.listJobs("started_jobs")).toEqual([]);
    expect(pkg.listJobs("new_jobs").map((j) => j.parsed.retryCount)).toEqual([0, 1]);

    pkg.moveJob("users.a1b2c3d4e5.1.jsonl", "new_jobs", "completed_jobs");
    expect(pkg.listJobs("completed_jobs").map((j) => j.fileName)).toEqual(["users.a1b2c3d4e5.1.jsonl"]);
    expect(pkg.jobsSize("completed_jobs")).toBe(2);
  });

  it("should record job exceptions next to failed jobs without listing them as jobs", () => {
    const storage = new PackageStorage(join(dir, "load"), "load");
    const pkg = storage.commitPackage(storage.createTempPackage(createLoadId()), "normalized");
    addJob(pkg, "users.a1b2c3d4e5.0.jsonl");
    pkg.moveJob("users.a1b2c3d4e5.0.jsonl", "new_jobs", "failed_jobs");
    expect(pkg.readJobException("users.a1b2c3d4e5.0.jsonl")).toBeUndefined();
    pkg.writeJobException("users.a1b2c3d4e5.0.jsonl", "column `id` does not exist");
    expect(pkg.readJobException("users.a1b2c3d4e5.0.jsonl")).toBe("column `id` does not exist");
    expect(pkg.listJobs("failed_jobs").map((j) => j.fileName)).toEqual(["users.a1b2c3d4e5.0.jsonl"]);
    expect(readdirSync(join(pkg.path, "failed_jobs")).sort()).toEqual([
      "users.a1b2c3d4e5.0.jsonl",
      "users.a1b2c3d4e5.jsonl.exception",
    ]);
  });

  it("should round-trip the package state as typed JSON, keeping Dates", () => {
    const storage = new PackageStorage(join(dir, "normalize"), "normalize");
    const pkg = storage.createTempPackage(createLoadId());
    expect(pkg.readState().created_at).toEqual(new Date(0));
    const createdAt = new Date("2024-05-06T07:08:09.123Z");
    pkg.writeState({
      created_at: createdAt,
      pipeline_state: { version_hash: "abc=", state: "eJw=" },
      dropped_tables: [{ name: "old", columns: {} }],
      load_metrics: { rows: 3 },
    });
    const raw = readFileSync(join(pkg.path, PACKAGE_FILES.packageState), "utf8");
    expect(raw).toContain("\uf0272024-05-06T07:08:09.123Z");
    const state = pkg.readState();
    expect(state.created_at).toBeInstanceOf(Date);
    expect(state.created_at.getTime()).toBe(createdAt.getTime());
    expect(state.pipeline_state).toEqual({ version_hash: "abc=", state: "eJw=" });
    expect(state.dropped_tables).toEqual([{ name: "old", columns: {} }]);
    expect(state.load_metrics).toEqual({ rows: 3 });
    // No temporary files are left behind by the atomic write.
    expect(readdirSync(pkg.path).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("should fail clearly when a package has no schema.json", () => {
    const storage = new PackageStorage(join(dir, "normalize"), "normalize");
    const pkg = storage.createTempPackage("1700000000.5");
    expectLoadPackageInvalid(() => pkg.readSchemaDoc(), /`1700000000\.5`.*has no schema\.json/);
  });

  it("should move a completed package to loaded", () => {
    const storage = new PackageStorage(join(dir, "load"), "load");
    const loadId = createLoadId();
    const pkg = storage.commitPackage(storage.createTempPackage(loadId), "normalized");
    const loaded = storage.movePackage(pkg, "loaded");
    expect(loaded.path).toBe(join(dir, "load", "loaded", loadId));
    expect(storage.listPackages("normalized")).toEqual([]);
    expect(storage.listPackages("loaded")).toEqual([loadId]);
    storage.deletePackage(loaded);
    expect(storage.listPackages("loaded")).toEqual([]);
  });

  it("should remove uncommitted temp folders of extract but keep committed packages", () => {
    const storage = new PackageStorage(join(dir, "normalize"), "normalize");
    const committedId = createLoadId();
    storage.commitPackage(storage.createTempPackage(committedId), "extracted");
    const crashed = storage.createTempPackage(createLoadId());
    const crashedRoot = join(crashed.path, "..");
    expect(existsSync(crashedRoot)).toBe(true);
    storage.cleanupTemp();
    expect(existsSync(crashedRoot)).toBe(false);
    expect(storage.listPackages("extracted")).toEqual([committedId]);
    expect(readdirSync(storage.root).sort()).toEqual([".version", "extracted"]);
  });

  it("should remove load/new on cleanup but keep normalized packages", () => {
    const storage = new PackageStorage(join(dir, "load"), "load");
    const keptId = createLoadId();
    storage.commitPackage(storage.createTempPackage(keptId), "normalized");
    storage.createTempPackage(createLoadId());
    storage.cleanupTemp();
    expect(existsSync(join(dir, "load", "new"))).toBe(false);
    expect(storage.listPackages("normalized")).toEqual([keptId]);
  });

  it("should start a temp package afresh when one with the same load id is left over", () => {
    const storage = new PackageStorage(join(dir, "load"), "load");
    const loadId = createLoadId();
    const first = storage.createTempPackage(loadId);
    addJob(first, "users.a1b2c3d4e5.0.jsonl");
    const second = storage.createTempPackage(loadId);
    expect(second.path).toBe(first.path);
    expect(second.listJobs("new_jobs")).toEqual([]);
  });
});

describe("LoadPackage", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tsdlt-core-lp-"));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("should list no jobs for a missing job folder", () => {
    const pkg = new LoadPackage("1700000000.5", join(dir, "missing"));
    expect(pkg.listJobs("new_jobs")).toEqual([]);
    expect(pkg.readJson("anything.json")).toBeUndefined();
  });

  it("should read and write metadata files as typed JSON", () => {
    const pkg = new LoadPackage("1700000000.5", dir);
    pkg.writeJson(PACKAGE_FILES.schemaUpdates, { users: { at: new Date(1000), big: 2n ** 70n } });
    expect(pkg.readJson(PACKAGE_FILES.schemaUpdates)).toEqual({
      users: { at: new Date(1000), big: 2n ** 70n },
    });
  });
});
