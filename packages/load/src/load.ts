/**
 * The load stage: takes a normalized package, migrates the destination schema, runs one job per
 * file (new_jobs → started_jobs → completed_jobs | failed_jobs), and completes the package — a
 * `_dlt_loads` row exists only when every job completed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Destination,
  type DestinationContext,
  jobIdOf,
  LoadJobError,
  type LoadPackage,
  type Logger,
  PACKAGE_FILES,
  type PackageStorage,
  parseJobFileName,
  Schema,
  type SchemaUpdateResult,
  silentLogger,
  type TableSchema,
  toTsdltError,
} from "@tsdlt/core";
import { GuardedClient } from "./guarded-client.js";

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
  /** Attempts per job for retryable errors before the job fails. @default 5 */
  readonly maxRetries?: number;
  /** First backoff delay in ms (doubles per retry). @default 1000 */
  readonly retryBaseDelayMs?: number;
  /** Jobs run concurrently. @default capabilities.maxParallelLoadJobs ?? 20 */
  readonly workers?: number;
  readonly logger?: Logger;
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
 * Loads one normalized package. Jobs left in `started_jobs` by a crashed run are run again;
 * completed jobs are not repeated.
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
  await client.initializeStorage();
  const schemaUpdate = await client.updateStoredSchema();
  pkg.writeJson(PACKAGE_FILES.appliedSchemaUpdates, schemaUpdate.tables);

  // resume: started jobs of a crashed run go first, then new ones
  const pending = [...pkg.listJobs("started_jobs"), ...pkg.listJobs("new_jobs")];
  const failedJobs: FailedJob[] = [];
  const completedJobs: string[] = pkg.listJobs("completed_jobs").map((j) => jobIdOf(j.fileName));

  const runJob = async (fileName: string, state: "new_jobs" | "started_jobs"): Promise<void> => {
    let current = fileName;
    if (state === "new_jobs") pkg.moveJob(current, "new_jobs", "started_jobs");
    const parsed = parseJobFileName(current);
    const table = schema.getTable(parsed.tableName);
    const jobId = jobIdOf(current);
    for (let attempt = parsed.retryCount; ; attempt++) {
      try {
        if (!table) {
          throw new LoadJobError(
            `Job \`${current}\` refers to table \`${parsed.tableName}\`, which is not in schema \`${schema.name}\`.`,
            { code: "LOAD_PACKAGE_INVALID", table: parsed.tableName, jobId, loadId: pkg.loadId },
          );
        }
        const job = await client.createLoadJob(
          withResolvedDisposition(schema, table),
          {
            path: pkg.jobPath("started_jobs", current),
            fileName: current,
            parsed: { ...parsed, retryCount: attempt },
          },
          pkg.loadId,
        );
        await job.run(options.context.signal);
        pkg.moveJob(current, "started_jobs", "completed_jobs");
        completedJobs.push(jobId);
        return;
      } catch (cause) {
        const error = toTsdltError(cause);
        if (error.retryable && attempt + 1 < maxRetries && !options.context.signal?.aborted) {
          const next = current.replace(/\.(\d+)\.([^.]+(?:\.gz)?)$/, `.${attempt + 1}.$2`);
          pkg.moveJob(current, "started_jobs", "started_jobs", next);
          current = next;
          const delay = baseDelay * 2 ** (attempt - parsed.retryCount);
          logger.warn(
            `[${destination.name}] job ${jobId} failed transiently, retry ${attempt + 1} in ${delay} ms: ${error.message}`,
          );
          // An abort during the backoff ends the wait and fails the job like an abort before it.
          await sleep(delay, undefined, { signal: options.context.signal }).catch(() => undefined);
          if (!options.context.signal?.aborted) continue;
        }
        pkg.moveJob(current, "started_jobs", "failed_jobs");
        pkg.writeJobException(current, error.message);
        failedJobs.push({ jobId, fileName: current, table: parsed.tableName, message: error.message });
        logger.error(`[${destination.name}] job ${jobId} failed terminally: ${error.message}`);
        return;
      }
    }
  };

  const workers = Math.max(1, options.workers ?? destination.capabilities.maxParallelLoadJobs ?? 20);
  const queue = pending.map((j) => ({ fileName: j.fileName, state: j.state as "new_jobs" | "started_jobs" }));
  await Promise.all(
    Array.from({ length: Math.min(workers, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await runJob(next.fileName, next.state);
    }),
  );

  if (failedJobs.length > 0 && raiseOnFailedJobs) {
    pkg.writeJson(PACKAGE_FILES.completed, { status: "aborted" });
    const moved = options.storage.movePackage(pkg, "loaded");
    const first = failedJobs[0] as FailedJob;
    // Destinations already phrase job failures as `[tsdlt] [<dest>] Job ... failed terminally: ...`.
    const reason = first.message.startsWith("[tsdlt]")
      ? first.message.replace(/\.?$/, ".")
      : `[tsdlt] [${destination.name}] Job \`${first.fileName}\` in load \`${pkg.loadId}\` failed terminally: ${first.message}.`;
    throw new LoadJobError(
      `${reason} The package is aborted (${failedJobs.length} failed job(s)); its completed jobs stay in the destination but no \`_dlt_loads\` row marks it complete. ` +
        `Failed job files are kept in ${moved.path}/failed_jobs.`,
      {
        code: "LOAD_JOB_FAILED",
        loadId: pkg.loadId,
        jobId: first.jobId,
        table: first.table,
        destination: destination.name,
      },
    );
  }

  await client.completeLoad(pkg.loadId);
  pkg.writeJson(PACKAGE_FILES.completed, { status: "loaded" });
  const moved = options.storage.movePackage(pkg, "loaded");
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

/** Nested tables inherit the write disposition of their root. */
function withResolvedDisposition(schema: Schema, table: TableSchema): TableSchema {
  if (table.write_disposition !== undefined) return table;
  return { ...table, write_disposition: schema.writeDisposition(table.name) };
}
