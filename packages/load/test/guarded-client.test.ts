import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type DestinationClient,
  isTsdltError,
  type LoadJobFile,
  parseJobFileName,
  Schema,
  TsdltError,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GuardedClient } from "../src/index.js";
import { type FileDestination, fileDestination } from "./file-destination.js";

let dir: string;
let dest: FileDestination;
let guarded: GuardedClient;
let inner: DestinationClient;

const context = (): { pipelineName: string; datasetName: string; workingDir: string; localDir: string } => ({
  pipelineName: "p",
  datasetName: "ds",
  workingDir: dir,
  localDir: dir,
});

function jobFile(fileName: string): LoadJobFile {
  return { path: join(dir, fileName), fileName, parsed: parseJobFileName(fileName) };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "tsdlt-guard-"));
  dest = fileDestination({ dir });
  inner = await dest.createClient(new Schema("s"), context());
  guarded = new GuardedClient(inner, dest.name);
});
afterEach(async () => {
  await guarded[Symbol.asyncDispose]();
  rmSync(dir, { recursive: true, force: true });
});

async function expectDisposed(promise: Promise<unknown>): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TsdltError);
  expect(isTsdltError(error, "CLIENT_DISPOSED")).toBe(true);
  expect((error as TsdltError).destination).toBe("file_dest");
  expect((error as Error).message).toContain("[file_dest]");
  expect((error as Error).message).toMatch(/used after it was disposed/);
}

describe("GuardedClient", () => {
  it("should initialise storage once however often and however concurrently it is asked", async () => {
    await Promise.all([guarded.initializeStorage(), guarded.initializeStorage()]);
    await guarded.initializeStorage();
    expect(dest.calls.initializeStorage).toBe(1);
  });

  it("should initialise storage before the first schema update, job or completed load", async () => {
    await guarded.updateStoredSchema();
    expect(dest.calls.initializeStorage).toBe(1);
    await guarded.createLoadJob({ name: "t", columns: {} }, jobFile("t.aaaaaaaaaa.0.jsonl"), "1.0");
    await guarded.completeLoad("1.0");
    expect(dest.calls.initializeStorage).toBe(1);
    expect(dest.calls.updateStoredSchema).toBe(1);
    expect(dest.calls.createLoadJob).toEqual(["t.aaaaaaaaaa.0.jsonl"]);
    expect(dest.calls.completeLoad).toEqual(["1.0"]);
  });

  it("should initialise lazily when the first call is a completed load", async () => {
    await guarded.completeLoad("1.0");
    expect(dest.calls.initializeStorage).toBe(1);
  });

  it("should expose the wrapped client while open", () => {
    expect(guarded.client).toBe(inner);
  });

  it("should dispose the wrapped client once", async () => {
    await guarded[Symbol.asyncDispose]();
    await guarded[Symbol.asyncDispose]();
    expect(dest.calls.dispose).toBe(1);
  });

  it("should dispose once with `await using`", async () => {
    {
      await using scoped = new GuardedClient(await dest.createClient(new Schema("s"), context()), dest.name);
      await scoped.initializeStorage();
    }
    expect(dest.calls.dispose).toBe(1);
  });

  it("should reject every use after dispose with CLIENT_DISPOSED", async () => {
    await guarded.initializeStorage();
    await guarded[Symbol.asyncDispose]();

    await expectDisposed(guarded.initializeStorage());
    await expectDisposed(guarded.updateStoredSchema());
    await expectDisposed(
      guarded.createLoadJob({ name: "t", columns: {} }, jobFile("t.aaaaaaaaaa.0.jsonl"), "1"),
    );
    await expectDisposed(guarded.completeLoad("1"));
    await expectDisposed(Promise.resolve().then(() => guarded.client));
    expect(dest.calls.createLoadJob).toEqual([]);
    expect(dest.calls.completeLoad).toEqual([]);
    expect(dest.calls.initializeStorage).toBe(1);
  });

  it("should reject initializeStorage after dispose with a rejected promise, not a synchronous throw", async () => {
    await guarded[Symbol.asyncDispose]();
    let result: Promise<void> | undefined;
    expect(() => {
      result = guarded.initializeStorage();
    }).not.toThrow();
    await expectDisposed(result ?? Promise.resolve());
  });
});
