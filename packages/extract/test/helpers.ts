/** Test fixtures: a fresh temp dir per test with a normalize storage, and readers for extracted packages. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  fromTypedJson,
  type LoadPackage,
  type LoadPackageStateDoc,
  type NamingConvention,
  PACKAGE_FILES,
  PackageStorage,
  parseJobFileName,
  Schema,
  type StoredSchema,
  snakeCase,
} from "@tsdlt/core";
import { afterEach, beforeEach } from "vitest";
import { type DltResource, type ExtractOptions, type ExtractResult, extractResources } from "../src/index.js";

export interface Fixture {
  readonly dir: string;
  readonly storage: PackageStorage;
  readonly schema: Schema;
  readonly naming: NamingConvention;
  cleanup(): void;
}

export function createFixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "tsdlt-extract-"));
  return {
    dir,
    storage: new PackageStorage(join(dir, "normalize"), "normalize"),
    schema: new Schema("s"),
    naming: snakeCase(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Gives every test of the calling file a fresh {@link Fixture}, cleaned up after the test. Call it once
 * at the top level of the file: the object it returns takes the current test's fixture before each
 * test runs.
 */
export function useFixture(): Fixture {
  const fixture = {} as Fixture;
  beforeEach(() => {
    Object.assign(fixture, createFixture());
  });
  afterEach(() => {
    fixture.cleanup();
  });
  return fixture;
}

/** Runs {@link extractResources} with the fixture's storage, schema and naming. */
export function extract(
  fixture: Fixture,
  resources: readonly DltResource[],
  options: Partial<ExtractOptions> = {},
): Promise<ExtractResult> {
  return extractResources({
    resources,
    schema: fixture.schema,
    naming: fixture.naming,
    storage: fixture.storage,
    ...options,
  });
}

/** Job file names in `new_jobs/` of a package, sorted. */
export function jobFiles(pkg: LoadPackage): string[] {
  return readdirSync(join(pkg.path, "new_jobs")).sort();
}

/** The job files of `table`, each as its decoded lines (one batch per line). Files ordered by first item. */
export function tableFiles(pkg: LoadPackage, table: string): unknown[][][] {
  return jobFiles(pkg)
    .filter((f) => parseJobFileName(f).tableName === table)
    .map((f) =>
      readFileSync(join(pkg.path, "new_jobs", f), "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => fromTypedJson<unknown[]>(line)),
    )
    .sort((a, b) => firstId(a) - firstId(b));
}

function firstId(file: unknown[][]): number {
  const item = file[0]?.[0] as { id?: unknown } | undefined;
  return typeof item?.id === "number" ? item.id : 0;
}

/** Every batch (line) of `table` across its files. */
export function batches(pkg: LoadPackage, table: string): unknown[][] {
  return tableFiles(pkg, table).flat();
}

/** Every item of `table` across its files and lines. */
export function items(pkg: LoadPackage, table: string): unknown[] {
  return batches(pkg, table).flat();
}

/** The raw text of the job files of `table`. */
export function rawText(pkg: LoadPackage, table: string): string {
  return jobFiles(pkg)
    .filter((f) => parseJobFileName(f).tableName === table)
    .map((f) => readFileSync(join(pkg.path, "new_jobs", f), "utf8"))
    .join("");
}

/** The `schema.json` stored in the package. */
export function storedSchema(pkg: LoadPackage): StoredSchema {
  return JSON.parse(readFileSync(join(pkg.path, PACKAGE_FILES.schema), "utf8")) as StoredSchema;
}

/** The decoded `load_package_state.json`. */
export function packageState(pkg: LoadPackage): LoadPackageStateDoc {
  return fromTypedJson<LoadPackageStateDoc>(readFileSync(join(pkg.path, PACKAGE_FILES.packageState), "utf8"));
}

/**
 * What the normalize storage holds besides its `.version` file: committed packages and any temp
 * folder. Empty after a failed extract.
 */
export function storageLeftovers(fixture: Fixture): string[] {
  const root = fixture.storage.root;
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    if (name === ".version") continue;
    if (name === "extracted") {
      const dir = join(root, name);
      if (existsSync(dir)) out.push(...readdirSync(dir).map((id) => `extracted/${id}`));
      continue;
    }
    out.push(name);
  }
  return out;
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
