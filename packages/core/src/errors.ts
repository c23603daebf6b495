/**
 * The error base of tsdlt: one root class, a documented `code` union, a `retryable` flag and
 * structured context fields. Layers subclass it; the load stage reads only `retryable`.
 */

/** Every error code tsdlt raises, with what it means. */
export const ERROR_CODES = {
  UNKNOWN: "An error that was not classified.",
  INVALID_ARGUMENT: "An argument or option has a value tsdlt cannot use.",
  NOT_IMPLEMENTED: "The option is accepted but its behaviour is not available in this release.",
  INVALID_PIPELINE_NAME: "A pipeline name that cannot be used as a folder name.",
  PIPELINE_CONFIG_MISSING: "A step needs configuration (such as a destination) that was not given.",
  PIPELINE_STEP_FAILED: "A pipeline step (extract, normalize, load, sync) failed.",
  PIPELINE_LOCKED: "Another process holds the pipeline's working folder.",
  CANNOT_RESTORE_PIPELINE:
    "`attach()` found no local working folder and no state of the pipeline in the destination.",
  SCHEMA_INVALID: "A schema document or name is invalid.",
  SCHEMA_CORRUPTED: "A stored schema could not be read.",
  IDENTIFIER_INVALID: "An identifier cannot be normalized (empty or not a string).",
  EXTRACT_INVALID_DATA: "Data handed to extract cannot be stored (function, symbol, cyclic object, ...).",
  EXTRACT_RESOURCE_FAILED: "A resource's generator threw while it was iterated.",
  NORMALIZE_FAILED: "A row could not be normalized.",
  CANNOT_COERCE_NULL: "A null value was sent into a non-nullable column.",
  CANNOT_COERCE_COLUMN: "A value could not be coerced into its column or variant column.",
  SCHEMA_CONTRACT_VIOLATION: "Data would change the schema in a way its schema contract freezes.",
  LOAD_PACKAGE_INVALID: "A load package on disk is incomplete or malformed.",
  LOAD_JOB_FAILED: "A load job failed terminally.",
  LOAD_JOB_RETRY: "A load job failed transiently and will be retried.",
  DESTINATION_ERROR: "The destination reported an error.",
  DESTINATION_TERMINAL: "The destination refused the operation; retrying will not help.",
  DESTINATION_TRANSIENT: "The destination failed in a way that may succeed when retried.",
  DESTINATION_NOT_FOUND: "A destination name could not be resolved to an installed package.",
  CLIENT_DISPOSED: "A destination client was used after it was disposed.",
  HTTP_REQUEST_FAILED:
    "An HTTP request of the REST client failed: an error status, a network error or a timeout.",
  STATE_CORRUPTED: "Pipeline state on disk or in the destination could not be read.",
  CONFIG_FIELD_MISSING: "A required config value or secret was found in no config provider.",
  CONFIG_VALUE_NOT_SECRET: "A secret was found in config.toml; it belongs in secrets.toml or env.",
  CONFIG_VALUE_INVALID: "A config value or credential cannot be parsed or fails validation.",
  CONFIG_FILE_INVALID: "A config.toml or secrets.toml file cannot be read or is not valid TOML.",
} as const;

/** A tsdlt error code. */
export type TsdltErrorCode = keyof typeof ERROR_CODES;

/** Structured context carried by errors, for messages and traces. Never holds secrets. */
export interface TsdltErrorContext {
  readonly pipelineName?: string | undefined;
  readonly step?: string | undefined;
  readonly loadId?: string | undefined;
  readonly jobId?: string | undefined;
  readonly table?: string | undefined;
  readonly column?: string | undefined;
  readonly path?: string | undefined;
  readonly destination?: string | undefined;
}

/** Options accepted by {@link TsdltError}. */
export interface TsdltErrorOptions extends TsdltErrorContext {
  readonly code?: TsdltErrorCode;
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

const BRAND: unique symbol = Symbol.for("tsdlt.error");

/**
 * The root of every error tsdlt throws.
 *
 * @example
 * ```ts
 * try { await pipeline.run(data) } catch (e) { if (isTsdltError(e, "PIPELINE_STEP_FAILED")) console.error(e.step) }
 * ```
 */
export class TsdltError extends Error implements TsdltErrorContext {
  override name = "TsdltError";
  readonly code: TsdltErrorCode;
  /** Whether repeating the same operation may succeed. The load stage retries only these. */
  readonly retryable: boolean;
  readonly pipelineName?: string | undefined;
  readonly step?: string | undefined;
  readonly loadId?: string | undefined;
  readonly jobId?: string | undefined;
  readonly table?: string | undefined;
  readonly column?: string | undefined;
  readonly path?: string | undefined;
  readonly destination?: string | undefined;

