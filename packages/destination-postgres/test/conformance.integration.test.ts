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
import { dropDataset, POSTGRES_URL, postgresTitle } from "./server.js";

/** Drops the schemas a test loaded into. */
async function dropDatasets(datasetName: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await dropDataset(admin, datasetName);
  } finally {
    await admin.end();
  }
}

const url = POSTGRES_URL;
if (url) {
  testDestination({
    test: vitest,
    create: () => postgres({ credentials: url }),
    cleanup: (context) => dropDatasets(context.datasetName),
  });
} else {
  vitest.describe.skip(postgresTitle("testDestination(postgres)"), () => {
    vitest.it("needs a server", () => {});
  });
}
