/**
 * `testDestination()`: one conformance suite for every destination (STYLE rule 23, ported from the
 * behaviour dlt checks in `tests/load/test_job_client.py`). It drives a destination's client the way
 * the load stage does and checks what the contract of DESIGN §5 promises: storage initialisation,
 * schema creation and evolution (no-op once a version is stored), `jsonl` jobs with every data type,
 * `_dlt_loads`, every write disposition through the optional abilities the destination declares,
 * state sync, load transactions, error classification and dispose.
 *
 * Capability-gated cases use `it.skipIf`: merge strategies follow `supportedMergeStrategies`, replace
 * strategies `supportedReplaceStrategies`. Abilities that capabilities do not describe (state sync,
 * load transactions) are expected unless `skip` says the destination does not claim them.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import type { DataType } from "../data-types.js";
import { LOADER_FILE_FORMATS } from "../data-types.js";
import {
  type Destination,
  type DestinationClient,
  type DestinationContext,
  MERGE_STRATEGIES,
  type MergeStrategy,
  REPLACE_STRATEGIES,
  supportsDropTables,
  supportsLoadTransaction,
  supportsStateSync,
  type WithDropTables,
  type WithLoadTransaction,
  type WithStateSync,
} from "../destination.js";
import { DestinationError, isTsdltError } from "../errors.js";
import { bumpStateVersion, newPipelineState, pipelineStateRow } from "../pipeline-state.js";
import type { Schema } from "../schema/schema.js";
import { isDltName, loadsTable } from "../schema/system-tables.js";
import type { TableSchema } from "../schema/types.js";
import {
  chainTables,
  conformanceTable,
  eventsTable,
  ROOT_SYSTEM_COLUMNS,
  scd2Table,
  stateTable,
  TYPES_TABLE,
  typesRows,
  typesTable,
} from "./conformance-schema.js";
import {
  canonicalRows,
  conformanceSchema,
  DestinationFixture,
  type FixtureJob,
  type ReadTable,
} from "./destination-fixture.js";
import type { Row } from "./jsonl.js";
import type { TestApi } from "./test-api.js";

/** Abilities a destination does not claim, and data it cannot store. */
export interface TestDestinationSkip {
  /** The client does not implement `WithStateSync`. */
  readonly stateSync?: boolean;
  /** The client does not implement `WithLoadTransaction`. */
  readonly loadTransaction?: boolean;
  /** The client does not implement `WithDropTables` (so `refresh` cannot drop its tables). */
  readonly dropTables?: boolean;
  /** Declared merge strategies not to test (`true`: all of them). Prefer fixing the destination. */
  readonly merge?: boolean | readonly MergeStrategy[];
  /** Data types the destination cannot store: their columns are left out of the data type test. */
  readonly dataTypes?: readonly DataType[];
}

/** Options of {@link testDestination}. */
export interface TestDestinationOptions {
  /** The test framework: `import * as vitest from "vitest"` and pass `vitest`. */
  readonly test: TestApi;
  /**
   * Makes the destination under test. Called once when tests are collected (to read capabilities)
   * and once per test; a factory does no I/O. Each test gives it a fresh temp folder as `localDir`
   * and `workingDir`, and a dataset name no other test uses.
   */
  readonly create: () => Destination;
  /** Name of the `describe` block. @default `testDestination(<destination name>)` */
  readonly name?: string;
  /**
   * Reads every row of a table back. Needed when the client has no SQL access (`WithSqlClient`);
   * values may be in any form a driver returns (see `canonicalValue`).
   */
  readonly readTable?: ReadTable;
  readonly skip?: TestDestinationSkip;
  /** Runs after each test, after its clients were disposed (e.g. drop the test's datasets on a server). */
  readonly cleanup?: (context: DestinationContext, destination: Destination) => Promise<void>;
  /** Registers destination-specific tests inside the suite; `fixture()` is the current test's fixture. */
  readonly additionalTests?: (fixture: () => DestinationFixture) => void;
}

/** Keys of `tables` that are data tables (not `_dlt_*`), sorted. */
function dataTableKeys(tables: Readonly<Record<string, readonly string[]>>): string[] {
  return Object.keys(tables)
    .filter((name) => !isDltName(name))
    .sort();
}

/** The complete column names of `table`, sorted. */
function columnNames(table: TableSchema): string[] {
  return Object.values(table.columns)
    .filter((c) => c.data_type !== undefined)
    .map((c) => c.name as string)
    .sort();
}

/** The rejection of `run`; fails when it resolves. */
async function rejectionOf(run: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  assert.fail(`${what} should have failed`);
}

function assertTerminal(error: unknown, what: string): void {
  assert.ok(
    isTsdltError(error) && (error instanceof DestinationError || error.name === "DestinationError"),
    `${what} should fail with a DestinationError; got ${String(error)}`,
  );
  assert.equal(error.retryable, false, `${what} should fail terminally (retryable: false): ${error.message}`);
}

