/**
 * The load stage: takes a normalized package, migrates the destination schema, runs one job per
 * file (new_jobs → started_jobs → completed_jobs | failed_jobs), then the follow-up jobs of merge and
 * replace chains, and completes the package — a `_dlt_loads` row exists only when every job completed.
 *
 * Write dispositions (REFERENCE §4, planned in `table-chain-plan.ts`): append jobs load into the
 * dataset; merge and replace jobs load into the staging dataset, and once every data job of the
 * package has finished, each chain (root table + nested tables) whose jobs all completed gets one
 * follow-up job (`<root>.<file_id>.0.sql` in `new_jobs`) that the destination runs in one
 * transaction. If any job fails terminally and `raiseOnFailedJobs` is on, no follow-up runs: every
 * merge and replace table keeps its previous rows. Skip tables are neither created nor loaded.
 *
 * With a staging destination (`options.staging`, dlt's `staging=`), every data job is first run on
 * the staging destination, which writes the file to its bucket; the load stage then stores a
 * reference job (`<table>.<file_id>.0.reference`, holding the staged file's URL) in the package and
 * the destination loads the staged file from there. Staging runs outside any load transaction: a
 * failed or crashed load is resumed from the staged files, which are never staged twice.
 *
 * Refresh: a package extracted with `refresh` lists `dropped_tables` / `truncated_tables` in its
 * state. They are dropped (with the stored versions of the schema) before the dataset is migrated —
 * so the migration creates them again from the package's schema — and emptied after it. With a load
 * transaction all of it runs inside the transaction: a failed load leaves the old tables and rows in
 * place, and the next run drops and loads again.
 */
import { readFileSync, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  type Collector,
  type Destination,
  type DestinationContext,
  formatJobFileName,
  formatReferenceJob,
  isStagingLoadJob,
  JOB_STATES,
  jobIdOf,
  LoadJobError,
  type LoadPackage,
  type Logger,
  newFileId,
  PACKAGE_FILES,
  type PackageJob,
  type PackageStorage,
  parseJobFileName,
  parseReferenceJob,
  REFERENCE_FILE_FORMAT,
  type ReplaceStrategy,
  referenceJobFileName,
  Schema,
  type SchemaUpdateResult,
  type StagedFile,
  silentLogger,
  stagedFileFormat,
  supportsBatchLoadJobs,
  supportsLoadTransaction,
  supportsStagedFiles,
  type TableChain,
  toTsdltError,
  writeFileAtomicSync,
} from "@tsdlt/core";
import { GuardedClient } from "./guarded-client.js";
import { type ChainPlan, planPackage, withResolvedDisposition } from "./table-chain-plan.js";

/** Options of {@link loadPackage}. */
export interface LoadOptions {
  /** A normalized package (`load/normalized/<load_id>`). */
  readonly package: LoadPackage;
  /** The load storage the package lives in; completed packages move to `loaded/`. */
  readonly storage: PackageStorage;
  readonly destination: Destination;
  readonly context: DestinationContext;
  /** Throw when a job failed terminally (package aborted). @default true */
  readonly raiseOnFailedJobs?: boolean;
  /**
   * Attempts per job and run for retryable errors. When they are used up the job is not failed: it
   * goes back to `new_jobs` and the run raises `LOAD_JOB_RETRY`, leaving the package pending for the
   * next run (dlt's `raise_on_max_retries`). @default 5
   */
  readonly maxRetries?: number;
  /** First backoff delay in ms (doubles per retry). @default 1000 */
  readonly retryBaseDelayMs?: number;
  /** Jobs run concurrently. @default capabilities.maxParallelLoadJobs ?? 20 */
  readonly workers?: number;
  readonly logger?: Logger;
  /** Receives `Jobs` counters (completed, and `Failed`) as jobs finish. */
  readonly collector?: Collector;
  /** How replace tables are replaced. @default destination.replaceStrategy, else its first supported strategy */
  readonly replaceStrategy?: ReplaceStrategy;
  /**
   * A staging destination, already in its staging variant (see `prepareStagingDestination` in
   * `@tsdlt/core`): every data job is written there first, and `destination` loads the staged files.
   */
  readonly staging?: Destination;
  /**
   * Before staging a package's files, delete the staged files that earlier loads left for the same
   * tables (dlt's `truncate_tables_on_staging_destination_before_load`). @default true
   */
  readonly truncateStagingTablesBeforeLoad?: boolean;
}

