/**
 * A {@link FileStore} over an S3 bucket (or an S3-compatible server such as MinIO or moto, through
 * `endpointUrl`), with `@aws-sdk/client-s3` loaded on first use. Objects are uploaded whole with one
 * `PutObject` (so each file appears atomically, up to S3's 5 GiB single-upload limit); converted files
 * are written to a local temporary folder first. The bucket must exist: it is never created.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { DestinationError } from "@tsdlt/core";
import type { FileStore } from "./file-store.js";

/** The `@aws-sdk/client-s3` module. */
export type S3Module = typeof import("@aws-sdk/client-s3");

/**
 * AWS credentials and client settings (dlt's `AwsCredentials`). Anything not given comes from the
 * AWS SDK's default chain (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`, instance roles, ...).
 */
export interface AwsCredentials {
  readonly awsAccessKeyId?: string;
  readonly awsSecretAccessKey?: string;
  readonly awsSessionToken?: string;
  /** @default the SDK's region, else `us-east-1` */
  readonly regionName?: string;
  /** An S3-compatible endpoint such as `http://127.0.0.1:9000`; switches to path-style addressing. */
  readonly endpointUrl?: string;
}

let loading: Promise<S3Module> | undefined;

/** Imports `@aws-sdk/client-s3` once; a failed import is retried on the next call. */
export function loadS3(): Promise<S3Module> {
  loading ??= import("@aws-sdk/client-s3").catch((cause: unknown) => {
    loading = undefined;
    throw new DestinationError(
      "[tsdlt] [filesystem] `@aws-sdk/client-s3` could not be loaded, so `s3://` buckets cannot be written. Reinstall it (`npm install @aws-sdk/client-s3`).",
      { code: "DESTINATION_TERMINAL", retryable: false, destination: "filesystem", cause },
    );
  });
  return loading;
}

/** Why an S3 call failed, as the load stage needs it. */
export type S3ErrorReason = "transient" | "not_found" | "access_denied" | "terminal";

const TRANSIENT_NAMES = new Set([
  "SlowDown",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "ThrottlingException",
  "Throttling",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError",
  "RequestTimeoutException",
]);
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
]);

/**
 * Classifies an S3 client failure: throttling, server errors (5xx) and network failures are
 * transient; missing keys/buckets, access errors and other 4xx are not.
 */
export function classifyS3Error(cause: unknown): S3ErrorReason {
  const e = cause as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name ?? "";
  if (name === "NoSuchKey" || name === "NotFound" || name === "NoSuchBucket") return "not_found";
  if (name === "AccessDenied" || name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch") {
    return "access_denied";
  }
  if (status === 403) return "access_denied";
  if (status === 404) return "not_found";
  if (TRANSIENT_NAMES.has(name) || (e?.code !== undefined && TRANSIENT_CODES.has(e.code))) return "transient";
  if (status !== undefined && (status >= 500 || status === 429)) return "transient";
  if (status === undefined && /ECONNRE|socket|network|timed? ?out/i.test(String((cause as Error)?.message))) {
    return "transient";
  }
  return "terminal";
}

/** Wraps an S3 failure in a {@link DestinationError} that says what was done and whether a retry may help. */
export function s3Error(cause: unknown, what: string): DestinationError {
  const reason = classifyS3Error(cause);
  const retryable = reason === "transient";
  const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  const hint =
    reason === "access_denied"
      ? " Check the AWS credentials (`credentials.awsAccessKeyId` / `awsSecretAccessKey` or the SDK's default chain) and the bucket policy."
      : reason === "not_found"
        ? " Check that the bucket exists; tsdlt does not create buckets."
        : "";
  return new DestinationError(`[tsdlt] [filesystem] ${what} failed: ${detail}.${hint}`, {
    code: retryable ? "DESTINATION_TRANSIENT" : "DESTINATION_TERMINAL",
    retryable,
    destination: "filesystem",
    cause,
  });
}

/** A {@link FileStore} over `s3://<bucket>/<prefix>`. */
export class S3FileStore implements FileStore {
  readonly protocol = "s3" as const;
  readonly bucket: string;
  readonly prefix: string;
  readonly #credentials: AwsCredentials;
  #client: Promise<{ sdk: S3Module; client: InstanceType<S3Module["S3Client"]> }> | undefined;
  #tempDir: Promise<string> | undefined;

  constructor(bucket: string, prefix: string, credentials: AwsCredentials = {}) {
    this.bucket = bucket;
    this.prefix = prefix;
    this.#credentials = credentials;
  }

  /** The object key of a bucket-relative path. */
  key(path: string): string {
    return this.prefix === "" ? path : `${this.prefix}/${path}`;
  }

  url(path: string): string {
    return `s3://${this.bucket}/${this.key(path)}`;
  }

  pathOf(url: string): string | undefined {
    const base = this.url("");
    const start = base.endsWith("/") ? base : `${base}/`;
    return url.startsWith(start) && url.length > start.length ? url.slice(start.length) : undefined;
  }

