/** Test fixtures: hand-built extracted packages in a fresh temp dir, and readers for the output. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLoadId,
  DEFAULT_CAPABILITIES,
  type DestinationCapabilities,
  formatJobFileName,
  type LoadPackage,
  type Logger,
  newFileId,
  PackageStorage,
  parseJobFileName,
  Schema,
  toTypedJson,
} from "@tsdlt/core";
import { parse as parseCsv } from "csv-parse/sync";
import { type NormalizeOptions, type NormalizeResult, normalizePackage } from "../src/index.js";

export interface Fixture {
  readonly dir: string;
  readonly normalizeStorage: PackageStorage;
  readonly loadStorage: PackageStorage;
  cleanup(): void;
}

export function createFixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "tsdlt-normalize-"));
  return {
    dir,
    normalizeStorage: new PackageStorage(join(dir, "normalize"), "normalize"),
    loadStorage: new PackageStorage(join(dir, "load"), "load"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A job file: the root table name and its lines, each a batch (array) of items. */
export interface JobSpec {
  readonly table: string;
  readonly batches: readonly (readonly unknown[])[];
}

/** Builds and commits an extracted package holding `jobs`, with `schema` as its schema.json. */
export function extractPackage(
  fixture: Fixture,
  jobs: readonly JobSpec[],
  schema: Schema = new Schema("shop"),
  loadId: string = createLoadId(),
): LoadPackage {
  const pkg = fixture.normalizeStorage.createTempPackage(loadId);
  pkg.writeSchemaDoc(schema.toDict());
  pkg.writeState({ created_at: new Date("2024-01-01T00:00:00Z"), marker: "state-of-package" });
  for (const job of jobs) {
    const fileName = formatJobFileName({
      tableName: job.table,
      fileId: newFileId(),
      retryCount: 0,
      fileFormat: "typed-jsonl",
      compressed: false,
    });
    const text = job.batches.map((batch) => toTypedJson(batch)).join("\n");
    writeFileSync(pkg.jobPath("new_jobs", fileName), text.length > 0 ? `${text}\n` : "");
  }
  return fixture.normalizeStorage.commitPackage(pkg, "extracted");
}

export const capabilities: DestinationCapabilities = DEFAULT_CAPABILITIES;

/** Extracts `jobs` and normalizes them. */
export async function normalize(
  fixture: Fixture,
  jobs: readonly JobSpec[],
  schema?: Schema,
  options: Partial<Omit<NormalizeOptions, "extracted" | "loadStorage">> = {},
): Promise<NormalizeResult> {
  const extracted = extractPackage(fixture, jobs, schema);
  return normalizePackage({ extracted, loadStorage: fixture.loadStorage, capabilities, ...options });
}

/** Job files of `table` in a package, sorted. */
export function jobFiles(pkg: LoadPackage, table: string): string[] {
  return readdirSync(join(pkg.path, "new_jobs"))
    .filter((f) => parseJobFileName(f).tableName === table)
    .sort()
    .map((f) => join(pkg.path, "new_jobs", f));
}

/** Raw lines of all job files of `table`. */
export function rawLines(pkg: LoadPackage, table: string): string[] {
  return jobFiles(pkg, table).flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.length > 0),
  );
}

/** Parsed rows of all job files of `table`. */
export function rows(pkg: LoadPackage, table: string): Record<string, unknown>[] {
  return rawLines(pkg, table).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A `csv` job file: its header and records (an unquoted empty field is `null`, a quoted one ""). */
export interface CsvFile {
  readonly header: string[];
  readonly records: (string | null)[][];
}

/** Parses a `csv` job file with a real CSV parser (records must have the header's width). */
export function readCsv(path: string): CsvFile {
  const text = readFileSync(path, "utf8");
  const lines = parseCsv(text, {
    cast: (value, context) => (context.quoting || value !== "" ? value : null),
  }) as (string | null)[][];
  const [header = [], ...records] = lines;
  return { header: header.map(String), records };
}

/**
 * A `csv` field as the value the `jsonl` job file holds for a column of `type` (what `JSON.parse`
 * gives for its line), so rows of both formats compare equal.
 */
export function csvValue(type: string | undefined, text: string): unknown {
  switch (type) {
    case "bigint":
      return Number(text);
    case "double":
      return text === "NaN" || text === "Infinity" || text === "-Infinity" ? text : Number(text);
    case "bool":
      if (text !== "true" && text !== "false") throw new Error(`bad bool field ${text}`);
      return text === "true";
    case "json":
      return JSON.parse(text);
    case "binary":
      if (!text.startsWith("\\x")) throw new Error(`bad binary field ${text}`);
      return Buffer.from(text.slice(2), "hex").toString("base64");
    default:
      return text;
  }
}

/**
 * Rows of all job files of `table` as `jsonl` rows parse (null fields left out): `jsonl` files as
 * they are, `csv` files converted by the column types of `schema`.
 */
export function tableRows(pkg: LoadPackage, table: string, schema: Schema): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const columns = schema.tables[table]?.columns ?? {};
  for (const file of jobFiles(pkg, table)) {
    if (!file.endsWith(".csv")) {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (line.length > 0) out.push(JSON.parse(line) as Record<string, unknown>);
      }
      continue;
    }
    const { header, records } = readCsv(file);
    for (const record of records) {
      const row: Record<string, unknown> = {};
      header.forEach((name, i) => {
        const text = record[i];
        if (text !== null && text !== undefined) row[name] = csvValue(columns[name]?.data_type, text);
      });
      out.push(row);
    }
  }
  return out;
}

/** Column names of a table of the schema, in order. */
export function columnNames(schema: Schema, table: string): string[] {
  return Object.keys(schema.tables[table]?.columns ?? {});
}

/** A logger that records messages. */
export function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (m: string) => warnings.push(m),
    error: () => {},
  };
}
