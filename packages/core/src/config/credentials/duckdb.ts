/**
 * DuckDB credentials (REFERENCE §8.4, §11.3): a database path — relative (`data/db.duckdb`,
 * `duckdb:///data/db.duckdb`), absolute (`/abs/db.duckdb`, `duckdb:////abs/db.duckdb`), or
 * `:pipeline:` (inside the pipeline's working folder). `:memory:` is refused unless allowed (an
 * in-memory database disappears with its client). A path holds no secret, so DuckDB credentials may
 * live in `config.toml`.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { ConfigValueInvalidError } from "../config-errors.js";
import { defineCredentials } from "../schema-meta.js";

const URL_PREFIX = "duckdb:///";

/** What a DuckDB credentials value points at. */
export type DuckDbLocationKind = "default" | "path" | "pipeline" | "memory";

/** Where relative and `:pipeline:` paths resolve. */
export interface DuckDbPathContext {
  /** Folder relative paths resolve against (cwd or `DLT_LOCAL_DIR`). */
  readonly localDir: string;
  /** The pipeline's working folder (for `:pipeline:`). */
  readonly workingDir: string;
  readonly pipelineName: string;
  /** Named destination: the default file is `<destinationName>.duckdb`. */
  readonly destinationName?: string | undefined;
}

/** Fields of DuckDB credentials. */
export interface DuckDbCredentialsInput {
  /** The path, `:pipeline:`, or a `duckdb:///` URL; absent for the default `<pipeline>.duckdb`. */
  readonly database?: string | undefined;
}

/** Strips the `duckdb:///` prefix: `duckdb:///rel.duckdb` → `rel.duckdb`, `duckdb:////abs` → `/abs`. */
function stripUrl(value: string): string {
  return value.startsWith(URL_PREFIX) ? value.slice(URL_PREFIX.length) : value;
}

/** Parsed DuckDB credentials; {@link resolvePath} gives the database file. */
export class DuckDbCredentials {
  /** The path as given (without `duckdb:///`), `:pipeline:`, `:memory:`, or undefined for the default. */
  readonly database: string | undefined;
  readonly kind: DuckDbLocationKind;

  constructor(fields: DuckDbCredentialsInput = {}) {
    const raw =
      fields.database === undefined || fields.database === "" ? undefined : stripUrl(fields.database);
    this.database = raw;
    this.kind =
      raw === undefined
        ? "default"
        : raw === ":pipeline:"
          ? "pipeline"
          : raw === ":memory:"
            ? "memory"
            : "path";
    Object.freeze(this);
  }

  /**
   * The absolute database path: default `<localDir>/<destinationName ?? pipelineName>.duckdb`;
   * `:pipeline:` → `<workingDir>/<pipelineName>.duckdb`; relative paths resolve against `localDir`;
   * `:memory:` stays.
   */
  resolvePath(context: DuckDbPathContext): string {
    switch (this.kind) {
      case "default":
        return resolve(context.localDir, `${context.destinationName ?? context.pipelineName}.duckdb`);
      case "pipeline":
        return resolve(context.workingDir, `${context.pipelineName}.duckdb`);
      case "memory":
        return ":memory:";
      case "path": {
        const path = this.database as string;
        return isAbsolute(path) ? resolve(path) : resolve(context.localDir, path);
      }
    }
  }

  /** `duckdb:///<path>` as dlt displays it (no secrets in a path). */
  toString(): string {
    return `${URL_PREFIX}${this.database ?? ""}`;
  }

  toJSON(): Record<string, unknown> {
    return this.database === undefined ? {} : { database: this.database };
  }
}

/** Parses the native form (a path or `duckdb:///` URL) into config fields. */
export function parseDuckDbNative(value: string): Record<string, unknown> {
  if (value.trim() === "") throw new Error("the path is empty");
  return { database: stripUrl(value) };
}

const duckdbFields = z.object({ database: z.string().optional() });

/**
 * The credentials spec of DuckDB: a path (`credentials = "data/db.duckdb"`), `:pipeline:`, or
 * `[destination.duckdb.credentials] database = "..."`. `:memory:` fails validation here; use
 * {@link parseDuckDbCredentials} with `allowMemory` in tests.
 */
export const duckdbCredentials: z.ZodType<DuckDbCredentials, DuckDbCredentialsInput> = defineCredentials(
  duckdbFields
    .refine((f) => f.database === undefined || stripUrl(f.database) !== ":memory:", {
      message:
        "`:memory:` cannot be used as DuckDB credentials: the database would vanish with its client. Use a file path or `:pipeline:`.",
      path: ["database"],
    })
    .transform((fields) => new DuckDbCredentials(fields)),
  { name: "DuckDbCredentials", parseNative: parseDuckDbNative, secret: false },
);

/** Options of {@link parseDuckDbCredentials}. */
export interface ParseDuckDbCredentialsOptions {
  /** Accept `:memory:` (tests). @default false */
  readonly allowMemory?: boolean;
}

/** Parses DuckDB credentials given in code: a path, `duckdb:///` URL, `:pipeline:` or `{ database }`. */
export function parseDuckDbCredentials(
  input: string | DuckDbCredentialsInput | undefined,
  options: ParseDuckDbCredentialsOptions = {},
): DuckDbCredentials {
  const fields: DuckDbCredentialsInput = typeof input === "string" ? { database: input } : (input ?? {});
  if (fields.database !== undefined && typeof fields.database !== "string") {
    throw new ConfigValueInvalidError({
      specName: "DuckDbCredentials",
      problems: ["`database` must be a path string, `:pipeline:` or a `duckdb:///` URL."],
    });
  }
  const credentials = new DuckDbCredentials(fields);
  if (credentials.kind === "memory" && !options.allowMemory) {
    throw new ConfigValueInvalidError({
      specName: "DuckDbCredentials",
      problems: [
        "`:memory:` cannot be used as DuckDB credentials: the database would vanish with its client. Use a file path or `:pipeline:`.",
      ],
    });
  }
  return credentials;
}
