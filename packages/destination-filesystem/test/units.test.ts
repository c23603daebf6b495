/** Small pieces: exact value conversions, bucket URLs and masking, system file names, options. */
import { describe, expect, it } from "vitest";
import {
  filesystem,
  hashToPathSafe,
  maskBucketUrl,
  parseBucketUrl,
  parseSystemFileName,
  stateFilePath,
} from "../src/index.js";
import { parquetDecimal } from "../src/parquet-file.js";
import { dateToDays, decimalToUnscaled, timestampToEpoch, timeToUnits } from "../src/values.js";

describe("value conversions", () => {
  it.each([
    ["2024-03-01T10:20:30.123456Z", "MICROS", 1709288430123456n],
    ["2024-03-01T10:20:30.123456789Z", "NANOS", 1709288430123456789n],
    ["2024-03-01T10:20:30.1239Z", "MILLIS", 1709288430123n],
    ["2024-03-01T12:20:30+02:00", "MICROS", 1709288430000000n],
    ["2024-03-01 10:20:30", "MICROS", 1709288430000000n],
    ["1969-12-31T23:59:59.999999Z", "MICROS", -1n],
    ["0001-01-01T00:00:00Z", "MICROS", -62135596800000000n],
  ] as const)("should convert timestamp %s to %s exactly", (text, unit, expected) => {
    expect(timestampToEpoch(text, unit)).toBe(expected);
  });

  it("should refuse text that is no timestamp, date or time", () => {
    expect(timestampToEpoch("yesterday", "MICROS")).toBeUndefined();
    expect(timestampToEpoch("2024-13-01T00:00:00Z", "MICROS")).toBeUndefined();
    expect(dateToDays("01/02/2024")).toBeUndefined();
    expect(timeToUnits("noon", "MICROS")).toBeUndefined();
  });

  it("should convert dates and times", () => {
    expect(dateToDays("1970-01-02")).toBe(1);
    expect(dateToDays("1969-12-31")).toBe(-1);
    expect(timeToUnits("08:30:00.25", "MICROS")).toBe(30_600_250_000n);
    expect(timeToUnits("23:59:59.999999999", "NANOS")).toBe(86_399_999_999_999n);
  });

  it.each([
    ["12.34", 38, 9, 12_340_000_000n],
    ["-0.000000001", 38, 9, -1n],
    ["1E+3", 10, 2, 100_000n],
    ["12.3400000000000", 38, 9, 12_340_000_000n],
    [42n, 78, 0, 42n],
  ] as const)("should scale decimal %s to DECIMAL(%i,%i)", (value, precision, scale, expected) => {
    expect(decimalToUnscaled(value, precision, scale)).toBe(expected);
  });

  it("should refuse decimals that lose digits or do not fit", () => {
    expect(() => decimalToUnscaled("0.0000000001", 38, 9)).toThrow(/more than 9 fraction digit/);
    expect(() => decimalToUnscaled("123456", 5, 0)).toThrow(/more than 5 digit/);
    expect(() => decimalToUnscaled("abc", 38, 9)).toThrow(/not a decimal number/);
  });

  it("should store decimals as pyarrow does", () => {
    expect(parquetDecimal(38, 9)).toEqual({ precision: 38, scale: 9, length: 16 });
    expect(parquetDecimal(10, 2)).toEqual({ precision: 10, scale: 2, length: 5 });
    expect(parquetDecimal(50, 0)).toEqual({ precision: 50, scale: 0, length: 32 });
    expect(parquetDecimal(78, 0)).toEqual({ precision: 76, scale: 0, length: 32 });
  });
});