/** The file format of follow-up jobs. */
const FOLLOWUP_FORMAT = "sql";

function isFollowup(job: PackageJob): boolean {
  return job.parsed.fileFormat === FOLLOWUP_FORMAT;
}

function isReference(job: { readonly parsed: { readonly fileFormat: string } }): boolean {
  return job.parsed.fileFormat === REFERENCE_FILE_FORMAT;
}

/** The staged file a reference job points to. */
function readStagedFile(
  path: string,
  fileName: string,
  open: (url: string) => Promise<Readable>,
): StagedFile {
  const urls = parseReferenceJob(readFileSync(path, "utf8"));
  const url = urls[0];
  if (url === undefined || urls.length !== 1) {
    throw new LoadJobError(
      `Reference job \`${fileName}\` must hold exactly one staged file URL; it holds ${urls.length}.`,
      { code: "LOAD_PACKAGE_INVALID", jobId: jobIdOf(fileName), path },
    );
  }
  const { fileFormat, compressed } = stagedFileFormat(url);
  return {
    url,
    fileFormat,
    compressed,
    localPath: url.startsWith("file:") ? fileURLToPath(url) : undefined,
    open: () => open(url),
  };
}

/** A job that failed terminally. */
export interface FailedJob {
  readonly jobId: string;
  readonly fileName: string;
  readonly table: string;
  readonly message: string;
}

