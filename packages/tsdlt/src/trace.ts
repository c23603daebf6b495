/**
 * The trace of the last run (REFERENCE §7.4): steps with timings, step infos and exceptions,
 * persisted as `trace.json` in the working folder so the CLI can read it. Holds no secrets: step
 * infos carry only displayable (masked) destination locations.
 */
import type { PipelineStep } from "@tsdlt/core";
import { formatElapsed } from "./humanize.js";

/** One step of a run. */
export interface PipelineStepTrace {
  readonly step: PipelineStep;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The step info as JSON (`LoadInfo#toJSON()` etc.). */
  readonly stepInfo?: Record<string, unknown> | undefined;
  /** The step info's text form (`String(info)`). */
  readonly stepInfoText?: string | undefined;
  /** Message of the exception the step failed with. */
  readonly exception?: string | undefined;
}

/** The persisted document. */
export interface PipelineTraceDoc {
  transaction_id: string;
  pipeline_name: string;
  started_at: string;
  finished_at?: string | undefined;
  steps: PipelineStepTrace[];
}

/** The trace of one `run()` (or of a single step called directly). */
export class PipelineTrace {
  readonly transactionId: string;
  readonly pipelineName: string;
  readonly startedAt: string;
  finishedAt: string | undefined;
  readonly steps: PipelineStepTrace[];

  constructor(doc: PipelineTraceDoc) {
    this.transactionId = doc.transaction_id;
    this.pipelineName = doc.pipeline_name;
    this.startedAt = doc.started_at;
    this.finishedAt = doc.finished_at;
    this.steps = [...doc.steps];
  }

  /** A new trace starting now. */
  static start(pipelineName: string): PipelineTrace {
    return new PipelineTrace({
      transaction_id: crypto.randomUUID(),
      pipeline_name: pipelineName,
      started_at: new Date().toISOString(),
      steps: [],
    });
  }

  /** True when a step failed. */
  get failed(): boolean {
    return this.steps.some((s) => s.exception !== undefined);
  }

  #last(step: PipelineStep): PipelineStepTrace | undefined {
    return this.steps.findLast((s) => s.step === step && s.exception === undefined);
  }

  /** Step info of the last successful extract, as JSON. */
  get lastExtractInfo(): Record<string, unknown> | undefined {
    return this.#last("extract")?.stepInfo;
  }

  /** Step info of the last successful normalize (with `row_counts`), as JSON. */
  get lastNormalizeInfo(): Record<string, unknown> | undefined {
    return this.#last("normalize")?.stepInfo;
  }

  /** Step info of the last successful load, as JSON. */
  get lastLoadInfo(): Record<string, unknown> | undefined {
    return this.#last("load")?.stepInfo;
  }

  /** dlt's text form: a summary line, then one line per step (with failure and step info). */
  toString(): string {
    const elapsed = (from: string, to: string | undefined) =>
      formatElapsed(to ? (Date.parse(to) - Date.parse(from)) / 1000 : undefined);
    const lines = [
      `Run started at ${this.startedAt} and ${this.failed ? "FAILED" : "COMPLETED"} in ${elapsed(this.startedAt, this.finishedAt)} with ${this.steps.length} steps.`,
    ];
    for (const s of this.steps) {
      let line = `Step ${s.step} ${s.exception === undefined ? "COMPLETED" : "FAILED"} in ${elapsed(s.startedAt, s.finishedAt)}.`;
      if (s.exception !== undefined) line += `\nFailed due to: ${s.exception}`;
      if (s.stepInfoText) line += `\n${s.stepInfoText}`;
      lines.push(line);
    }
    return lines.join("\n");
  }

  /** The persisted form. */
  toJSON(): PipelineTraceDoc {
    return {
      transaction_id: this.transactionId,
      pipeline_name: this.pipelineName,
      started_at: this.startedAt,
      finished_at: this.finishedAt,
      steps: this.steps,
    };
  }
}
