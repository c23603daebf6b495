/**
 * A per-test fixture for destination tests: a fresh temp folder and dataset, clients that are
 * disposed after the test, job files written as normalize writes them, and {@link
 * DestinationFixture.loadPackage}, which drives a client the way `@tsdlt/load` does (plan the
 * chains, migrate, stage, truncate, run jobs, run follow-up jobs, complete the load) — without
 * depending on `@tsdlt/load`.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Destination,
  type DestinationClient,
  type DestinationContext,
  type LoadJobFile,
  type ReplaceStrategy,
  resolveMergeStrategy,
  resolveReplaceStrategy,
  type SchemaUpdateResult,
  supportsSql,
  supportsStagingDataset,
  supportsTableChainFollowupJobs,
  type TableChain,
  type TableChainDisposition,
} from "../destination.js";
import { createLoadId, formatJobFileName, newFileId, PACKAGE_FILES } from "../load-package.js";
import { isCompleteColumn, Schema } from "../schema/schema.js";
import { isDltName } from "../schema/system-tables.js";
import type { TableSchema } from "../schema/types.js";
import { type Row, toJsonLine } from "./jsonl.js";
import { canonicalValue } from "./values.js";

/** Reads every row of `table` in the client's dataset, as the destination stores them. */
export type ReadTable = (
  client: DestinationClient,
  table: string,
  context: DestinationContext,
) => Promise<readonly Row[]>;

/** A job of a package built by {@link DestinationFixture.loadPackage}. */
export interface FixtureJob {
  readonly table: string;
  /** Rows (written as JSON lines) or the raw file content. */
  readonly rows: readonly Row[] | string;
}

/** Options of {@link DestinationFixture.loadPackage}. */
export interface FixtureLoadOptions {
  /** @default a new load id */
  readonly loadId?: string;
  /** The replace strategy the pipeline asks for. @default the destination's `replaceStrategy`, else its first */
  readonly replaceStrategy?: ReplaceStrategy;
  /** scd2's boundary timestamp (the package's creation time). @default now */
  readonly packageCreatedAt?: Date;
  /** Record the load with `completeLoad`. @default true */
  readonly complete?: boolean;
  /** Called after the data jobs ran and before the follow-up jobs run. */
  readonly beforeFollowups?: (
    client: DestinationClient,
    routes: Readonly<Record<string, "direct" | "staged">>,
  ) => Promise<void>;
}

/** What {@link DestinationFixture.loadPackage} did. */
export interface FixtureLoadResult {
  readonly loadId: string;
  readonly schemaUpdate: SchemaUpdateResult;
  /** How each root table with jobs was written. */
  readonly routes: Readonly<Record<string, "direct" | "staged">>;
}

/** Builds a schema holding `tables`, with its version hash computed. */
export function conformanceSchema(tables: readonly TableSchema[], name = "conformance"): Schema {
  const schema = new Schema(name);
  for (const table of tables) schema.updateTable(structuredClone(table));
  schema.bumpVersion();
  return schema;
}

/** `table` with the write disposition of its root (nested tables inherit it), as the load stage passes tables. */
function resolved(schema: Schema, table: TableSchema): TableSchema {
  return table.write_disposition !== undefined
    ? table
    : { ...table, write_disposition: schema.writeDisposition(table.name) };
}

/** One test's destination, context, temp folder and clients. Create it with {@link DestinationFixture.create}. */
export class DestinationFixture {
  readonly destination: Destination;
  readonly context: DestinationContext;
  /** A fresh temp folder: the context's `localDir`; job files are written under it. */
  readonly dir: string;
  readonly #readTable: ReadTable | undefined;
  readonly #clients: DestinationClient[] = [];

  private constructor(destination: Destination, dir: string, readTable: ReadTable | undefined) {
    this.destination = destination;
    this.dir = dir;
    this.#readTable = readTable;
    this.context = {
      pipelineName: "conformance_pipeline",
      datasetName: `tsdlt_conformance_${randomBytes(4).toString("hex")}`,
      workingDir: join(dir, "working"),
      localDir: dir,
    };
  }

  /** A fixture for `destination` in a fresh temp folder and a dataset name no other test uses. */
  static create(destination: Destination, readTable?: ReadTable): DestinationFixture {
    const dir = mkdtempSync(join(tmpdir(), "tsdlt-conformance-"));
    mkdirSync(join(dir, "working"), { recursive: true });
    return new DestinationFixture(destination, dir, readTable);
  }

  /** Opens a client for `schema`; it is disposed by {@link DestinationFixture.dispose} unless disposed before. */
  async open(schema: Schema): Promise<DestinationClient> {
    const client = await this.destination.createClient(schema, this.context);
    this.#clients.push(client);
    return client;
  }