function requireStateSync(client: DestinationClient, name: string): DestinationClient & WithStateSync {
  assert.ok(
    supportsStateSync(client),
    `the client of \`${name}\` does not implement \`WithStateSync\` (getStoredSchema, getStoredState); implement it or pass \`skip: { stateSync: true }\``,
  );
  return client;
}

function requireLoadTransaction(
  client: DestinationClient,
  name: string,
): DestinationClient & WithLoadTransaction {
  assert.ok(
    supportsLoadTransaction(client),
    `the client of \`${name}\` does not implement \`WithLoadTransaction\` (runInLoadTransaction, isLoadCompleted); implement it or pass \`skip: { loadTransaction: true }\``,
  );
  return client;
}

function requireDropTables(client: DestinationClient, name: string): DestinationClient & WithDropTables {
  assert.ok(
    supportsDropTables(client),
    `the client of \`${name}\` does not implement \`WithDropTables\` (dropTables); implement it or pass \`skip: { dropTables: true }\``,
  );
  return client;
}

/**
 * Registers the destination conformance suite with the given test framework.
 *
 * @example
 * ```ts
 * import * as vitest from "vitest";
 * import { testDestination } from "@tsdlt/core/testing";
 * import { myDestination } from "../src/index.js";
 *
 * testDestination({
 *   test: vitest,
 *   create: () => myDestination(),
 *   skip: { loadTransaction: true },
 * });
 * ```
 */