describe("bucket URLs", () => {
  it("should resolve local paths and file:// URLs", () => {
    expect(parseBucketUrl("lake", "/work")).toEqual({ protocol: "file", root: "/work/lake" });
    expect(parseBucketUrl("/data/lake/", "/work")).toEqual({ protocol: "file", root: "/data/lake" });
    expect(parseBucketUrl("file:///data/lake", "/work")).toEqual({ protocol: "file", root: "/data/lake" });
  });

  it("should split s3 URLs into bucket and prefix", () => {
    expect(parseBucketUrl("s3://my-bucket", "/")).toEqual({
      protocol: "s3",
      bucket: "my-bucket",
      prefix: "",
    });
    expect(parseBucketUrl("s3://my-bucket/a/b/", "/")).toEqual({
      protocol: "s3",
      bucket: "my-bucket",
      prefix: "a/b",
    });
  });

  it("should refuse other protocols as not supported yet", () => {
    expect(() => parseBucketUrl("gs://bucket/x", "/")).toThrow(/`gs:\/\/` is not supported yet/);
    expect(() => parseBucketUrl("az://c/x", "/")).toThrow(/not supported yet/);
  });

  it("should mask credentials in the display location", () => {
    expect(maskBucketUrl("s3://AKIA:secret@bucket/path")).toBe("s3://AKIA:***@bucket/path");
    expect(maskBucketUrl("s3://bucket/path?aws_secret_access_key=x&region=eu")).toBe(
      "s3://bucket/path?aws_secret_access_key=***&region=eu",
    );
    const context = { pipelineName: "p", datasetName: "d", workingDir: "/w", localDir: "/work" };
    expect(filesystem({ bucketUrl: "lake" }).displayLocation(context)).toBe("file:///work/lake");
    expect(filesystem({ bucketUrl: "s3://k:secret@b/p" }).displayLocation(context)).toBe("s3://k:***@b/p");
  });
});

describe("system file names", () => {
  it("should round-trip names that contain the separator", () => {
    const hash = Buffer.from("state-hash").toString("base64");
    const path = stateFilePath("data", "my__pipeline", "1719000000.5", hash);
    expect(path).toBe(`data/_dlt_pipeline_state/my__pipeline__1719000000.5__${hashToPathSafe(hash)}.jsonl`);
    expect(parseSystemFileName(path, 3)).toEqual({
      path,
      name: "my__pipeline",
      loadId: "1719000000.5",
      hash: Buffer.from("state-hash").toString("hex"),
    });
    expect(parseSystemFileName("data/_dlt_loads/schema__1719000000.5.jsonl", 2)?.loadId).toBe("1719000000.5");
    expect(parseSystemFileName("data/_dlt_loads/init", 2)).toBeUndefined();
    expect(parseSystemFileName("data/_dlt_loads/schema__notaload.jsonl", 2)).toBeUndefined();
  });
});

describe("options", () => {
  it("should refuse bad options with messages that say what to do", () => {
    expect(() => filesystem({ fileFormat: "xlsx" as never })).toThrow(
      /`fileFormat` is "xlsx"; use one of `jsonl`, `parquet`, `csv`/,
    );
    expect(() => filesystem({ bucketUrl: "" })).toThrow(/`bucketUrl` must be a non-empty string/);
    expect(() => filesystem({ credentials: "secret" as never })).toThrow(/`credentials` must be an object/);
  });

  it("should say how to set the bucket URL when none is configured", async () => {
    const destination = filesystem({ destinationName: "lake_without_url" });
    const context = { pipelineName: "p", datasetName: "d", workingDir: "/w", localDir: "/work" };
    expect(() => destination.displayLocation(context)).toThrow(/DESTINATION__LAKE_WITHOUT_URL__BUCKET_URL/);
  });

  it("should take the bucket URL from config", () => {
    process.env.DESTINATION__FILESYSTEM__BUCKET_URL = "/from/env";
    try {
      const context = { pipelineName: "p", datasetName: "d", workingDir: "/w", localDir: "/work" };
      expect(filesystem().displayLocation(context)).toBe("file:///from/env");
    } finally {
      delete process.env.DESTINATION__FILESYSTEM__BUCKET_URL;
    }
  });
});