  /** Disposes `client` now and forgets it. */
  async close(client: DestinationClient): Promise<void> {
    const index = this.#clients.indexOf(client);
    if (index >= 0) this.#clients.splice(index, 1);
    await client[Symbol.asyncDispose]();
  }

  /** A new load id, greater than every earlier one. */
  newLoadId(): string {
    return createLoadId();
  }

  /**
   * Writes a job file of package `loadId` where the load stage hands it to a destination
   * (`packages/<load_id>/started_jobs/<table>.<file_id>.0.<format>`). Rows get `_dlt_load_id` unless
   * they carry one.
   */
  writeJob(
    loadId: string,
    table: string,
    rows: readonly Row[] | string,
    options: { readonly fileFormat?: string; readonly fileId?: string } = {},
  ): LoadJobFile {
    const packageDir = join(this.dir, "packages", loadId);
    mkdirSync(join(packageDir, "started_jobs"), { recursive: true });
    const parsed = {
      tableName: table,
      fileId: options.fileId ?? newFileId(),
      retryCount: 0,
      fileFormat: (options.fileFormat ?? "jsonl") as "jsonl",
      compressed: false,
    };
    const fileName = formatJobFileName(parsed);
    const path = join(packageDir, "started_jobs", fileName);
    const content =
      typeof rows === "string"
        ? rows
        : rows.map((row) => `${toJsonLine({ _dlt_load_id: loadId, ...row })}\n`).join("");
    writeFileSync(path, content);
    const stateFile = join(packageDir, PACKAGE_FILES.packageState);
    if (!existsSync(stateFile)) writeFileSync(stateFile, JSON.stringify({ created_at: new Date() }));
    return { path, fileName, parsed };
  }

  /** Creates and runs the job of `file` into `table` (into its staging copy with `staging`). */
  async runJob(
    client: DestinationClient,
    table: TableSchema,
    file: LoadJobFile,
    loadId: string,
    options: { readonly staging?: boolean } = {},
  ): Promise<void> {
    if (options.staging) {
      if (!supportsStagingDataset(client)) throw new Error("the client has no staging dataset");
      await (await client.createStagingLoadJob(table, file, loadId)).run();
      return;
    }
    await (await client.createLoadJob(table, file, loadId)).run();
  }

  /**
   * Loads one package the way `@tsdlt/load` does, on a client of its own: `append` (and dlt tables)
   * load into the dataset; `merge` with a supported strategy and every `replace` load into the
   * staging dataset and end in the chain's follow-up job when the client has a staging dataset and
   * follow-up jobs; without them `merge` appends and `replace` (`truncate-and-insert`) empties the
   * chain's tables first. Then `completeLoad`.
   *
   * @throws Error when the destination declares a merge strategy (or a staging replace strategy)
   * but its client lacks `WithStagingDataset` or `WithTableChainFollowupJobs` — the load stage
   * would refuse such a package.
   */
  async loadPackage(
    schema: Schema,
    jobs: readonly FixtureJob[],
    options: FixtureLoadOptions = {},
  ): Promise<FixtureLoadResult> {
    const loadId = options.loadId ?? this.newLoadId();
    const { destination } = this;
    const caps = destination.capabilities;
    const client = await this.open(schema);
    try {
      await client.initializeStorage();
      const canStage = supportsStagingDataset(client) && supportsTableChainFollowupJobs(client);
      const missing = (what: string): Error => {
        const lacks = [
          supportsStagingDataset(client) ? undefined : "`WithStagingDataset`",
          supportsTableChainFollowupJobs(client) ? undefined : "`WithTableChainFollowupJobs`",
        ].filter((name) => name !== undefined);
        return new Error(
          `${what}, but its client lacks ${lacks.join(" and ")}: the load stage would refuse the package.`,
        );
      };

      const roots = new Map<string, FixtureJob[]>();
      for (const job of jobs) {
        const root = schema.rootTable(job.table)?.name;
        if (root === undefined) throw new Error(`table \`${job.table}\` is not in schema \`${schema.name}\``);
        roots.set(root, [...(roots.get(root) ?? []), job]);
      }
      const routes: Record<string, "direct" | "staged"> = {};
      const dispositions = new Map<string, TableChainDisposition>();
      const truncate: string[] = [];
      const staging: string[] = [];
      const chainOf = (root: string): TableSchema[] =>
        schema
          .tableChain(root)
          .filter((t) => Object.values(t.columns).some(isCompleteColumn))
          .map((t) => resolved(schema, t));
      for (const rootName of roots.keys()) {
        const root = schema.getTable(rootName) as TableSchema;
        const disposition = isDltName(rootName) ? "append" : (root.write_disposition ?? "append");
        const chain = chainOf(rootName).map((t) => t.name);
        if (disposition === "merge") {
          const strategy = resolveMergeStrategy(root, caps, destination.name);
          if (strategy !== undefined) {
            if (!canStage) throw missing(`\`${destination.name}\` declares merge strategy \`${strategy}\``);
            routes[rootName] = "staged";
            dispositions.set(rootName, { kind: "merge", strategy });
            staging.push(...chain);
            continue;
          }
        } else if (disposition === "replace") {
          const strategy = resolveReplaceStrategy(
            options.replaceStrategy ?? destination.replaceStrategy,
            caps,
            destination.name,
          );
          if (canStage) {
            routes[rootName] = "staged";
            dispositions.set(rootName, { kind: "replace", strategy });
            staging.push(...chain);
            continue;
          }
          if (strategy !== "truncate-and-insert") {
            throw missing(`\`${destination.name}\` declares replace strategy \`${strategy}\``);
          }
          truncate.push(...chain);
        }
        routes[rootName] = "direct";
      }

      const schemaUpdate = await client.updateStoredSchema();
      if (staging.length > 0) {
        if (!supportsStagingDataset(client)) throw missing("a chain is staged");
        await client.initializeStagingDataset({ tables: staging, truncateTables: staging });
      }
      if (truncate.length > 0) await client.initializeStorage({ truncateTables: truncate });

      const workers = Math.max(1, caps.maxParallelLoadJobs ?? 20);
      const queue = jobs.map((job) => async () => {
        const root = schema.rootTable(job.table)?.name as string;
        const table = resolved(schema, schema.getTable(job.table) as TableSchema);
        const file = this.writeJob(loadId, job.table, job.rows);
        await this.runJob(client, table, file, loadId, { staging: routes[root] === "staged" });
      });
      await Promise.all(
        Array.from({ length: Math.min(workers, queue.length) }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) await next();
        }),
      );
      await options.beforeFollowups?.(client, routes);