/** What loading one package did. */
export interface LoadResult {
  readonly loadId: string;
  /** `loaded` when completed, `aborted` when a job failed and `raiseOnFailedJobs` is true. */
  readonly state: "loaded" | "aborted";
  readonly package: LoadPackage;
  readonly completedJobs: readonly string[];
  readonly failedJobs: readonly FailedJob[];
  readonly schemaUpdate: SchemaUpdateResult;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

/**
 * Loads one normalized package: plans its chains (append / staged merge and replace / skip), migrates
 * the dataset (and the staging dataset), runs the data jobs, then one follow-up job per completed
 * staged chain, and records the load. Jobs left in `started_jobs` by a crashed run are run again;
 * completed jobs are not repeated; follow-up jobs already written are reused, and staging tables of
 * a chain that made progress are not emptied again.
 */
export async function loadPackage(options: LoadOptions): Promise<LoadResult> {
  const logger = options.logger ?? silentLogger;
  const startedAt = new Date();
  const pkg = options.package;
  const schema = Schema.fromDict(pkg.readSchemaDoc());
  const { destination } = options;
  const raiseOnFailedJobs = options.raiseOnFailedJobs ?? true;
  const maxRetries = options.maxRetries ?? 5;
  const baseDelay = options.retryBaseDelayMs ?? 1000;

  await using client = new GuardedClient(
    await destination.createClient(schema, options.context),
    destination.name,
  );
  const { staging } = options;
  await using stagingClient = staging
    ? new GuardedClient(await staging.createClient(schema, options.context), staging.name)
    : undefined;
  /** A data job that still goes to (or went to) the staging destination. */
  const isStagingJob = (job: PackageJob): boolean =>
    stagingClient !== undefined && !isFollowup(job) && !isReference(job);
  /** `<table>.<file_id>` of the jobs that were staged (their reference job exists). */
  const stagedKeys = (): Set<string> =>
    new Set(
      JOB_STATES.flatMap((state) => pkg.listJobs(state))
        .filter(isReference)
        .map((j) => `${j.parsed.tableName}.${j.parsed.fileId}`),
    );
  /**
   * A staging job whose file is on the staging destination: it stays completed when a load
   * transaction rolls back. A completed data job without a reference was loaded directly by a run
   * without staging.
   */
  const wasStaged =
    (keys: Set<string>) =>
    (job: PackageJob): boolean =>
      isStagingJob(job) && keys.has(`${job.parsed.tableName}.${job.parsed.fileId}`);
  if (!stagingClient && JOB_STATES.some((state) => pkg.listJobs(state).some(isReference))) {
    throw new LoadJobError(
      `[tsdlt] [${destination.name}] Load package \`${pkg.loadId}\` holds reference jobs to files on a staging destination, but no staging destination is set. Run the load again with the \`staging\` it was started with.`,
      { code: "LOAD_PACKAGE_INVALID", loadId: pkg.loadId, destination: destination.name },
    );
  }
  const openStaged = async (url: string): Promise<Readable> => {
    const c = stagingClient?.client;
    if (c === undefined || !supportsStagedFiles(c)) {
      throw new LoadJobError(
        `[tsdlt] [${destination.name}] Staged file \`${url}\` cannot be read: staging destination \`${staging?.name ?? "(none)"}\` cannot open its files.`,
        { code: "DESTINATION_TERMINAL", loadId: pkg.loadId, destination: destination.name },
      );
    }
    return c.openStagedFile(url);
  };
  /** Deletes the package's staged files after it completed, unless the staging destination keeps them. */
  const releaseStaged = async (done: LoadPackage): Promise<void> => {
    const c = stagingClient?.client;
    if (c === undefined || !supportsStagedFiles(c)) return;
    try {
      const urls = done
        .listJobs("completed_jobs")
        .filter(isReference)
        .flatMap((j) => parseReferenceJob(readFileSync(j.path, "utf8")));
      const deleted = await c.releaseStagedFiles(done.loadId, urls);
      if (deleted.length > 0) {
        logger.info(`[${staging?.name}] deleted ${deleted.length} staged file(s) of load ${done.loadId}`);
      }
    } catch (cause) {
      logger.warn(
        `[${staging?.name}] the staged files of load ${done.loadId} could not be deleted (the load itself completed): ${toTsdltError(cause).message}`,
      );
    }
  };
  await client.initializeStorage();
  // Exactly-once packages: with a destination that commits a whole package in one transaction, a
  // package whose `_dlt_loads` row exists is done (the crash came after the commit), and one without
  // it loaded nothing (the transaction rolled back), so all its jobs run again.
  // With raiseOnFailedJobs: false the user asked to keep what loads, so jobs commit one by one.
  const tx = raiseOnFailedJobs && supportsLoadTransaction(client.client) ? client.client : undefined;
  if (tx) {
    if (await tx.isLoadCompleted(pkg.loadId)) {
      logger.info(
        `[${destination.name}] load ${pkg.loadId} was committed before the last run stopped; completing the package`,
      );
      const result = finishCommitted(pkg, options.storage, startedAt);
      await releaseStaged(result.package);
      return result;
    }
    restartJobs(pkg, wasStaged(stagedKeys()));
  }
  const initialJobs = JOB_STATES.flatMap((state) => pkg.listJobs(state));
  const initiallyStaged = wasStaged(stagedKeys());
  const plan = planPackage({
    schema,
    // staged files are not in the dataset yet: a chain is fresh until its first reference job ran
    jobs: initialJobs
      .filter((j) => !isFollowup(j))
      .map((j) =>
        isStagingJob(j) && (j.state !== "completed_jobs" || initiallyStaged(j))
          ? { ...j, state: "new_jobs" as const }
          : j,
      ),
    client: client.client,
    capabilities: destination.capabilities,
    destinationName: destination.name,
    replaceStrategy: options.replaceStrategy ?? destination.replaceStrategy,
    logger,
  });
  const skipped = new Set(plan.skipTables);
  // A `refresh` run lists tables to drop or empty first. Without a load transaction they are dropped
  // once: a package resumed after its migration (`applied_schema_updates.json` exists) has loaded
  // rows into the new tables already; and, as replace tables, only tables of chains that loaded
  // nothing yet are emptied. In a load transaction every job starts over, so all of it is redone.
  const refresh = refreshedTables(pkg);
  const refreshNow = tx !== undefined || pkg.readJson(PACKAGE_FILES.appliedSchemaUpdates) === undefined;
  const fresh = (table: string): boolean => {
    const root = schema.rootTable(table)?.name;
    return root === undefined || (plan.chains.get(root)?.fresh ?? true);
  };
  const inTransaction =
    tx !== undefined &&
    (tx.migrateInLoadTransaction === true || refresh.drop.length + refresh.truncate.length > 0);
  /** Drops (refresh), migrates the dataset and the staging dataset, then empties tables. */
  const prepareStorage = async (): Promise<SchemaUpdateResult> => {
    if (refreshNow && refresh.drop.length > 0 && !(await client.dropTables(refresh.drop))) {
      logger.warn(
        `[${destination.name}] refresh: the destination cannot drop tables; not dropped: ${refresh.drop.map((t) => `\`${t}\``).join(", ")}`,
      );
    }
    const update =
      skipped.size > 0
        ? await client.updateStoredSchema({
            onlyTables: Object.keys(schema.tables).filter((name) => !skipped.has(name)),
          })
        : await client.updateStoredSchema();
    pkg.writeJson(PACKAGE_FILES.appliedSchemaUpdates, update.tables);
    if (plan.stagingTables.length > 0) {
      await client.initializeStagingDataset({
        tables: plan.stagingTables,
        truncateTables: plan.stagingTruncate,
      });
    }
    const truncate = [...new Set([...plan.truncate, ...refresh.truncate.filter(fresh)])];
    if (truncate.length > 0) await client.truncateTables(truncate);
    return update;
  };
  // with a refresh, the drop joins the load transaction (the old tables stay until the new rows
  // commit), and so does the whole migration when the client asks for it
  let schemaUpdate: SchemaUpdateResult = inTransaction
    ? { tables: {}, statements: [] }
    : await prepareStorage();
  if (stagingClient) {
    await (skipped.size > 0
      ? stagingClient.updateStoredSchema({
          onlyTables: Object.keys(schema.tables).filter((name) => !skipped.has(name)),
        })
      : stagingClient.updateStoredSchema());
    const stagingJobs = initialJobs.filter(isStagingJob);
    const truncateFirst = options.truncateStagingTablesBeforeLoad ?? true;
    // only before anything of this package was staged: a resumed load keeps what it staged
    if (truncateFirst && stagingJobs.every((j) => j.state === "new_jobs")) {
      const c = stagingClient.client;
      const tables = [...new Set(stagingJobs.map((j) => j.parsed.tableName))].filter((t) => !skipped.has(t));
      if (tables.length > 0 && supportsStagedFiles(c)) await c.truncateStagedTables(tables, pkg.loadId);
    }
  }

  const failedJobs: FailedJob[] = [];
  /** Jobs whose transient failures used up `maxRetries`: back in `new_jobs`, the package stays pending. */
  const retryJobs: FailedJob[] = [];
  const completedJobs: string[] = pkg.listJobs("completed_jobs").map((j) => jobIdOf(j.fileName));
  const chainOf = (tableName: string): ChainPlan | undefined => {
    const root = schema.rootTable(tableName)?.name;
    return root === undefined ? undefined : plan.chains.get(root);
  };

  /** Moves a started job to `completed_jobs` and counts it. */
  const completeJob = (fileName: string): void => {
    pkg.moveJob(fileName, "started_jobs", "completed_jobs");
    completedJobs.push(jobIdOf(fileName));
    options.collector?.update("Jobs", { inc: 1 });
  };
  /** Moves a started job to `failed_jobs`, keeps its exception and counts it. */
  const failJob = (fileName: string, table: string, message: string): void => {
    pkg.moveJob(fileName, "started_jobs", "failed_jobs");
    pkg.writeJobException(fileName, message);
    failedJobs.push({ jobId: jobIdOf(fileName), fileName, table, message });
    options.collector?.update("Jobs", {
      inc: 1,
      label: "Failed",
      message: "WARNING: Some of the jobs failed!",
    });
  };

  const runJob = async (
    fileName: string,
    state: "new_jobs" | "started_jobs",
    phase: "staging" | "destination",
  ): Promise<void> => {
    let current = fileName;
    if (state === "new_jobs") pkg.moveJob(current, "new_jobs", "started_jobs");
    const parsed = parseJobFileName(current);
    const table = schema.getTable(parsed.tableName);
    const jobId = jobIdOf(current);
    const route =
      parsed.fileFormat === FOLLOWUP_FORMAT ? "direct" : (chainOf(parsed.tableName)?.route ?? "direct");
    const target = phase === "staging" ? (stagingClient as GuardedClient) : client;
    const targetName = phase === "staging" ? (staging?.name ?? destination.name) : destination.name;
    if (route === "skip") {
      logger.debug(
        `[${destination.name}] job ${jobId} is not loaded: table \`${parsed.tableName}\` has write disposition \`skip\``,
      );
      pkg.moveJob(current, "started_jobs", "completed_jobs");
      completedJobs.push(jobId);
      return;
    }
    for (let attempt = parsed.retryCount; ; attempt++) {
      try {
        if (!table) {
          throw new LoadJobError(
            `Job \`${current}\` refers to table \`${parsed.tableName}\`, which is not in schema \`${schema.name}\`.`,
            { code: "LOAD_PACKAGE_INVALID", table: parsed.tableName, jobId, loadId: pkg.loadId },
          );
        }
        const path = pkg.jobPath("started_jobs", current);
        const file = {
          path,
          fileName: current,
          parsed: { ...parsed, retryCount: attempt },
          ...(isReference({ parsed }) ? { staged: readStagedFile(path, current, openStaged) } : {}),
        };
        const resolved = withResolvedDisposition(schema, table);
        const job =
          phase === "destination" && route === "staged"
            ? await client.createStagingLoadJob(resolved, file, pkg.loadId)
            : await target.createLoadJob(resolved, file, pkg.loadId);
        if (phase === "staging" && !isStagingLoadJob(job)) {
          throw new LoadJobError(
            `[tsdlt] [${targetName}] Staging destination \`${targetName}\` returned a job without \`remoteUrl\` for \`${current}\`: it cannot stage files.`,
            { code: "DESTINATION_TERMINAL", jobId, loadId: pkg.loadId, destination: targetName },
          );
        }
        await job.run(options.context.signal);
        if (phase === "staging" && isStagingLoadJob(job)) {
          // the reference first: a crash before the move re-stages the same file and finds it
          const reference = referenceJobFileName({ ...parsed, retryCount: 0 });
          const known = JOB_STATES.some((s) =>
            pkg.listJobs(s).some((j) => jobIdOf(j.fileName) === jobIdOf(reference)),
          );
          if (!known)
            writeFileAtomicSync(pkg.jobPath("new_jobs", reference), formatReferenceJob([job.remoteUrl]));
        }
        completeJob(current);
        return;
      } catch (cause) {
        const error = toTsdltError(cause);
        const inTx = tx !== undefined && phase === "destination";
        if (inTx && error.retryable) throw error; // the transaction rolls back; the whole package is retried
        if (
          !inTx &&
          error.retryable &&
          attempt + 1 - parsed.retryCount < maxRetries &&
          !options.context.signal?.aborted
        ) {
          const next = current.replace(/\.(\d+)\.([^.]+(?:\.gz)?)$/, `.${attempt + 1}.$2`);
          pkg.moveJob(current, "started_jobs", "started_jobs", next);
          current = next;
          const delay = baseDelay * 2 ** (attempt - parsed.retryCount);
          logger.warn(
            `[${targetName}] job ${jobId} failed transiently, retry ${attempt + 1} in ${delay} ms: ${error.message}`,
          );
          // An abort during the backoff ends the wait and fails the job like an abort before it.
          await sleep(delay, undefined, { signal: options.context.signal }).catch(() => undefined);
          if (!options.context.signal?.aborted) continue;
        }
        if (!inTx && error.retryable && !options.context.signal?.aborted) {
          // Retries used up on a transient failure: as dlt (`raise_on_max_retries`), the job goes back
          // to `new_jobs` with its retry count and the package stays pending — the next run retries it.
          const next = current.replace(/\.(\d+)\.([^.]+(?:\.gz)?)$/, `.${attempt + 1}.$2`);
          pkg.moveJob(current, "started_jobs", "new_jobs", next);
          retryJobs.push({ jobId, fileName: next, table: parsed.tableName, message: error.message });
          logger.warn(
            `[${targetName}] job ${jobId} failed transiently ${attempt + 1} time(s); it stays pending for the next run: ${error.message}`,
          );
          return;
        }
        failJob(current, parsed.tableName, error.message);
        logger.error(`[${targetName}] job ${jobId} failed terminally: ${error.message}`);
        // a failed statement poisons the transaction: stop, roll back, abort the package
        if (tx && phase === "destination") throw new TransactionAborted();
        return;
      }
    }
  };

  const workers = tx ? 1 : Math.max(1, options.workers ?? destination.capabilities.maxParallelLoadJobs ?? 20);
  const stagingWorkers = Math.max(1, options.workers ?? staging?.capabilities.maxParallelLoadJobs ?? 20);
  /**
   * Runs the files of one table together as one batch job (see `WithBatchLoadJobs`): they move to
   * `started_jobs`, then all complete or all fail. Returns the jobs (now started) to run one by one
   * when the client declines them, else undefined.
   */
  const runBatch = async (batch: readonly PackageJob[]): Promise<QueuedJob[] | undefined> => {
    const tableName = (batch[0] as PackageJob).parsed.tableName;
    const table = schema.getTable(tableName);
    if (table === undefined) return batch.map(queued);
    for (const { fileName, state } of batch) {
      if (state === "new_jobs") pkg.moveJob(fileName, "new_jobs", "started_jobs");
    }
    const files = batch.map(({ fileName, parsed }) => ({
      path: pkg.jobPath("started_jobs", fileName),
      fileName,
      parsed,
    }));
    try {
      const job = await client.createBatchLoadJob(withResolvedDisposition(schema, table), files, pkg.loadId, {
        staging: chainOf(tableName)?.route === "staged",
      });
      if (job === undefined) return files.map(({ fileName }) => ({ fileName, state: "started_jobs" }));
      await job.run(options.context.signal);
    } catch (cause) {
      const error = toTsdltError(cause);
      // the transaction rolls back; the whole package is retried
      if (error.retryable) throw error;
      for (const { fileName } of files) failJob(fileName, tableName, error.message);
      logger.error(
        `[${destination.name}] the batch job of ${files.length} files of table \`${tableName}\` failed terminally: ${error.message}`,
      );
      throw new TransactionAborted();
    }
    for (const { fileName } of files) completeJob(fileName);
    return undefined;
  };

  const runAll = async (
    jobs: readonly PackageJob[],
    phase: "staging" | "destination" = "destination",
  ): Promise<void> => {
    let queue: QueuedJob[] = jobs.map(queued);
    if (tx !== undefined && phase === "destination" && supportsBatchLoadJobs(client.client)) {
      const { batches, rest } = planBatches(jobs, (job) =>
        isFollowup(job) || isReference(job) || chainOf(job.parsed.tableName)?.route === "skip"
          ? undefined
          : `${job.parsed.tableName}\u0000${job.parsed.fileFormat}\u0000${job.parsed.compressed}`,
      );
      queue = rest.map(queued);
      for (const batch of batches) {
        const declined = await runBatch(batch);
        if (declined !== undefined) queue.push(...declined);
      }
    }
    const n = phase === "staging" ? stagingWorkers : workers;
    await Promise.all(
      Array.from({ length: Math.min(n, queue.length) }, async () => {
        for (let next = queue.shift(); next; next = queue.shift())
          await runJob(next.fileName, next.state, phase);
      }),
    );
  };
  // resume: started jobs of a crashed run go first, then new ones
  const pending = (): PackageJob[] => [...pkg.listJobs("started_jobs"), ...pkg.listJobs("new_jobs")];
  const pendingJobs = (followups: boolean): PackageJob[] =>
    pending().filter((j) => isFollowup(j) === followups && !isStagingJob(j));

  const abortIfFailed = (): void => {
    if (failedJobs.length === 0 || !raiseOnFailedJobs) return;
    pkg.writeJson(PACKAGE_FILES.completed, { status: "aborted" });
    const moved = options.storage.movePackage(pkg, "loaded");
    const first = failedJobs[0] as FailedJob;
    // Destinations already phrase job failures as `[tsdlt] [<dest>] Job ... failed terminally: ...`.
    const reason = first.message.startsWith("[tsdlt]")
      ? first.message.replace(/\.?$/, ".")
      : `[tsdlt] [${destination.name}] Job \`${first.fileName}\` in load \`${pkg.loadId}\` failed terminally: ${first.message}.`;
    const staged = [...plan.chains.values()].some((c) => c.route === "staged");
    const written = tx
      ? "the package loaded in one transaction, which was rolled back: none of its rows were written"
      : `its completed jobs stay in the destination but no \`_dlt_loads\` row marks it complete${staged ? "; merge and replace tables keep their previous rows" : ""}`;
    throw new LoadJobError(
      `${reason} The package is aborted (${failedJobs.length} failed job(s)); ${written}. ` +
        `Failed job files are kept in ${moved.path}/failed_jobs.`,
      {
        code: "LOAD_JOB_FAILED",
        loadId: pkg.loadId,
        jobId: first.jobId,
        table: first.table,
        destination: destination.name,
      },
    );
  };

  /** Leaves the package pending (not aborted) when jobs used up their retries on transient failures. */
  const raiseIfRetrying = (): void => {
    if (retryJobs.length === 0) return;
    const first = retryJobs[0] as FailedJob;
    throw new LoadJobError(
      `[tsdlt] [${destination.name}] Job \`${first.jobId}\` in load \`${pkg.loadId}\` failed transiently ${maxRetries} time(s) in this run: ${first.message.replace(/\.?$/, ".")} ` +
        `The package stays pending with ${retryJobs.length} job(s) to retry: the next \`run()\` or \`load()\` retries them (completed jobs are not loaded again).`,
      {
        code: "LOAD_JOB_RETRY",
        retryable: true,
        loadId: pkg.loadId,
        jobId: first.jobId,
        table: first.table,
        destination: destination.name,
      },
    );
  };

  const loadAll = async (): Promise<void> => {
    await runAll(pendingJobs(false));
    abortIfFailed();
    raiseIfRetrying();
    await createFollowupJobs(pkg, plan, client, schema, failedJobs, logger, destination.name);
    await runAll(pendingJobs(true));
    abortIfFailed();
    raiseIfRetrying();
    await client.completeLoad(pkg.loadId);
  };

  // staging runs first and outside the load transaction: staged files survive a rollback
  if (stagingClient) {
    await runAll(pending().filter(isStagingJob), "staging");
    abortIfFailed();
    raiseIfRetrying();
  }
  if (!tx) {
    await loadAll();
  } else {
    for (let attempt = 0; ; attempt++) {
      try {
        await tx.runInLoadTransaction(pkg.loadId, async () => {
          try {
            if (inTransaction) schemaUpdate = await prepareStorage();
            await loadAll();
          } catch (error) {
            if (error instanceof TransactionAborted) abortIfFailed();
            throw error;
          }
        });
        break;
      } catch (cause) {
        const error = toTsdltError(cause);
        if (!error.retryable || attempt + 1 >= maxRetries || options.context.signal?.aborted) throw cause;
        restartJobs(pkg, wasStaged(stagedKeys()));
        const delay = baseDelay * 2 ** attempt;
        logger.warn(
          `[${destination.name}] load ${pkg.loadId} failed transiently and was rolled back, retry ${attempt + 1} in ${delay} ms: ${error.message}`,
        );
        await sleep(delay, undefined, { signal: options.context.signal }).catch(() => undefined);
      }
    }
  }
  pkg.writeJson(PACKAGE_FILES.completed, { status: "loaded" });
  const moved = options.storage.movePackage(pkg, "loaded");
  await releaseStaged(moved);
  return {
    loadId: pkg.loadId,
    state: "loaded",
    package: moved,
    completedJobs,
    failedJobs,
    schemaUpdate,
    startedAt,
    finishedAt: new Date(),
  };
}