  constructor(message: string, options: TsdltErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "UNKNOWN";
    this.retryable = options.retryable ?? false;
    this.pipelineName = options.pipelineName;
    this.step = options.step;
    this.loadId = options.loadId;
    this.jobId = options.jobId;
    this.table = options.table;
    this.column = options.column;
    this.path = options.path;
    this.destination = options.destination;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** The structured context of this error, without undefined fields (for traces). */
  attrs(): Record<string, string | boolean> {
    const out: Record<string, string | boolean> = { code: this.code, retryable: this.retryable };
    for (const key of [
      "pipelineName",
      "step",
      "loadId",
      "jobId",
      "table",
      "column",
      "path",
      "destination",
    ] as const) {
      const value = this[key];
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
}

/** A schema is invalid or cannot be read. */
export class SchemaError extends TsdltError {
  override name = "SchemaError";
}

/** Extract could not read or store the user's data. */
export class ExtractError extends TsdltError {
  override name = "ExtractError";
}

/** Normalize could not turn a row into relational rows. */
export class NormalizeError extends TsdltError {
  override name = "NormalizeError";
}

/** A load job failed (terminal when `retryable` is false). */
export class LoadJobError extends TsdltError {
  override name = "LoadJobError";
}

/** A destination reported a failure; `retryable` comes from the destination's classifier. */
export class DestinationError extends TsdltError {
  override name = "DestinationError";
}

/** The steps a pipeline runs. */
export const PIPELINE_STEPS = ["extract", "normalize", "load", "sync", "run"] as const;
/** A pipeline step. */
export type PipelineStep = (typeof PIPELINE_STEPS)[number];

/** Options of {@link PipelineStepFailed}. */
export interface PipelineStepFailedOptions {
  readonly pipelineName: string;
  readonly step: PipelineStep;
  readonly loadId?: string | undefined;
  readonly cause: unknown;
  /** True when packages remain on disk that the next `run()` will finish. */
  readonly hasPendingData?: boolean;
  readonly stepInfo?: unknown;
}

/**
 * A pipeline step failed. The message names the step, the package and the underlying error, and says
 * what happens to pending data. The original error is `cause`; `exception` is the same error
 * normalised to a {@link TsdltError}.
 */
export class PipelineStepFailed extends TsdltError {
  override name = "PipelineStepFailed";
  declare readonly step: PipelineStep;
  readonly exception: TsdltError;
  readonly hasPendingData: boolean;
  readonly stepInfo: unknown;

  constructor(options: PipelineStepFailedOptions) {
    const exception = toTsdltError(options.cause);
    const where = options.loadId ? ` when processing package with \`load_id=${options.loadId}\`` : "";
    let message = `Pipeline execution failed at \`step=${options.step}\`${where} with exception:\n\n${exception.name}\n${exception.message}`;
    if (options.hasPendingData && (options.step === "normalize" || options.step === "load")) {
      message +=
        `\n\nPending packages are kept in the pipeline working folder and will be finished by the next \`run()\`` +
        ` of \`${options.pipelineName}\`. Inspect them with \`tsdlt pipeline ${options.pipelineName} info\`` +
        ` or delete them with \`tsdlt pipeline ${options.pipelineName} drop-pending-packages\`.`;
    }
    super(message, {
      code: "PIPELINE_STEP_FAILED",
      retryable: exception.retryable,
      cause: options.cause,
      pipelineName: options.pipelineName,
      step: options.step,
      loadId: options.loadId,
      table: exception.table,
      column: exception.column,
      path: exception.path,
      destination: exception.destination,
    });
    this.exception = exception;
    this.hasPendingData = options.hasPendingData ?? false;
    this.stepInfo = options.stepInfo;
  }
}

/**
 * True when `error` is a tsdlt error (optionally with the given code). Recognises errors from another
 * copy of this package through a global brand as well as by `instanceof`.
 */
export function isTsdltError(error: unknown, code?: TsdltErrorCode): error is TsdltError {
  const branded =
    error instanceof TsdltError ||
    (typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[BRAND] === true);
  return branded && (code === undefined || (error as TsdltError).code === code);
}

/** Returns `error` if it is a tsdlt error, otherwise wraps it (keeping it as `cause`). */
export function toTsdltError(error: unknown): TsdltError {
  if (isTsdltError(error)) return error;
  if (error instanceof Error) {
    const wrapped = new TsdltError(error.message, { cause: error });
    wrapped.name = error.name;
    return wrapped;
  }
  return new TsdltError(String(error), { cause: error });
}
