/**
 * Pieces every SQL destination client needs around its jobs and native errors: the context that
 * names what failed (for `DestinationError` messages), the terminal error of a job, and redaction of
 * bound parameters and known secrets in native messages (STYLE rule 14).
 */
import { DestinationError, type LoadJobFile, redactText, type TableSchema } from "@tsdlt/core";

/** What a native failure is about, for the `DestinationError` a client raises from it. */
export interface SqlErrorContext {
  readonly destination: string;
  /** What failed, for the message: "Job `users.abc.0.jsonl` in load `1.2`", "Schema migration of `ds`". */
  readonly subject: string;
  /** What happens next / what to do, appended after the reason. */
  readonly consequence?: { readonly terminal: string; readonly retryable: string };
  readonly params?: readonly unknown[] | undefined;
  readonly loadId?: string | undefined;
  readonly jobId?: string | undefined;
  readonly table?: string | undefined;
  readonly path?: string | undefined;
}

/** Replaces bound string parameters in a native message, and masks known secrets. */
export function redactParams(message: string, params: readonly unknown[] | undefined): string {
  let out = message;
  for (const param of params ?? []) {
    if (typeof param === "string" && param.length >= 3) out = out.replaceAll(param, "<redacted>");
  }
  return redactText(out);
}

/** The id, error context and terminal-error factory of one load job. */
export interface LoadJobContext {
  readonly jobId: string;
  readonly context: SqlErrorContext;
  /** A terminal `DestinationError` of the job: `[tsdlt] [<dest>] Job ... failed terminally: <reason>.` */
  terminal(reason: string): DestinationError;
}

/**
 * The context of a job loading `job` into `table` (or its staging copy) for load `loadId`; for
 * several files, of the batch job loading them together (`WithBatchLoadJobs`), named by its first.
 */
export function loadJobContext(
  destination: string,
  table: TableSchema,
  job: LoadJobFile | readonly LoadJobFile[],
  loadId: string,
  staging: boolean,
): LoadJobContext {
  const files: readonly LoadJobFile[] = Array.isArray(job) ? job : [job as LoadJobFile];
  const first = files[0] as LoadJobFile;
  const jobId = `${first.parsed.tableName}.${first.parsed.fileId}.${first.parsed.fileFormat}`;
  const where = `${staging ? " (staging)" : ""} in load \`${loadId}\``;
  const path = files.length === 1 ? first.path : undefined;
  const context: SqlErrorContext = {
    destination,
    subject:
      files.length === 1
        ? `Job \`${first.fileName}\`${where}`
        : `The batch job of ${files.length} files of table \`${table.name}\`${where} (${files.map((f) => `\`${f.fileName}\``).join(", ")})`,
    loadId,
    jobId,
    table: table.name,
    path,
    consequence: {
      terminal: `Retrying will not help: fix the file or the schema of table \`${table.name}\`.`,
      retryable: "Running the job again may succeed.",
    },
  };
  return {
    jobId,
    context,
    terminal: (reason) =>
      new DestinationError(`[tsdlt] [${destination}] ${context.subject} failed terminally: ${reason}.`, {
        code: "DESTINATION_TERMINAL",
        retryable: false,
        destination,
        loadId,
        jobId,
        table: table.name,
        path,
      }),
  };
}