/** The tables a `refresh` run asks to drop and to empty (`dropped_tables` / `truncated_tables` in the package state). */
function refreshedTables(pkg: LoadPackage): { drop: string[]; truncate: string[] } {
  const state = pkg.readState();
  const names = (tables: unknown): string[] =>
    Array.isArray(tables)
      ? tables
          .map((t: unknown) => (typeof t === "string" ? t : (t as { name?: unknown } | null)?.name))
          .filter((name): name is string => typeof name === "string")
      : [];
  return { drop: names(state.dropped_tables), truncate: names(state.truncated_tables) };
}

/** When the package was created (scd2's default boundary): its state's `created_at`, else the time in its load id. */
function packageCreatedAt(pkg: LoadPackage): Date {
  const created = pkg.readState().created_at;
  if (created instanceof Date && created.getTime() > 0) return created;
  const fromLoadId = Number(pkg.loadId) * 1000;
  return Number.isFinite(fromLoadId) && fromLoadId > 0 ? new Date(fromLoadId) : new Date();
}

/**
 * Writes the follow-up jobs of every staged chain whose data jobs all completed and that has no
 * follow-up job yet (a resumed package keeps the ones it wrote). A chain with a failed job gets none,
 * so its tables keep their rows. Creating a follow-up that fails is recorded as a failed `.sql` job.
 */