  async openRead(path: string): Promise<Readable> {
    const { sdk, client } = await this.#connect();
    try {
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      if (!(out.Body instanceof Readable)) throw new Error("the answer has no readable body");
      return out.Body;
    } catch (cause) {
      throw s3Error(cause, `Reading \`${this.url(path)}\``);
    }
  }

  #connect(): Promise<{ sdk: S3Module; client: InstanceType<S3Module["S3Client"]> }> {
    this.#client ??= loadS3().then((sdk) => {
      const c = this.#credentials;
      const region = c.regionName ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
      const client = new sdk.S3Client({
        region,
        ...(c.endpointUrl !== undefined && { endpoint: c.endpointUrl, forcePathStyle: true }),
        ...(c.awsAccessKeyId !== undefined &&
          c.awsSecretAccessKey !== undefined && {
            credentials: {
              accessKeyId: c.awsAccessKeyId,
              secretAccessKey: c.awsSecretAccessKey,
              ...(c.awsSessionToken !== undefined && { sessionToken: c.awsSessionToken }),
            },
          }),
      });
      return { sdk, client };
    });
    return this.#client;
  }

  async tempFileFor(path: string): Promise<string> {
    this.#tempDir ??= mkdtemp(join(tmpdir(), "tsdlt-s3-"));
    const name = path.replaceAll("/", "__");
    return join(await this.#tempDir, `${Date.now().toString(36)}-${name}`);
  }

  async commitFile(tempFile: string, path: string): Promise<void> {
    try {
      await this.copyIn(tempFile, path);
    } finally {
      await rm(tempFile, { force: true });
    }
  }

  async copyIn(localFile: string, path: string): Promise<void> {
    const { sdk, client } = await this.#connect();
    const { size } = await stat(localFile);
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          Body: createReadStream(localFile),
          ContentLength: size,
        }),
      );
    } catch (cause) {
      throw s3Error(cause, `Uploading \`${this.url(path)}\``);
    }
  }

  async writeText(path: string, text: string): Promise<void> {
    const { sdk, client } = await this.#connect();
    try {
      await client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: text }));
    } catch (cause) {
      throw s3Error(cause, `Writing \`${this.url(path)}\``);
    }
  }

  async readText(path: string): Promise<string | undefined> {
    const { sdk, client } = await this.#connect();
    try {
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return (await out.Body?.transformToString("utf-8")) ?? "";
    } catch (cause) {
      if (classifyS3Error(cause) === "not_found" && (cause as Error).name !== "NoSuchBucket")
        return undefined;
      throw s3Error(cause, `Reading \`${this.url(path)}\``);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { sdk, client } = await this.#connect();
    const keyPrefix = this.key(prefix);
    const strip = this.prefix === "" ? 0 : this.prefix.length + 1;
    const out: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: keyPrefix,
            ...(token !== undefined && { ContinuationToken: token }),
          }),
        );
        for (const item of page.Contents ?? []) {
          if (item.Key !== undefined && !item.Key.endsWith("/")) out.push(item.Key.slice(strip));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (cause) {
      throw s3Error(cause, `Listing \`${this.url(prefix)}\``);
    }
    return out.sort();
  }

  async exists(path: string): Promise<boolean> {
    const { sdk, client } = await this.#connect();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return true;
    } catch (cause) {
      if (classifyS3Error(cause) === "not_found") return false;
      throw s3Error(cause, `Checking \`${this.url(path)}\``);
    }
  }

  async deleteFiles(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    const { sdk, client } = await this.#connect();
    for (let i = 0; i < paths.length; i += 1000) {
      const chunk = paths.slice(i, i + 1000);
      let errors: { Key?: string | undefined; Code?: string | undefined; Message?: string | undefined }[];
      try {
        const out = await client.send(
          new sdk.DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: chunk.map((p) => ({ Key: this.key(p) })), Quiet: true },
          }),
        );
        errors = out.Errors ?? [];
      } catch (cause) {
        throw s3Error(cause, `Deleting ${chunk.length} file(s) under \`${this.url("")}\``);
      }
      // DeleteObjects reports per-key failures in its answer instead of failing the call
      const failed = errors.filter((e) => e.Code !== "NoSuchKey");
      if (failed.length > 0) {
        const first = failed[0];
        throw s3Error(
          Object.assign(new Error(first?.Message ?? "delete refused"), { name: first?.Code ?? "Error" }),
          `Deleting \`s3://${this.bucket}/${first?.Key ?? "?"}\` (and ${failed.length - 1} more)`,
        );
      }
    }
  }

  async ensureFolder(_path: string): Promise<void> {}

  async close(): Promise<void> {
    const connected = this.#client;
    this.#client = undefined;
    if (connected) (await connected.catch(() => undefined))?.client.destroy();
    const temp = this.#tempDir;
    this.#tempDir = undefined;
    if (temp) await rm(await temp, { recursive: true, force: true });
  }
}
