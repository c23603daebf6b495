import { describe, expect, it } from "vitest";
import {
  DestinationError,
  ERROR_CODES,
  ExtractError,
  isTsdltError,
  LoadJobError,
  NormalizeError,
  PIPELINE_STEPS,
  PipelineStepFailed,
  SchemaError,
  TsdltError,
  toTsdltError,
} from "../src/index.js";

describe("TsdltError", () => {
  it("should carry code, retryable, cause and context fields", () => {
    const cause = new Error("connection reset");
    const error = new TsdltError("load failed", {
      code: "DESTINATION_TRANSIENT",
      retryable: true,
      cause,
      pipelineName: "p",
      loadId: "1700000000.5",
      jobId: "users.abc.jsonl",
      table: "users",
      destination: "duckdb",
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("TsdltError");
    expect(error.message).toBe("load failed");
    expect(error.code).toBe("DESTINATION_TRANSIENT");
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.attrs()).toEqual({
      code: "DESTINATION_TRANSIENT",
      retryable: true,
      pipelineName: "p",
      loadId: "1700000000.5",
      jobId: "users.abc.jsonl",
      table: "users",
      destination: "duckdb",
    });
  });

  it("should default to UNKNOWN, not retryable and no cause", () => {
    const error = new TsdltError("x");
    expect(error.code).toBe("UNKNOWN");
    expect(error.retryable).toBe(false);
    expect("cause" in error).toBe(false);
    expect(error.attrs()).toEqual({ code: "UNKNOWN", retryable: false });
  });

  it("should document every code", () => {
    for (const [code, description] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(description.length).toBeGreaterThan(10);
    }
  });

  it.each([
    [SchemaError, "SchemaError"],
    [ExtractError, "ExtractError"],
    [NormalizeError, "NormalizeError"],
    [LoadJobError, "LoadJobError"],
    [DestinationError, "DestinationError"],
  ] as const)("should name the subclass %o and keep it a TsdltError", (ErrorClass, name) => {
    const error = new ErrorClass("boom", { code: "DESTINATION_ERROR", table: "t" });
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(TsdltError);
    expect(isTsdltError(error, "DESTINATION_ERROR")).toBe(true);
    expect(error.table).toBe("t");
  });
});

describe("isTsdltError", () => {
  it("should recognise tsdlt errors and check the code", () => {
    const error = new TsdltError("x", { code: "SCHEMA_INVALID" });
    expect(isTsdltError(error)).toBe(true);
    expect(isTsdltError(error, "SCHEMA_INVALID")).toBe(true);
    expect(isTsdltError(error, "UNKNOWN")).toBe(false);
  });

  it("should recognise an error from another copy of the package by its global brand", () => {
    // What another copy of @tsdlt/core would construct: not our class, but the same registered symbol.
    class ForeignTsdltError extends Error {
      readonly code = "LOAD_JOB_FAILED";
      readonly retryable = false;
      constructor(message: string) {
        super(message);
        Object.defineProperty(this, Symbol.for("tsdlt.error"), { value: true });
      }
    }
    const foreign = new ForeignTsdltError("from elsewhere");
    expect(foreign).not.toBeInstanceOf(TsdltError);
    expect(isTsdltError(foreign)).toBe(true);
    expect(isTsdltError(foreign, "LOAD_JOB_FAILED")).toBe(true);
    expect(isTsdltError(foreign, "UNKNOWN")).toBe(false);
    expect(toTsdltError(foreign)).toBe(foreign);
  });

  it.each([
    new Error("plain"),
    { code: "UNKNOWN" },
    { [Symbol.for("tsdlt.error")]: false },
    { [Symbol("tsdlt.error")]: true },
    "TsdltError",
    null,
    undefined,
  ])("should not recognise %o", (value) => {
    expect(isTsdltError(value)).toBe(false);
  });
});

describe("toTsdltError", () => {
  it("should return a tsdlt error as is", () => {
    const error = new SchemaError("x", { code: "SCHEMA_INVALID" });
    expect(toTsdltError(error)).toBe(error);
  });

  it("should wrap a plain error, keeping its message, name and the error as cause", () => {
    const plain = new TypeError("cannot read properties of undefined");
    const wrapped = toTsdltError(plain);
    expect(wrapped).toBeInstanceOf(TsdltError);
    expect(wrapped.message).toBe("cannot read properties of undefined");
    expect(wrapped.name).toBe("TypeError");
    expect(wrapped.code).toBe("UNKNOWN");
    expect(wrapped.retryable).toBe(false);
    expect(wrapped.cause).toBe(plain);
  });

  it.each([
    ["a string", "a string"],
    [42, "42"],
    [undefined, "undefined"],
  ])("should wrap the thrown value %o", (value, message) => {
    const wrapped = toTsdltError(value);
    expect(wrapped).toBeInstanceOf(TsdltError);
    expect(wrapped.message).toBe(message);
    expect(wrapped.cause).toBe(value);
  });
});

describe("PipelineStepFailed", () => {
  it("should name the step, the load id and the cause in its message", () => {
    const cause = new DestinationError("table `users` is locked", {
      code: "DESTINATION_TRANSIENT",
      retryable: true,
      table: "users",
      destination: "duckdb",
    });
    const error = new PipelineStepFailed({
      pipelineName: "p",
      step: "load",
      loadId: "1700000000.5",
      cause,
    });
    expect(error.name).toBe("PipelineStepFailed");
    expect(error.code).toBe("PIPELINE_STEP_FAILED");
    expect(error.message).toContain("`step=load`");
    expect(error.message).toContain("`load_id=1700000000.5`");
    expect(error.message).toContain("table `users` is locked");
    expect(error.message).toContain("DestinationError");
    expect(error.message).not.toContain("Pending packages");
    expect(error.step).toBe("load");
    expect(error.loadId).toBe("1700000000.5");
    expect(error.pipelineName).toBe("p");
    expect(error.cause).toBe(cause);
    expect(error.exception).toBe(cause);
    expect(error.retryable).toBe(true);
    expect(error.table).toBe("users");
    expect(error.destination).toBe("duckdb");
    expect(error.hasPendingData).toBe(false);
    expect(isTsdltError(error, "PIPELINE_STEP_FAILED")).toBe(true);
  });

  it("should leave out the load id when there is none and wrap a plain cause", () => {
    const cause = new Error("generator exploded");
    const error = new PipelineStepFailed({ pipelineName: "p", step: "extract", cause });
    expect(error.message).toContain("`step=extract`");
    expect(error.message).not.toContain("load_id");
    expect(error.message).toContain("generator exploded");
    expect(error.exception).toBeInstanceOf(TsdltError);
    expect(error.exception.cause).toBe(cause);
    expect(error.cause).toBe(cause);
  });

  it.each(["normalize", "load"] as const)(
    "should explain pending packages for %s with pending data",
    (step) => {
      const error = new PipelineStepFailed({
        pipelineName: "my_pipe",
        step,
        loadId: "1700000000.5",
        cause: new Error("x"),
        hasPendingData: true,
      });
      expect(error.hasPendingData).toBe(true);
      expect(error.message).toContain("Pending packages are kept");
      expect(error.message).toContain("`run()` of `my_pipe`");
      expect(error.message).toContain("tsdlt pipeline my_pipe drop-pending-packages");
    },
  );

  it.each([
    { step: "extract", hasPendingData: true },
    { step: "sync", hasPendingData: true },
    { step: "run", hasPendingData: true },
    { step: "normalize", hasPendingData: false },
    { step: "load" },
  ] as const)("should not mention pending packages for $step with pending=$hasPendingData", (options) => {
    const error = new PipelineStepFailed({ pipelineName: "p", cause: "boom", ...options });
    expect(error.message).not.toContain("Pending packages");
    expect(error.message).toContain("boom");
  });

  it("should list the steps", () => {
    expect(PIPELINE_STEPS).toEqual(["extract", "normalize", "load", "sync", "run"]);
  });
});