async function createFollowupJobs(
  pkg: LoadPackage,
  plan: { readonly chains: ReadonlyMap<string, ChainPlan> },
  client: GuardedClient,
  schema: Schema,
  failedJobs: FailedJob[],
  logger: Logger,
  destinationName: string,
): Promise<void> {
  const all = JOB_STATES.flatMap((state) => pkg.listJobs(state));
  const haveFollowup = new Set(all.filter(isFollowup).map((j) => j.parsed.tableName));
  const failedRoots = new Set(
    pkg
      .listJobs("failed_jobs")
      .filter((j) => !isFollowup(j))
      .map((j) => schema.rootTable(j.parsed.tableName)?.name),
  );
  let createdAt: Date | undefined;
  for (const chain of plan.chains.values()) {
    if (chain.route !== "staged" || chain.disposition === undefined) continue;
    if (haveFollowup.has(chain.root) || failedRoots.has(chain.root)) continue;
    createdAt ??= packageCreatedAt(pkg);
    const request: TableChain = {
      tables: chain.tables,
      disposition: chain.disposition,
      packageCreatedAt: createdAt,
    };
    const fileName = (): string =>
      formatJobFileName({
        tableName: chain.root,
        fileId: newFileId(),
        retryCount: 0,
        fileFormat: FOLLOWUP_FORMAT,
        compressed: false,
      });
    try {
      for (const job of await client.createTableChainFollowupJobs(request, pkg.loadId)) {
        const name = formatJobFileName({
          tableName: job.tableName,
          fileId: newFileId(),
          retryCount: 0,
          fileFormat: job.fileFormat,
          compressed: false,
        });
        writeFileAtomicSync(pkg.jobPath("new_jobs", name), job.content);
      }
    } catch (cause) {
      const error = toTsdltError(cause);
      const name = fileName();
      writeFileAtomicSync(pkg.jobPath("failed_jobs", name), "");
      pkg.writeJobException(name, error.message);
      failedJobs.push({ jobId: jobIdOf(name), fileName: name, table: chain.root, message: error.message });
      logger.error(
        `[${destinationName}] the follow-up job of table ${chain.root} could not be created: ${error.message}`,
      );
    }
  }
}

