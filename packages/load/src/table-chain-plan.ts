/**
 * How each table chain of a package is written (REFERENCE §4): which jobs load straight into the
 * dataset, which go to the staging dataset and end in a follow-up job, which tables are emptied
 * first, and which are skipped. Decided once per package from the schema, the destination's
 * capabilities and abilities, and the replace strategy.
 */
import {
  type DestinationCapabilities,
  type DestinationClient,
  DestinationError,
  isCompleteColumn,
  isDltName,
  type Logger,
  type PackageJob,
  type ReplaceStrategy,
  resolveMergeStrategy,
  resolveReplaceStrategy,
  type Schema,
  supportsStagingDataset,
  supportsTableChainFollowupJobs,
  type TableChainDisposition,
  type TableSchema,
} from "@tsdlt/core";

/** How one chain (a root table and its nested tables) of a package is written. */
export interface ChainPlan {
  readonly root: string;
  /**
   * `direct`: jobs load into the dataset (append, append fallbacks, non-staged replace);
   * `staged`: jobs load into the staging dataset, then a follow-up job moves the rows;
   * `skip`: jobs are not loaded.
   */
  readonly route: "direct" | "staged" | "skip";
  /** The follow-up's disposition, for `staged` chains. */
  readonly disposition: TableChainDisposition | undefined;
  /** Tables of the chain with complete columns (they exist at the destination), root first, dispositions resolved. */
  readonly tables: readonly TableSchema[];
  /** True when no job of the chain has started yet in this package (a fresh chain may be truncated). */
  readonly fresh: boolean;
  /** Empty the chain's dataset tables before loading (replace with `truncate-and-insert` without staging). */
  readonly truncateFirst: boolean;
}

/** The write plan of a package. */
export interface PackagePlan {
  /** Chains by root table name. */
  readonly chains: ReadonlyMap<string, ChainPlan>;
  /** Tables to create or migrate in the staging dataset. */
  readonly stagingTables: readonly string[];
  /** Staging tables to empty before loading (tables of fresh staged chains). */
  readonly stagingTruncate: readonly string[];
  /** Dataset tables to empty before loading (fresh non-staged replace chains). */
  readonly truncate: readonly string[];
  /** Tables whose write disposition is `skip` (never created, never loaded). */
  readonly skipTables: readonly string[];
}

/** What {@link planPackage} reads. */
export interface PlanInput {
  readonly schema: Schema;
  /** Every data job of the package (follow-up `.sql` jobs excluded), in any state. */
  readonly jobs: readonly PackageJob[];
  readonly client: DestinationClient;
  readonly capabilities: DestinationCapabilities;
  readonly destinationName: string;
  readonly replaceStrategy: ReplaceStrategy | undefined;
  readonly logger: Logger;
}

/** Nested tables inherit the write disposition of their root. */
export function withResolvedDisposition(schema: Schema, table: TableSchema): TableSchema {
  if (table.write_disposition !== undefined) return table;
  return { ...table, write_disposition: schema.writeDisposition(table.name) };
}

/**
 * The replace strategy a root table asks for with its `x-replace-strategy` hint (the object form
 * `{ disposition: "replace", strategy }`), if any.
 */
function requestedReplaceStrategy(table: TableSchema): ReplaceStrategy | undefined {
  const hint = table["x-replace-strategy"];
  return typeof hint === "string" ? (hint as ReplaceStrategy) : undefined;
}

/** The table chain of `root`: root first, parents before children, only tables with complete columns. */
function chainTables(schema: Schema, root: string): TableSchema[] {
  return schema
    .tableChain(root)
    .filter((t) => Object.values(t.columns).some(isCompleteColumn))
    .map((t) => withResolvedDisposition(schema, t));
}

