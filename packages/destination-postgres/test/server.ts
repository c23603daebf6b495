/**
 * The real Postgres server of the integration tests: `TSDLT_POSTGRES_URL` (`.ci/run` starts a
 * throw-away cluster and sets it). Without it, the suites that need it are skipped, saying why.
 */
import type pg from "pg";

/** The server's connection URL, or `undefined` when the integration suites are skipped. */
export const POSTGRES_URL: string | undefined = process.env.TSDLT_POSTGRES_URL;

/** `title` for a suite that needs {@link POSTGRES_URL}, saying how to run it when it is not set. */
export function postgresTitle(title: string): string {
  return POSTGRES_URL
    ? title
    : `${title} (skipped: set TSDLT_POSTGRES_URL=postgresql://user:password@host:port/db; .ci/run starts one)`;
}

/** Drops the schema of dataset `name` and of its staging dataset, with all they hold. */
export async function dropDataset(client: pg.Client, name: string): Promise<void> {
  for (const schema of [name, `${name}_staging`])
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
}
