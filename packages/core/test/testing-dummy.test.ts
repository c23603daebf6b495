/**
 * `@tsdlt/core/testing` on itself: the conformance suite passes on the dummy destination (which
 * claims state sync, but no load transactions and no staging), and the dummy's failure injection
 * and the suite's helpers behave as documented.
 */
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import {
  canonicalValue,
  conformanceSchema,
  DestinationFixture,
  dummyDestination,
  eventsTable,
  parseJsonLine,
  readDummyTable,
  testDestination,
  toJsonLine,
  valueProblem,
} from "../src/testing/index.js";

testDestination({
  test: vitest,
  create: () => dummyDestination(),
  readTable: readDummyTable,
  skip: { loadTransaction: true },
});

describe("parseJsonLine / toJsonLine", () => {
  it("should keep integers beyond 2^53 exact and leave the rest to JSON.parse", () => {
    const line = toJsonLine({
      a: 9007199254740993n,
      b: "12345678901234567890",
      c: [1.5, -2],
      d: { e: -9007199254740993n },
    });
    expect(line).toBe(
      '{"a":9007199254740993,"b":"12345678901234567890","c":[1.5,-2],"d":{"e":-9007199254740993}}',
    );
    expect(parseJsonLine(line)).toEqual({
      a: 9007199254740993n,
      b: "12345678901234567890",
      c: [1.5, -2],
      d: { e: -9007199254740993n },
    });
    expect(parseJsonLine('{"x":"a\\"1234567890123456789","y":1e300}')).toEqual({
      x: 'a"1234567890123456789',
      y: 1e300,
    });
  });
});

describe("canonicalValue", () => {
  it.each([
    ["bigint", 12n, "12"],
    ["bigint", "9007199254740993", "9007199254740993"],
    ["decimal", "12.345000000", "12.345"],
    ["decimal", "-0.0010", "-0.001"],
    ["wei", "0", "0"],
    ["timestamp", "2024-05-01 10:00:00.123456+00", "2024-05-01T10:00:00.123Z"],
    ["timestamp", "2024-05-01T12:00:00.123+02:00", "2024-05-01T10:00:00.123Z"],
    ["timestamp", new Date("2024-05-01T10:00:00.123Z"), "2024-05-01T10:00:00.123Z"],
    ["time", "07:30:00.500000", "07:30:00.5"],
    ["time", "7:30", "07:30:00"],
    ["binary", new Uint8Array([104, 105]), "aGk="],
    ["json", '{"b":1,"a":[true,null]}', '{"a":[true,null],"b":1}'],
    ["json", { b: 1, a: [true, null] }, '{"a":[true,null],"b":1}'],
    ["date", "1990-01-31", "1990-01-31"],
    ["double", "1.5", 1.5],
  ] as const)("should turn %s %o into %o", (dataType, value, expected) => {
    expect(canonicalValue(dataType, value)).toEqual(expected);
  });
});

describe("valueProblem", () => {
  it("should accept values as normalize writes them and name what does not fit", () => {
    expect(valueProblem("bigint", 9007199254740993n)).toBeUndefined();
    expect(valueProblem("timestamp", "2024-05-01T10:00:00Z")).toBeUndefined();
    expect(valueProblem("bigint", "not a number")).toBe('"not a number" is not an integer');
    expect(valueProblem("bool", 1)).toBe("1 is not a boolean");
  });
});

describe("dummyDestination", () => {
  async function ready(destination: ReturnType<typeof dummyDestination>) {
    const schema = conformanceSchema([eventsTable()]);
    const fixture = DestinationFixture.create(destination, readDummyTable);
    const client = await fixture.open(schema);
    await client.initializeStorage();
    await client.updateStoredSchema();
    return { fixture, client, loadId: fixture.newLoadId() };
  }

  it("should fail a job by rule for its first attempts only, and record every attempt", async () => {
    const destination = dummyDestination({ jobFailures: [{ table: "events", retryable: true, times: 2 }] });
    const { fixture, client, loadId } = await ready(destination);
    const file = fixture.writeJob(loadId, "events", [{ id: 1, _dlt_id: "e1" }]);
    const attempt = () => fixture.runJob(client, eventsTable(), file, loadId);
    await expect(attempt()).rejects.toMatchObject({ retryable: true, code: "DESTINATION_TRANSIENT" });
    await expect(attempt()).rejects.toMatchObject({ retryable: true });
    await attempt();
    expect(destination.attempts.map((a) => a.outcome)).toEqual(["retry", "retry", "completed"]);
    expect(destination.rows(fixture.context.datasetName, "events")).toHaveLength(1);
    await fixture.dispose();
  });

  it("should draw random failures from the injected random source", async () => {
    const draws = [0.1, 0.9, 0.2, 0.9, 0.9];
    const destination = dummyDestination({
      failProbability: 0.5,
      retryProbability: 0.5,
      random: () => draws.shift() ?? 1,
    });
    const { fixture, client, loadId } = await ready(destination);
    const file = fixture.writeJob(loadId, "events", [{ id: 1, _dlt_id: "e1" }]);
    const attempt = () => fixture.runJob(client, eventsTable(), file, loadId);
    await expect(attempt()).rejects.toMatchObject({ retryable: false }); // 0.1 < failProbability
    await expect(attempt()).rejects.toMatchObject({ retryable: true }); // 0.9, then 0.2 < retryProbability
    await attempt(); // 0.9, 0.9
    expect(destination.attempts.map((a) => a.outcome)).toEqual(["failed", "retry", "completed"]);
    await fixture.dispose();
  });

  it("should fail client steps as injected and reject use after dispose", async () => {
    const destination = dummyDestination({
      stepFailures: { completeLoad: { retryable: false, message: "no" } },
    });
    const { fixture, client, loadId } = await ready(destination);
    await expect(client.completeLoad(loadId)).rejects.toMatchObject({ message: "no", retryable: false });
    await fixture.close(client);
    await expect(client.isStorageInitialized()).rejects.toMatchObject({ code: "CLIENT_DISPOSED" });
    await fixture.dispose();
  });
});