      const createdAt = options.packageCreatedAt ?? new Date();
      for (const [rootName, disposition] of dispositions) {
        if (!supportsTableChainFollowupJobs(client)) throw missing("a chain is staged");
        const chain: TableChain = { tables: chainOf(rootName), disposition, packageCreatedAt: createdAt };
        const root = chain.tables[0] as TableSchema;
        for (const followup of await client.createTableChainFollowupJobs(chain, loadId)) {
          const file = this.writeJob(loadId, followup.tableName, followup.content, {
            fileFormat: followup.fileFormat,
          });
          await this.runJob(client, root, file, loadId);
        }
      }
      if (options.complete !== false) await client.completeLoad(loadId);
      return { loadId, schemaUpdate, routes };
    } finally {
      await this.close(client);
    }
  }

  /** Every row of `table`, as the destination gives them back (`readTable`, else SQL through `WithSqlClient`). */
  async rows(client: DestinationClient, table: string): Promise<readonly Row[]> {
    if (this.#readTable) return this.#readTable(client, table, this.context);
    if (supportsSql(client)) return client.query(`SELECT * FROM ${client.qualifiedTableName(table)}`);
    throw new Error(
      `Destination \`${this.destination.name}\` has no SQL access (\`WithSqlClient\`): pass \`readTable\` to \`testDestination()\` so the suite can read rows back.`,
    );
  }

  /**
   * The rows of `table` (read through `client`) in comparable form: only `columns` (default: every
   * complete column of `schemaTable`), each value through {@link canonicalValue}, sorted.
   */
  async canonicalRows(
    client: DestinationClient,
    schemaTable: TableSchema,
    columns?: readonly string[],
  ): Promise<Row[]> {
    return canonicalRows(schemaTable, await this.rows(client, schemaTable.name), columns);
  }

  /** Disposes the clients still open and removes the temp folder. */
  async dispose(): Promise<void> {
    const errors: unknown[] = [];
    for (const client of this.#clients.splice(0).reverse()) {
      try {
        await client[Symbol.asyncDispose]();
      } catch (error) {
        errors.push(error);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  }
}

/** Sorts rows by their JSON text, so comparisons ignore row order. */
function sortRows(rows: Row[]): Row[] {
  const key = (row: Row): string =>
    JSON.stringify(row, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * `rows` of `table` in comparable form: only `columns` (default: every complete column), each value
 * through {@link canonicalValue} for its column's data type, sorted. Apply it to expected rows and
 * to rows read back, then compare with a deep equality.
 */
export function canonicalRows(table: TableSchema, rows: readonly Row[], columns?: readonly string[]): Row[] {
  const names =
    columns ??
    Object.values(table.columns)
      .filter(isCompleteColumn)
      .map((c) => c.name);
  return sortRows(
    rows.map((row) => {
      const out: Row = {};
      for (const name of names) {
        const dataType = table.columns[name]?.data_type;
        const value = row[name];
        out[name] = dataType === undefined ? (value ?? null) : canonicalValue(dataType, value);
      }
      return out;
    }),
  );
}