export function testDestination(options: TestDestinationOptions): void {
  const { test } = options;
  const it = test.it;
  const probe = options.create();
  const caps = probe.capabilities;
  const skip = options.skip ?? {};
  const skipTypes = skip.dataTypes ?? [];
  const testsMerge = (strategy: MergeStrategy): boolean =>
    caps.supportedMergeStrategies.includes(strategy) &&
    skip.merge !== true &&
    !(Array.isArray(skip.merge) && skip.merge.includes(strategy));

  let current: DestinationFixture | undefined;
  const fixture = (): DestinationFixture => {
    assert.ok(current, "the destination fixture exists only while a test of testDestination() runs");
    return current;
  };

  test.describe(options.name ?? `testDestination(${probe.name})`, () => {
    test.beforeEach(async () => {
      current = DestinationFixture.create(options.create(), options.readTable);
    });
    test.afterEach(async () => {
      const done = current;
      current = undefined;
      if (done === undefined) return;
      try {
        await done.dispose();
      } finally {
        await options.cleanup?.(done.context, done.destination);
      }
    });

    test.describe("destination", () => {
      it("should describe itself as data and do no I/O before createClient", async () => {
        const f = fixture();
        const d = f.destination;
        assert.deepEqual(readdirSync(f.dir), ["working"], "the factory must not write anything");
        assert.ok(typeof d.name === "string" && d.name.length > 0, "`name` must be a non-empty string");
        assert.ok(typeof d.destinationType === "string" && d.destinationType.length > 0);
        const c = d.capabilities;
        assert.ok(
          c.supportedLoaderFileFormats.includes("jsonl"),
          "tsdlt normalizes into `jsonl` job files: `supportedLoaderFileFormats` must list `jsonl`",
        );
        assert.ok(c.supportedLoaderFileFormats.includes(c.preferredLoaderFileFormat));
        assert.ok(c.supportedReplaceStrategies.length > 0, "at least one replace strategy is needed");
        for (const s of c.supportedReplaceStrategies) assert.ok(REPLACE_STRATEGIES.includes(s), s);
        for (const s of c.supportedMergeStrategies) assert.ok(MERGE_STRATEGIES.includes(s), s);
        if (d.replaceStrategy !== undefined) {
          assert.ok(
            c.supportedReplaceStrategies.includes(d.replaceStrategy),
            "`replaceStrategy` is unsupported",
          );
        }
        assert.equal(typeof d.displayLocation(f.context), "string");
      });

      it("should open a client that carries capabilities", async () => {
        const client = await fixture().open(conformanceSchema([eventsTable()]));
        assert.ok(Array.isArray(client.capabilities.supportedLoaderFileFormats));
        assert.ok(client.capabilities.supportedLoaderFileFormats.includes("jsonl"));
      });
    });

    test.describe("storage", () => {
      it("should initialize storage idempotently and report it initialized", async () => {
        const client = await fixture().open(conformanceSchema([eventsTable()]));
        if (!skip.stateSync) {
          // the pipeline reads this (state sync) to notice a dropped dataset
          assert.equal(await client.isStorageInitialized(), false, "a new dataset is not initialized");
        }
        await client.initializeStorage();
        await client.initializeStorage();
        assert.equal(await client.isStorageInitialized(), true);
      });

      it("should empty the tables in truncateTables and ignore tables that do not exist", async () => {
        const f = fixture();
        const events = eventsTable();
        const schema = conformanceSchema([events]);
        await f.loadPackage(schema, [{ table: "events", rows: [{ id: 1, name: "a", _dlt_id: "e1" }] }]);
        const client = await f.open(schema);
        await client.initializeStorage({ truncateTables: ["events", "never_created"] });
        assert.deepEqual(await f.canonicalRows(client, events), []);
      });
    });

    test.describe("schema", () => {
      it("should create every table and column of a new schema", async () => {
        const f = fixture();
        const tables = [typesTable(skipTypes), eventsTable(), ...chainTables("people", {})];
        const client = await f.open(conformanceSchema(tables));
        await client.initializeStorage();
        const result = await client.updateStoredSchema();
        assert.deepEqual(dataTableKeys(result.tables), tables.map((t) => t.name).sort());
        for (const table of tables) {
          assert.deepEqual([...(result.tables[table.name] ?? [])].sort(), columnNames(table), table.name);
        }
        for (const table of tables) assert.deepEqual(await f.rows(client, table.name), [], table.name);
      });

      it("should do nothing when the schema's version is already stored", async () => {
        const f = fixture();
        const schema = conformanceSchema([eventsTable()]);
        const first = await f.open(schema);
        await first.initializeStorage();
        assert.deepEqual(dataTableKeys((await first.updateStoredSchema()).tables), ["events"]);
        assert.deepEqual((await first.updateStoredSchema()).tables, {}, "same client, same version");
        await f.close(first);
        const second = await f.open(schema.clone());
        await second.initializeStorage();
        assert.deepEqual((await second.updateStoredSchema()).tables, {}, "new client, same version");
      });

      it("should add new tables and new columns and keep the rows it has", async () => {
        const f = fixture();
        const v1 = conformanceSchema([eventsTable()]);
        await f.loadPackage(v1, [{ table: "events", rows: [{ id: 1, name: "a", _dlt_id: "e1" }] }]);
        const v2 = v1.clone();
        v2.updateTable({ name: "events", columns: { email: { name: "email", data_type: "text" } } });
        v2.updateTable(eventsTable("events_more"));
        v2.bumpVersion();
        const { schemaUpdate } = await f.loadPackage(v2, [
          { table: "events", rows: [{ id: 2, name: "b", email: "b@example.com", _dlt_id: "e2" }] },
        ]);
        assert.deepEqual(dataTableKeys(schemaUpdate.tables), ["events", "events_more"]);
        assert.deepEqual(schemaUpdate.tables.events, ["email"]);
        assert.deepEqual([...(schemaUpdate.tables.events_more ?? [])].sort(), columnNames(eventsTable()));
        const client = await f.open(v2);
        const events = v2.getTable("events") as TableSchema;
        assert.deepEqual(
          await f.canonicalRows(client, events, ["id", "name", "email"]),
          canonicalRows(
            events,
            [
              { id: 1, name: "a", email: null },
              { id: 2, name: "b", email: "b@example.com" },
            ],
            ["id", "name", "email"],
          ),
        );
      });

      it("should migrate only the tables in onlyTables", async () => {
        const client = await fixture().open(conformanceSchema([eventsTable(), eventsTable("skipped")]));
        await client.initializeStorage();
        const result = await client.updateStoredSchema({ onlyTables: ["events"] });
        assert.deepEqual(dataTableKeys(result.tables), ["events"]);
      });
    });

    test.describe("load jobs", () => {
      it("should load a jsonl job file with a column of every data type exactly", async () => {
        const f = fixture();
        const table = typesTable(skipTypes);
        const schema = conformanceSchema([table]);
        const rows = typesRows(skipTypes).map((row) => ({ ...row, _dlt_id: `t${String(row.id)}` }));
        const { loadId } = await f.loadPackage(schema, [{ table: TYPES_TABLE, rows }]);
        const client = await f.open(schema);
        assert.deepEqual(
          await f.canonicalRows(client, table),
          canonicalRows(
            table,
            rows.map((row) => ({ ...row, _dlt_load_id: loadId })),
          ),
        );
      });

      it("should load an empty job file as no rows", async () => {
        const f = fixture();
        const events = eventsTable();
        const schema = conformanceSchema([events]);
        await f.loadPackage(schema, [{ table: "events", rows: "" }]);
        assert.deepEqual(await f.canonicalRows(await f.open(schema), events), []);
      });

      it("should run several jobs of one table at the same time", async () => {
        const f = fixture();
        const events = eventsTable();
        const schema = conformanceSchema([events]);
        const client = await f.open(schema);
        await client.initializeStorage();
        await client.updateStoredSchema();
        const loadId = f.newLoadId();
        const files = Array.from({ length: 8 }, (_, n) =>
          f.writeJob(
            loadId,
            "events",
            Array.from({ length: 25 }, (_, i) => ({ id: n * 100 + i, name: `n${n}`, _dlt_id: `${n}-${i}` })),
          ),
        );
        const parallel = Math.max(1, Math.min(files.length, caps.maxParallelLoadJobs ?? files.length));
        for (let start = 0; start < files.length; start += parallel) {
          await Promise.all(
            files.slice(start, start + parallel).map((file) => f.runJob(client, events, file, loadId)),
          );
        }
        await client.completeLoad(loadId);
        const ids = (await f.canonicalRows(client, events, ["id"])).map((r) => r.id);
        assert.equal(ids.length, 200);
        assert.equal(new Set(ids).size, 200);
      });

      it("should record a completed load in _dlt_loads (status 0), and nothing before", async () => {
        const f = fixture();
        const schema = conformanceSchema([eventsTable()]);
        const jobs: FixtureJob[] = [{ table: "events", rows: [{ id: 1, _dlt_id: "e1" }] }];
        const { loadId } = await f.loadPackage(schema, jobs, { complete: false });
        const client = await f.open(schema);
        const loads = loadsTable();
        assert.deepEqual(await f.canonicalRows(client, loads), [], "no `_dlt_loads` row before completeLoad");
        await client.completeLoad(loadId);
        const rows = await f.canonicalRows(client, loads);
        assert.equal(rows.length, 1);
        assert.deepEqual(
          { ...rows[0], inserted_at: typeof rows[0]?.inserted_at },
          {
            load_id: loadId,
            schema_name: schema.name,
            status: "0",
            inserted_at: "string",
            schema_version_hash: schema.versionHash,
          },
        );
      });
    });

    test.describe("errors", () => {
      it("should fail a job with a value its column cannot hold terminally, with a DestinationError", async () => {
        const f = fixture();
        const events = eventsTable();
        const schema = conformanceSchema([events]);
        const client = await f.open(schema);
        await client.initializeStorage();
        await client.updateStoredSchema();
        const loadId = f.newLoadId();
        const file = f.writeJob(loadId, "events", [{ id: "not a number", name: "x", _dlt_id: "bad" }]);
        const error = await rejectionOf(
          () => f.runJob(client, events, file, loadId),
          `job \`${file.fileName}\``,
        );
        assertTerminal(error, `job \`${file.fileName}\` with a text value in a bigint column`);
      });

      const unsupported = LOADER_FILE_FORMATS.find(
        (format) => !caps.supportedLoaderFileFormats.includes(format),
      );
      it.skipIf(unsupported === undefined)(
        `should refuse a job file format it does not support (${unsupported}) terminally`,
        async () => {
          const f = fixture();
          const events = eventsTable();
          const schema = conformanceSchema([events]);
          const client = await f.open(schema);
          await client.initializeStorage();
          await client.updateStoredSchema();
          const loadId = f.newLoadId();
          const file = f.writeJob(loadId, "events", "not a loadable file\n", {
            fileFormat: unsupported as string,
          });
          const error = await rejectionOf(
            () => f.runJob(client, events, file, loadId),
            `job \`${file.fileName}\``,
          );
          assertTerminal(error, `job \`${file.fileName}\` of format \`${unsupported}\``);
        },
      );
    });

    test.describe("write dispositions", () => {
      it("append: should add the rows of every package", async () => {
        const f = fixture();
        const events = eventsTable();
        const schema = conformanceSchema([events]);
        const first = await f.loadPackage(schema, [
          { table: "events", rows: [{ id: 1, name: "a", _dlt_id: "e1" }] },
        ]);
        const second = await f.loadPackage(schema, [
          { table: "events", rows: [{ id: 2, name: "b", _dlt_id: "e2" }] },
        ]);
        assert.deepEqual(
          await f.canonicalRows(await f.open(schema), events, ["id", "name", "_dlt_load_id"]),
          canonicalRows(
            events,
            [
              { id: 1, name: "a", _dlt_load_id: first.loadId },
              { id: 2, name: "b", _dlt_load_id: second.loadId },
            ],
            ["id", "name", "_dlt_load_id"],
          ),
        );
      });

      for (const strategy of caps.supportedReplaceStrategies) {
        it(`replace (${strategy}): should replace the rows of the root table and empty its nested tables`, async () => {
          const f = fixture();
          const [root, tags] = chainTables("replaced", { write_disposition: "replace" });
          const schema = conformanceSchema([root, tags]);
          const tag = (value: string, parent: string, idx: number): Row => ({
            value,
            _dlt_root_id: parent,
            _dlt_parent_id: parent,
            _dlt_list_idx: idx,
            _dlt_id: `${parent}-${idx}`,
          });
          await f.loadPackage(
            schema,
            [
              {
                table: "replaced",
                rows: [
                  { id: 1, name: "a", _dlt_id: "r1" },
                  { id: 2, name: "b", _dlt_id: "r2" },
                ],
              },
              { table: "replaced__tags", rows: [tag("x", "r1", 0), tag("y", "r2", 0)] },
            ],
            { replaceStrategy: strategy },
          );
          await f.loadPackage(schema, [{ table: "replaced", rows: [{ id: 3, name: "c", _dlt_id: "r3" }] }], {
            replaceStrategy: strategy,
            beforeFollowups: async (client, routes) => {
              if (routes.replaced !== "staged") return;
              // a staged replace changes nothing in the dataset before its follow-up job runs
              assert.deepEqual(
                await f.canonicalRows(client, root, ["id"]),
                canonicalRows(root, [{ id: 1 }, { id: 2 }], ["id"]),
                "the dataset before the follow-up job",
              );
            },
          });
          const client = await f.open(schema);
          assert.deepEqual(
            await f.canonicalRows(client, root, ["id", "name"]),
            canonicalRows(root, [{ id: 3, name: "c" }], ["id", "name"]),
          );
          assert.deepEqual(
            await f.canonicalRows(client, tags, ["value"]),
            [],
            "nested rows of the old root rows",
          );
        });
      }

      it.skipIf(!testsMerge("delete-insert"))(
        "merge (delete-insert): should replace rows by primary key, deduplicate, hard-delete and cascade to nested tables",
        async () => {
          const f = fixture();
          const [root, tags] = chainTables(
            "merged",
            { write_disposition: "merge", "x-merge-strategy": "delete-insert" },
            {
              version: { data_type: "bigint", dedup_sort: "desc" },
              deleted: { data_type: "bool", hard_delete: true },
            },
          );
          const schema = conformanceSchema([root, tags]);
          const tag = (value: string, root: string, idx: number): Row => ({
            value,
            _dlt_root_id: root,
            _dlt_parent_id: root,
            _dlt_list_idx: idx,
            _dlt_id: `${root}-${idx}`,
          });
          await f.loadPackage(schema, [
            {
              table: "merged",
              rows: [
                { id: 1, name: "a", version: 1, _dlt_id: "r1" },
                { id: 2, name: "b", version: 1, _dlt_id: "r2" },
                { id: 3, name: "c", version: 1, _dlt_id: "r3" },
              ],
            },
            { table: "merged__tags", rows: [tag("x", "r1", 0), tag("y", "r1", 1), tag("z", "r2", 0)] },
          ]);
          await f.loadPackage(schema, [
            {
              table: "merged",
              rows: [
                { id: 1, name: "a2", version: 2, _dlt_id: "r1b" },
                { id: 1, name: "a3", version: 3, _dlt_id: "r1c" },
                { id: 2, version: 2, deleted: true, _dlt_id: "r2d" },
              ],
            },
            { table: "merged__tags", rows: [tag("q", "r1b", 0), tag("w", "r1c", 0)] },
          ]);
          const client = await f.open(schema);
          assert.deepEqual(
            await f.canonicalRows(client, root, ["id", "name", "_dlt_id"]),
            canonicalRows(
              root,
              [
                { id: 1, name: "a3", _dlt_id: "r1c" },
                { id: 3, name: "c", _dlt_id: "r3" },
              ],
              ["id", "name", "_dlt_id"],
            ),
          );
          assert.deepEqual(
            await f.canonicalRows(client, tags, ["value", "_dlt_root_id"]),
            canonicalRows(tags, [{ value: "w", _dlt_root_id: "r1c" }], ["value", "_dlt_root_id"]),
          );
        },
      );

      const keyedTag = (value: string, key: string, idx: number): Row => ({
        value,
        _dlt_root_id: key,
        _dlt_parent_id: key,
        _dlt_list_idx: idx,
        _dlt_id: `${key}-${idx}`,
      });

      it.skipIf(!testsMerge("upsert"))(
        "merge (upsert): should update rows by primary key, insert new ones and sync nested rows",
        async () => {
          const f = fixture();
          const [root, tags] = chainTables("upserted", {
            write_disposition: "merge",
            "x-merge-strategy": "upsert",
          });
          const schema = conformanceSchema([root, tags]);
          await f.loadPackage(schema, [
            {
              table: "upserted",
              rows: [
                { id: 1, name: "a", _dlt_id: "k1" },
                { id: 2, name: "b", _dlt_id: "k2" },
              ],
            },
            { table: "upserted__tags", rows: [keyedTag("x", "k1", 0), keyedTag("y", "k1", 1)] },
          ]);
          await f.loadPackage(schema, [
            {
              table: "upserted",
              rows: [
                { id: 1, name: "a2", _dlt_id: "k1" },
                { id: 3, name: "c", _dlt_id: "k3" },
              ],
            },
            { table: "upserted__tags", rows: [keyedTag("x2", "k1", 0)] },
          ]);
          const client = await f.open(schema);
          assert.deepEqual(
            await f.canonicalRows(client, root, ["id", "name"]),
            canonicalRows(
              root,
              [
                { id: 1, name: "a2" },
                { id: 2, name: "b" },
                { id: 3, name: "c" },
              ],
              ["id", "name"],
            ),
          );
          assert.deepEqual(
            await f.canonicalRows(client, tags, ["value", "_dlt_id"]),
            canonicalRows(tags, [{ value: "x2", _dlt_id: "k1-0" }], ["value", "_dlt_id"]),
          );
        },
      );

      it.skipIf(!testsMerge("insert-only"))(
        "merge (insert-only): should insert rows with new primary keys and never update existing ones",
        async () => {
          const f = fixture();
          const [root, tags] = chainTables("inserted", {
            write_disposition: "merge",
            "x-merge-strategy": "insert-only",
          });
          const schema = conformanceSchema([root, tags]);
          await f.loadPackage(schema, [
            {
              table: "inserted",
              rows: [
                { id: 1, name: "a", _dlt_id: "k1" },
                { id: 2, name: "b", _dlt_id: "k2" },
              ],
            },
            { table: "inserted__tags", rows: [keyedTag("x", "k1", 0)] },
          ]);
          await f.loadPackage(schema, [
            {
              table: "inserted",
              rows: [
                { id: 1, name: "a2", _dlt_id: "k1" },
                { id: 3, name: "c", _dlt_id: "k3" },
              ],
            },
          ]);
          const client = await f.open(schema);
          assert.deepEqual(
            await f.canonicalRows(client, root, ["id", "name"]),
            canonicalRows(
              root,
              [
                { id: 1, name: "a" },
                { id: 2, name: "b" },
                { id: 3, name: "c" },
              ],
              ["id", "name"],
            ),
          );
          assert.deepEqual(
            await f.canonicalRows(client, tags, ["value"]),
            canonicalRows(tags, [{ value: "x" }], ["value"]),
          );
        },
      );

      it.skipIf(!testsMerge("scd2"))(
        "merge (scd2): should retire changed and absent rows at the package's time and insert new versions",
        async () => {
          const f = fixture();
          const table = scd2Table("versioned");
          const schema = conformanceSchema([table]);
          const t1 = new Date("2024-01-01T00:00:00.000Z");
          const t2 = new Date("2024-02-01T00:00:00.000Z");
          const t3 = new Date("2024-03-01T00:00:00.000Z");
          const b = { id: 2, name: "b", _dlt_id: "h2b" };
          await f.loadPackage(
            schema,
            [{ table: "versioned", rows: [{ id: 1, name: "a", _dlt_id: "h1a" }, b] }],
            {
              packageCreatedAt: t1,
            },
          );
          await f.loadPackage(
            schema,
            [{ table: "versioned", rows: [{ id: 1, name: "a2", _dlt_id: "h1a2" }, b] }],
            {
              packageCreatedAt: t2,
            },
          );
          await f.loadPackage(schema, [{ table: "versioned", rows: [b] }], { packageCreatedAt: t3 });
          const columns = ["id", "name", "_dlt_id", "_dlt_valid_from", "_dlt_valid_to"];
          assert.deepEqual(
            await f.canonicalRows(await f.open(schema), table, columns),
            canonicalRows(
              table,
              [
                { id: 1, name: "a", _dlt_id: "h1a", _dlt_valid_from: t1, _dlt_valid_to: t2 },
                { id: 1, name: "a2", _dlt_id: "h1a2", _dlt_valid_from: t2, _dlt_valid_to: t3 },
                { id: 2, name: "b", _dlt_id: "h2b", _dlt_valid_from: t1, _dlt_valid_to: null },
              ],
              columns,
            ),
          );
        },
      );

      it.skipIf(caps.supportedMergeStrategies.length > 0)(
        "merge without merge strategies: should take the rows as appended rows (the load stage's fallback)",
        async () => {
          const f = fixture();
          const root = conformanceTable(
            "merged",
            { id: { data_type: "bigint", nullable: false, primary_key: true }, ...ROOT_SYSTEM_COLUMNS },
            { write_disposition: "merge" },
          );
          const schema = conformanceSchema([root]);
          await f.loadPackage(schema, [{ table: "merged", rows: [{ id: 1, _dlt_id: "m1" }] }]);
          await f.loadPackage(schema, [{ table: "merged", rows: [{ id: 1, _dlt_id: "m2" }] }]);
          assert.deepEqual(
            await f.canonicalRows(await f.open(schema), root, ["_dlt_id"]),
            canonicalRows(root, [{ _dlt_id: "m1" }, { _dlt_id: "m2" }], ["_dlt_id"]),
          );
        },
      );
    });

    test.describe("state sync", () => {
      /** State rows of successive versions of one pipeline's state, as extract writes them. */
      const stateRows = (createdAt: readonly Date[]): { row: Row; state: string; hash: string }[] => {
        const state = newPipelineState(fixture().context.pipelineName);
        return createdAt.map((at, i) => {
          state.sources = { src: { resources: { r: { incremental: { last_value: i + 1 } } } } };
          bumpStateVersion(state);
          const row: Row = { ...pipelineStateRow(state, at), _dlt_id: `s${i + 1}` };
          return { row, state: row.state as string, hash: state._version_hash };
        });
      };

      it.skipIf(skip.stateSync === true)(
        "should give back the pipeline state of the newest completed load only",
        async () => {
          const f = fixture();
          const name = f.context.pipelineName;
          const schema = conformanceSchema([stateTable(), eventsTable()]);
          const createdAt = new Date("2024-05-01T10:00:00.000Z");
          const [first, second] = stateRows([createdAt, new Date("2024-05-02T10:00:00.000Z")]) as [
            { row: Row; state: string; hash: string },
            { row: Row; state: string; hash: string },
          ];
          const pending = await f.loadPackage(schema, [{ table: "_dlt_pipeline_state", rows: [first.row] }], {
            complete: false,
          });
          const client = requireStateSync(await f.open(schema), f.destination.name);
          assert.equal(
            await client.getStoredState(name),
            undefined,
            "a load without `_dlt_loads` row is not complete",
          );
          await client.completeLoad(pending.loadId);
          const stored = await client.getStoredState(name);
          assert.deepEqual(stored, {
            version: first.row.version,
            engineVersion: first.row.engine_version,
            pipelineName: name,
            state: first.state,
            createdAt,
            versionHash: first.hash,
            loadId: pending.loadId,
          });
          const next = await f.loadPackage(schema, [{ table: "_dlt_pipeline_state", rows: [second.row] }]);
          const newest = await client.getStoredState(name);
          assert.equal(newest?.loadId, next.loadId);
          assert.equal(newest?.state, second.state);
          assert.equal(await client.getStoredState("another_pipeline"), undefined);
        },
      );

      it.skipIf(skip.stateSync === true)(
        "should find no state in a dataset without a state table",
        async () => {
          const f = fixture();
          const schema = conformanceSchema([eventsTable()]);
          await f.loadPackage(schema, [{ table: "events", rows: [{ id: 1, _dlt_id: "e1" }] }]);
          const client = requireStateSync(await f.open(schema), f.destination.name);
          assert.equal(await client.getStoredState(f.context.pipelineName), undefined);
        },
      );

      it.skipIf(skip.stateSync === true)("should give back the newest stored schema by name", async () => {
        const f = fixture();
        const v1 = conformanceSchema([eventsTable()]);
        await f.loadPackage(v1, [{ table: "events", rows: [{ id: 1, _dlt_id: "e1" }] }]);
        const client = requireStateSync(await f.open(v1), f.destination.name);
        const stored = await client.getStoredSchema();
        assert.equal(stored?.name, v1.name);
        assert.equal(stored?.versionHash, v1.versionHash);
        assert.ok(stored?.getTable("events"), "the stored schema has the table `events`");
        const v2 = v1.clone();
        v2.updateTable(eventsTable("events_more"));
        v2.bumpVersion();
        await f.loadPackage(v2, [{ table: "events_more", rows: [{ id: 1, _dlt_id: "m1" }] }]);
        const newest = await client.getStoredSchema(v1.name);
        assert.equal(newest?.versionHash, v2.versionHash);
        assert.ok(newest?.getTable("events_more"));
        assert.equal(await client.getStoredSchema("no_such_schema"), undefined);
      });
    });

    test.describe("load transactions", () => {
      const setup = async (): Promise<{
        f: DestinationFixture;
        schema: Schema;
        client: DestinationClient & WithLoadTransaction;
      }> => {
        const f = fixture();
        const schema = conformanceSchema([eventsTable()]);
        const client = requireLoadTransaction(await f.open(schema), f.destination.name);
        await client.initializeStorage();
        await client.updateStoredSchema();
        return { f, schema, client };
      };

      it.skipIf(skip.loadTransaction === true)(
        "should roll back the jobs and completeLoad of a failed load transaction",
        async () => {
          const { f, client } = await setup();
          const loadId = f.newLoadId();
          const file = f.writeJob(loadId, "events", [{ id: 1, name: "a", _dlt_id: "e1" }]);
          const error = await rejectionOf(
            () =>
              client.runInLoadTransaction(loadId, async () => {
                await f.runJob(client, eventsTable(), file, loadId);
                await client.completeLoad(loadId);
                throw new Error("crash before commit");
              }),
            "runInLoadTransaction",
          );
          assert.equal((error as Error).message, "crash before commit", "the error of `fn` is rethrown");
          assert.deepEqual(await f.canonicalRows(client, eventsTable()), []);
          assert.equal(await client.isLoadCompleted(loadId), false);
        },
      );

      it.skipIf(skip.loadTransaction === true)(
        "should commit the jobs and completeLoad together",
        async () => {
          const { f, client } = await setup();
          const loadId = f.newLoadId();
          const file = f.writeJob(loadId, "events", [{ id: 1, name: "a", _dlt_id: "e1" }]);
          const result = await client.runInLoadTransaction(loadId, async () => {
            await f.runJob(client, eventsTable(), file, loadId);
            await client.completeLoad(loadId);
            return 42;
          });
          assert.equal(result, 42, "the result of `fn` is returned");
          assert.equal((await f.canonicalRows(client, eventsTable())).length, 1);
          assert.equal(await client.isLoadCompleted(loadId), true);
          assert.equal(await client.isLoadCompleted(f.newLoadId()), false);
        },
      );
    });

    test.describe("dropping tables", () => {
      /** A dataset with `events` (one row) and `events_kept` (one row), and a client on it. */
      const setup = async (): Promise<{
        f: DestinationFixture;
        client: DestinationClient & WithDropTables;
        events: TableSchema;
        kept: TableSchema;
      }> => {
        const f = fixture();
        const events = eventsTable();
        const kept = eventsTable("events_kept");
        const schema = conformanceSchema([events, kept]);
        await f.loadPackage(schema, [
          { table: "events", rows: [{ id: 1, name: "a", _dlt_id: "e1" }] },
          { table: "events_kept", rows: [{ id: 1, name: "k", _dlt_id: "k1" }] },
        ]);
        return { f, client: requireDropTables(await f.open(schema), f.destination.name), events, kept };
      };

      it.skipIf(skip.dropTables === true)(
        "should drop tables and the schema's stored versions, so the next migration creates them again",
        async () => {
          const { f, client, events, kept } = await setup();
          await client.dropTables(["events", "never_created"]);
          await rejectionOf(() => f.rows(client, "events"), "reading a dropped table");
          assert.equal((await f.canonicalRows(client, kept)).length, 1, "tables not named stay");
          if (supportsStateSync(client)) {
            assert.equal(await client.getStoredSchema(), undefined, "every stored version is deleted");
          }
          const update = await client.updateStoredSchema();
          assert.deepEqual(
            dataTableKeys(update.tables),
            ["events"],
            "the migration creates the dropped table again",
          );
          assert.deepEqual(await f.canonicalRows(client, events), []);
        },
      );

      it.skipIf(skip.dropTables === true)(
        "should keep the stored schema versions with deleteSchema: false",
        async () => {
          const { f, client } = await setup();
          await client.dropTables(["events"], { deleteSchema: false });
          await rejectionOf(() => f.rows(client, "events"), "reading a dropped table");
          if (supportsStateSync(client)) assert.ok(await client.getStoredSchema(), "the versions stay");
          assert.deepEqual((await client.updateStoredSchema()).tables, {}, "the version is still stored");
        },
      );

      it.skipIf(skip.dropTables === true || skip.loadTransaction === true)(
        "should drop inside a load transaction: a rollback keeps the rows, a commit replaces them",
        async () => {
          const { f, client: c, events } = await setup();
          const client = requireLoadTransaction(c, f.destination.name) as DestinationClient &
            WithDropTables &
            WithLoadTransaction;
          const failed = f.newLoadId();
          await rejectionOf(
            () =>
              client.runInLoadTransaction(failed, async () => {
                await client.dropTables(["events"]);
                await client.updateStoredSchema();
                throw new Error("crash before commit");
              }),
            "runInLoadTransaction",
          );
          assert.deepEqual(
            await f.canonicalRows(client, events, ["id"]),
            canonicalRows(events, [{ id: 1 }], ["id"]),
            "the rolled-back drop left the table and its rows",
          );
          const loadId = f.newLoadId();
          const file = f.writeJob(loadId, "events", [{ id: 2, name: "b", _dlt_id: "e2" }]);
          await client.runInLoadTransaction(loadId, async () => {
            await client.dropTables(["events"]);
            await client.updateStoredSchema();
            await f.runJob(client, events, file, loadId);
            await client.completeLoad(loadId);
          });
          assert.deepEqual(
            await f.canonicalRows(client, events, ["id"]),
            canonicalRows(events, [{ id: 2 }], ["id"]),
            "the committed drop replaced the table",
          );
        },
      );
    });

    test.describe("dispose", () => {
      it("should keep what was loaded for the next client", async () => {
        const f = fixture();
        const events = eventsTable();
        const schema = conformanceSchema([events]);
        // loadPackage disposes its client when done
        const { loadId } = await f.loadPackage(schema, [
          { table: "events", rows: [{ id: 1, name: "a", _dlt_id: "e1" }] },
        ]);
        const client = await f.open(schema);
        assert.deepEqual(
          await f.canonicalRows(client, events, ["id", "_dlt_load_id"]),
          canonicalRows(events, [{ id: 1, _dlt_load_id: loadId }], ["id", "_dlt_load_id"]),
        );
        assert.deepEqual(
          (await f.canonicalRows(client, loadsTable(), ["load_id"])).map((r) => r.load_id),
          [loadId],
        );
      });

      it("should dispose a client that was never used", async () => {
        const f = fixture();
        const client = await f.open(conformanceSchema([eventsTable()]));
        await f.close(client);
      });
    });

    options.additionalTests?.(fixture);
  });
}