/** Thrown inside a load transaction after a job failed terminally, to roll it back. */
class TransactionAborted extends Error {}

/** A job file waiting to run. */
interface QueuedJob {
  readonly fileName: string;
  readonly state: "new_jobs" | "started_jobs";
}

/** A pending job of the package as it waits in the queue. */
function queued(job: PackageJob): QueuedJob {
  return { fileName: job.fileName, state: job.state as QueuedJob["state"] };
}

/** Total size of the files in one batch job: bounds the work (and a retry) of one statement. */
const BATCH_MAX_BYTES = 2 ** 30;

/**
 * Splits `jobs` into batches of jobs with the same `keyOf` (at most {@link BATCH_MAX_BYTES} of files
 * each, in order) and the jobs to run one by one: those without a key, and batches of one.
 */
function planBatches(
  jobs: readonly PackageJob[],
  keyOf: (job: PackageJob) => string | undefined,
): { batches: PackageJob[][]; rest: PackageJob[] } {
  const rest: PackageJob[] = [];
  const open = new Map<string, { jobs: PackageJob[]; bytes: number }>();
  const batches: PackageJob[][] = [];
  for (const job of jobs) {
    const key = keyOf(job);
    if (key === undefined) {
      rest.push(job);
      continue;
    }
    const bytes = statSync(job.path).size;
    let batch = open.get(key);
    if (batch !== undefined && batch.bytes + bytes > BATCH_MAX_BYTES) {
      batches.push(batch.jobs);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { jobs: [], bytes: 0 };
      open.set(key, batch);
    }
    batch.jobs.push(job);
    batch.bytes += bytes;
  }
  for (const batch of open.values()) batches.push(batch.jobs);
  return {
    batches: batches.filter((b) => b.length > 1),
    rest: [...rest, ...batches.filter((b) => b.length === 1).flat()],
  };
}

