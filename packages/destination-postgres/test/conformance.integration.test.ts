/**
 * The destination conformance suite of `@tsdlt/core/testing` against a real Postgres server
 * (`TSDLT_POSTGRES_URL`; `.ci/run` starts a throw-away cluster and sets it). Every test loads into a
 * dataset of its own (`tsdlt_conformance_<random>` and its `_staging` schema), dropped afterwards.
 * Postgres claims every optional ability, so nothing is skipped.
 */
import { testDestination } from "@tsdlt/core/testing";
import pg from "pg";
import * as vitest from "vitest";
import { postgres } from "../src/index.js";

const URL = process.env.TSDLT_POSTGRES_URL;

/** Drops the schemas a test loaded into. */
async function dropDatasets(datasetName: string): Promise<void> {
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  try {
    for (const schema of [datasetName, `${datasetName}_staging`]) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
    }
  } finally {
    await admin.end();
  }
}

if (URL) {
  testDestination({
    test: vitest,
    create: () => postgres({ credentials: URL }),
    cleanup: (context) => dropDatasets(context.datasetName),
  });
} else {
  vitest.describe.skip(
    "testDestination(postgres) (skipped: set TSDLT_POSTGRES_URL=postgresql://user:password@host:port/db; .ci/run starts one)",
    () => {
      vitest.it("needs a server", () => {});
    },
  );
}
