/** The info objects a pipeline step returns (REFERENCE §7.2), with dlt's text forms. */
import { type PackageState, TsdltError } from "@tsdlt/core";
import { formatElapsed } from "./humanize.js";

/** One job of a package. */
export interface LoadJobInfo {
  readonly state: "new_jobs" | "started_jobs" | "completed_jobs" | "failed_jobs";
  readonly jobId: string;
  readonly fileName: string;
  readonly tableName: string;
  readonly fileSize: number;
  readonly failedMessage?: string | undefined;
}

/** One load package. */
export interface LoadPackageInfo {
  readonly loadId: string;
  readonly state: PackageState;
  readonly schemaName: string;
  readonly packagePath: string;
  readonly completedAt?: Date | undefined;
  readonly jobs: readonly LoadJobInfo[];
}

/** Fields common to every step info. */
interface StepInfoFields {
  readonly pipelineName: string;
  readonly loadPackages: readonly LoadPackageInfo[];
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly firstRun: boolean;
}

function packageLine(pkg: LoadPackageInfo, verbosity: number): string {
  const state = pkg.state.toUpperCase();
  const failed = pkg.jobs.filter((j) => j.state === "failed_jobs");
  let line = `Load package ${pkg.loadId} is ${state}`;
  if (pkg.state !== "loaded" && pkg.state !== "aborted") line += " and NOT YET LOADED to the destination";
  if (failed.length === 0) return `${line} and contains no failed jobs`;
  line += ` and contains ${failed.length} FAILED job(s)!`;
  if (verbosity >= 1) for (const job of failed) line += `\n\t[${job.jobId}]: ${job.failedMessage ?? ""}\n`;
  return line;
}

/** What `pipeline.extract()` did. */
export class ExtractInfo implements StepInfoFields {
  readonly pipelineName: string;
  readonly loadPackages: readonly LoadPackageInfo[];
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly firstRun: boolean;
  /** Items extracted per table. */
  readonly itemCounts: Readonly<Record<string, number>>;

  constructor(fields: StepInfoFields & { itemCounts: Record<string, number> }) {
    this.pipelineName = fields.pipelineName;
    this.loadPackages = fields.loadPackages;
    this.startedAt = fields.startedAt;
    this.finishedAt = fields.finishedAt;
    this.firstRun = fields.firstRun;
    this.itemCounts = Object.freeze({ ...fields.itemCounts });
  }

  get loadsIds(): string[] {
    return this.loadPackages.map((p) => p.loadId);
  }

  /** A plain object for JSON (traces, the CLI). */
  toJSON(): Record<string, unknown> {
    return {
      pipeline_name: this.pipelineName,
      started_at: this.startedAt.toISOString(),
      finished_at: this.finishedAt.toISOString(),
      first_run: this.firstRun,
      loads_ids: this.loadsIds,
      item_counts: this.itemCounts,
      load_packages: this.loadPackages,
    };
  }

  toString(): string {
    const lines = [
      `Pipeline ${this.pipelineName} extract step completed in ${formatElapsed(elapsed(this))}`,
      ...this.loadPackages.map((p) => packageLine(p, 1)),
    ];
    return lines.join("\n");
  }
}

/** What `pipeline.normalize()` did. */
export class NormalizeInfo implements StepInfoFields {
  readonly pipelineName: string;
  readonly loadPackages: readonly LoadPackageInfo[];
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly firstRun: boolean;
  /** Rows normalized per table, over all packages. */
  readonly rowCounts: Readonly<Record<string, number>>;

  constructor(fields: StepInfoFields & { rowCounts: Record<string, number> }) {
    this.pipelineName = fields.pipelineName;
    this.loadPackages = fields.loadPackages;
    this.startedAt = fields.startedAt;
    this.finishedAt = fields.finishedAt;
    this.firstRun = fields.firstRun;
    this.rowCounts = Object.freeze({ ...fields.rowCounts });
  }

  get loadsIds(): string[] {
    return this.loadPackages.map((p) => p.loadId);
  }

  /** A plain object for JSON (traces, the CLI). */
  toJSON(): Record<string, unknown> {
    return {
      pipeline_name: this.pipelineName,
      started_at: this.startedAt.toISOString(),
      finished_at: this.finishedAt.toISOString(),
      first_run: this.firstRun,
      loads_ids: this.loadsIds,
      row_counts: this.rowCounts,
      load_packages: this.loadPackages,
    };
  }

  toString(): string {
    const tables = Object.entries(this.rowCounts);
    const head =
      tables.length === 0
        ? "No data found to normalize"
        : `Normalized data for the following tables:\n${tables.map(([t, n]) => `- ${t}: ${n} row(s)`).join("\n")}`;
    return [head, ...this.loadPackages.map((p) => packageLine(p, 1))].join("\n");
  }
}