/**
 * Moves every job of an uncommitted package back to `new_jobs` (their rows were rolled back), with
 * the retry count kept in the name. Jobs for which `keep` is true (files already staged) stay.
 */
function restartJobs(pkg: LoadPackage, keep: (job: PackageJob) => boolean): void {
  for (const state of ["completed_jobs", "started_jobs"] as const) {
    for (const job of pkg.listJobs(state)) if (!keep(job)) pkg.moveJob(job.fileName, state, "new_jobs");
  }
}

/** Completes a package whose transaction committed: its jobs are done, whatever folder they are in. */
function finishCommitted(pkg: LoadPackage, storage: PackageStorage, startedAt: Date): LoadResult {
  for (const state of ["new_jobs", "started_jobs"] as const) {
    for (const job of pkg.listJobs(state)) pkg.moveJob(job.fileName, state, "completed_jobs");
  }
  pkg.writeJson(PACKAGE_FILES.completed, { status: "loaded" });
  const moved = storage.movePackage(pkg, "loaded");
  return {
    loadId: pkg.loadId,
    state: "loaded",
    package: moved,
    completedJobs: moved.listJobs("completed_jobs").map((j) => jobIdOf(j.fileName)),
    failedJobs: [],
    schemaUpdate: { tables: {}, statements: [] },
    startedAt,
    finishedAt: new Date(),
  };
}