/**
 * Plans how every chain with jobs in the package is written:
 * - `append` (and dlt tables): direct;
 * - `skip`: not loaded;
 * - `merge`: staged with the resolved merge strategy; a destination without merge strategies
 *   appends instead (dlt's fallback, with a warning);
 * - `replace`: the strategy is the root's `x-replace-strategy` hint, else the configured one, else
 *   the destination's first; staged when the destination has a staging dataset and follow-up jobs, so the swap is
 *   one transaction and a failed load keeps the previous rows — `truncate-and-insert` included (dlt
 *   truncates before loading, which loses the data when the load then fails); without those
 *   abilities `truncate-and-insert` empties the tables before loading.
 *
 * @throws DestinationError (terminal) for an unsupported strategy, or a staging strategy on a
 * destination without staging dataset or follow-up jobs.
 */
export function planPackage(input: PlanInput): PackagePlan {
  const { schema, client, capabilities, destinationName, logger } = input;
  const canStage = supportsStagingDataset(client) && supportsTableChainFollowupJobs(client);
  const jobsByRoot = new Map<string, PackageJob[]>();
  for (const job of input.jobs) {
    const root = schema.rootTable(job.parsed.tableName)?.name;
    if (root === undefined) continue; // fails as a job: its table is not in the schema
    const list = jobsByRoot.get(root) ?? [];
    list.push(job);
    jobsByRoot.set(root, list);
  }
  const needsStaging = (what: string): DestinationError =>
    new DestinationError(
      `[tsdlt] [${destinationName}] ${what} needs a staging dataset and follow-up jobs, which destination \`${destinationName}\` does not provide (it implements neither \`WithStagingDataset\` nor \`WithTableChainFollowupJobs\`).`,
      { code: "DESTINATION_TERMINAL", retryable: false, destination: destinationName },
    );

  const chains = new Map<string, ChainPlan>();
  for (const [rootName, jobs] of jobsByRoot) {
    const root = schema.getTable(rootName) as TableSchema;
    const tables = chainTables(schema, rootName);
    const fresh = jobs.every((j) => j.state === "new_jobs");
    const base = { root: rootName, tables, fresh, disposition: undefined, truncateFirst: false };
    const disposition = isDltName(rootName) ? "append" : (root.write_disposition ?? "append");
    if (disposition === "skip") {
      chains.set(rootName, { ...base, route: "skip" });
      continue;
    }
    if (disposition === "merge") {
      const strategy = resolveMergeStrategy(root, capabilities, destinationName);
      if (strategy === undefined) {
        logger.warn(
          `[tsdlt] [${destinationName}] Destination \`${destinationName}\` supports no merge strategy, so the \`merge\` write disposition of table \`${rootName}\` cannot be met and its rows are appended. Change the write disposition.`,
        );
        chains.set(rootName, { ...base, route: "direct" });
        continue;
      }
      if (!canStage) throw needsStaging(`Merging table \`${rootName}\``);
      chains.set(rootName, { ...base, route: "staged", disposition: { kind: "merge", strategy } });
      continue;
    }
    if (disposition === "replace") {
      const replaceStrategy = resolveReplaceStrategy(
        requestedReplaceStrategy(root) ?? input.replaceStrategy,
        capabilities,
        destinationName,
      );
      if (canStage) {
        chains.set(rootName, {
          ...base,
          route: "staged",
          disposition: { kind: "replace", strategy: replaceStrategy },
        });
        continue;
      }
      if (replaceStrategy !== "truncate-and-insert") {
        throw needsStaging(`Replacing table \`${rootName}\` with strategy \`${replaceStrategy}\``);
      }
      chains.set(rootName, { ...base, route: "direct", truncateFirst: true });
      continue;
    }
    chains.set(rootName, { ...base, route: "direct" });
  }

  const staged = [...chains.values()].filter((c) => c.route === "staged");
  const names = (plans: readonly ChainPlan[]): string[] => plans.flatMap((c) => c.tables.map((t) => t.name));
  return {
    chains,
    stagingTables: names(staged),
    stagingTruncate: names(staged.filter((c) => c.fresh)),
    truncate: names([...chains.values()].filter((c) => c.truncateFirst && c.fresh)),
    skipTables: Object.values(schema.tables)
      .filter((t) => !isDltName(t.name) && schema.writeDisposition(t.name) === "skip")
      .map((t) => t.name),
  };
}
