/**
 * The follow-up job of a completed table chain (REFERENCE §6.1): its SQL, and the text of the `.sql`
 * job file that carries it through the load package (one statement per line).
 */
import type { TableChain } from "@tsdlt/core";
import type { FollowupDatasets } from "./followup-helpers.js";
import { mergeSql } from "./merge.js";
import { replaceSql } from "./replace.js";
import type { SqlDialect } from "./sql-dialect.js";

/**
 * The statements that fold a chain's staging copy into its destination tables: {@link mergeSql} for
 * merge chains, {@link replaceSql} for replace chains. The caller runs them in one transaction.
 *
 * @throws DestinationError (terminal) when the chain's hints do not allow the strategy (an upsert
 * without primary key, an scd2 table without validity columns, a nested table without root key).
 */
export function tableChainFollowupSql(
  dialect: SqlDialect,
  chain: TableChain,
  datasets: FollowupDatasets,
): string[] {
  const { disposition } = chain;
  return disposition.kind === "merge"
    ? mergeSql(dialect, chain.tables, disposition.strategy, {
        ...datasets,
        packageCreatedAt: chain.packageCreatedAt,
      })
    : replaceSql(dialect, chain.tables, disposition.strategy, datasets);
}

/** The content of a `.sql` job file: one statement per line (line breaks inside a statement become spaces). */
export function toSqlJobText(statements: readonly string[]): string {
  return statements.map((sql) => sql.split(/\r?\n/).join(" ").trim()).join("\n");
}

/** The statements of a `.sql` job file written by {@link toSqlJobText} (blank lines ignored). */
export function parseSqlJobText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}