/** Fields of {@link LoadInfo}. */
export interface LoadInfoFields extends StepInfoFields {
  readonly destinationName: string;
  readonly destinationType: string;
  readonly destinationDisplayableCredentials: string;
  readonly datasetName: string;
  /** The staging destination's name, when the load went through one. */
  readonly stagingName?: string | undefined;
  readonly stagingType?: string | undefined;
  /** Where the staging destination put the files (secrets masked). */
  readonly stagingDisplayableCredentials?: string | undefined;
}

/** What `pipeline.load()` / `pipeline.run()` did. `String(loadInfo)` prints dlt's lines. */
export class LoadInfo implements LoadInfoFields {
  readonly pipelineName: string;
  readonly loadPackages: readonly LoadPackageInfo[];
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly firstRun: boolean;
  readonly destinationName: string;
  readonly destinationType: string;
  readonly destinationDisplayableCredentials: string;
  readonly datasetName: string;
  readonly stagingName: string | undefined;
  readonly stagingType: string | undefined;
  readonly stagingDisplayableCredentials: string | undefined;

  constructor(fields: LoadInfoFields) {
    this.pipelineName = fields.pipelineName;
    this.loadPackages = fields.loadPackages;
    this.startedAt = fields.startedAt;
    this.finishedAt = fields.finishedAt;
    this.firstRun = fields.firstRun;
    this.destinationName = fields.destinationName;
    this.destinationType = fields.destinationType;
    this.destinationDisplayableCredentials = fields.destinationDisplayableCredentials;
    this.datasetName = fields.datasetName;
    this.stagingName = fields.stagingName;
    this.stagingType = fields.stagingType;
    this.stagingDisplayableCredentials = fields.stagingDisplayableCredentials;
  }

  /** Load ids of the packages, in load order. */
  get loadsIds(): string[] {
    return this.loadPackages.map((p) => p.loadId);
  }

  /** True when any package holds a failed job. */
  get hasFailedJobs(): boolean {
    return this.loadPackages.some((p) => p.jobs.some((j) => j.state === "failed_jobs"));
  }

  /** True when no package was loaded. */
  get isEmpty(): boolean {
    return this.loadPackages.length === 0;
  }

  /** Throws when any job failed (for `raiseOnFailedJobs: false` runs). */
  raiseOnFailedJobs(): void {
    if (!this.hasFailedJobs) return;
    const failed = this.loadPackages.flatMap((p) => p.jobs.filter((j) => j.state === "failed_jobs"));
    throw new TsdltError(
      `Destination \`${this.destinationName}\` has failed jobs: ${failed.map((j) => `\`${j.jobId}\`: ${j.failedMessage ?? ""}`).join("; ")}`,
      { code: "LOAD_JOB_FAILED", destination: this.destinationName, pipelineName: this.pipelineName },
    );
  }

  /** dlt's text form; `verbosity` ≥ 1 lists failed job messages. */
  asStr(verbosity = 1): string {
    // dlt names the dataset of the packages it loaded: `None` when it loaded none
    const dataset = this.loadPackages.length === 0 ? "None" : this.datasetName;
    const lines = [
      `Pipeline ${this.pipelineName} load step completed in ${formatElapsed(elapsed(this))}`,
      `${this.loadPackages.length} load package(s) were loaded to destination ${this.destinationName} and into dataset ${dataset}`,
      ...(this.stagingName === undefined
        ? []
        : [
            `The ${this.stagingName} staging destination used ${this.stagingDisplayableCredentials ?? "---"} location to stage data`,
          ]),
      `The ${this.destinationName} destination used ${this.destinationDisplayableCredentials} location to store data`,
      ...this.loadPackages.map((p) => packageLine(p, verbosity)),
    ];
    return lines.join("\n");
  }

  toString(): string {
    return this.asStr(1);
  }

  /** A plain object for JSON (traces, the CLI). */
  toJSON(): Record<string, unknown> {
    return {
      pipeline_name: this.pipelineName,
      destination_name: this.destinationName,
      destination_type: this.destinationType,
      destination_displayable_credentials: this.destinationDisplayableCredentials,
      dataset_name: this.datasetName,
      ...(this.stagingName === undefined
        ? {}
        : {
            staging_name: this.stagingName,
            staging_type: this.stagingType,
            staging_displayable_credentials: this.stagingDisplayableCredentials,
          }),
      started_at: this.startedAt.toISOString(),
      finished_at: this.finishedAt.toISOString(),
      first_run: this.firstRun,
      loads_ids: this.loadsIds,
      load_packages: this.loadPackages,
    };
  }
}

function elapsed(info: StepInfoFields): number {
  return (info.finishedAt.getTime() - info.startedAt.getTime()) / 1000;
}
