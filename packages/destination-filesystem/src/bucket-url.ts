/**
 * Bucket URLs (dlt's `bucket_url`): a local folder (`/data/lake`, `data/lake`, `file:///data/lake`)
 * or an S3 location (`s3://bucket/optional/prefix`). Other protocols (`gs://`, `az://`, `memory://`,
 * ...) are refused with a message that says so.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { REDACTED, TsdltError } from "@tsdlt/core";

/** Protocols this destination writes to. */
export const SUPPORTED_PROTOCOLS = ["file", "s3"] as const;
/** A supported protocol. */
export type BucketProtocol = (typeof SUPPORTED_PROTOCOLS)[number];

/** A parsed bucket URL. */
export type BucketLocation =
  | {
      readonly protocol: "file";
      /** Absolute local folder that holds the datasets. */
      readonly root: string;
    }
  | {
      readonly protocol: "s3";
      readonly bucket: string;
      /** Key prefix inside the bucket, without leading or trailing `/` (may be empty). */
      readonly prefix: string;
    };

/** True when `url` names a local folder (a path or a `file://` URL). */
export function isLocalBucketUrl(url: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === "file";
}

/**
 * Parses a bucket URL; relative local paths resolve against `localDir`.
 *
 * @throws TsdltError (`INVALID_ARGUMENT`) for an empty URL, or a protocol other than `file` and `s3`.
 */
export function parseBucketUrl(url: string, localDir: string): BucketLocation {
  if (typeof url !== "string" || url.trim() === "") {
    throw new TsdltError(
      "[tsdlt] [filesystem] No bucket URL: set `bucketUrl` (a local folder, `file:///abs/path` or `s3://bucket/path`) or `DESTINATION__FILESYSTEM__BUCKET_URL`.",
      { code: "INVALID_ARGUMENT", destination: "filesystem" },
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    return { protocol: "file", root: isAbsolute(url) ? resolve(url) : resolve(localDir, url) };
  }
  if (scheme === "file") {
    let root: string;
    try {
      root = fileURLToPath(url);
    } catch (cause) {
      throw new TsdltError(
        `[tsdlt] [filesystem] Bucket URL \`${maskBucketUrl(url)}\` is not a valid \`file://\` URL; write an absolute one such as \`file:///data/lake\`, or a plain path.`,
        { code: "INVALID_ARGUMENT", destination: "filesystem", cause },
      );
    }
    return { protocol: "file", root: resolve(root) };
  }
  if (scheme === "s3") {
    const rest = url.slice("s3://".length);
    const at = rest.lastIndexOf("@", rest.indexOf("/") === -1 ? rest.length : rest.indexOf("/"));
    const hostAndPath = at === -1 ? rest : rest.slice(at + 1);
    const slash = hostAndPath.indexOf("/");
    const bucket = slash === -1 ? hostAndPath : hostAndPath.slice(0, slash);
    const prefix = slash === -1 ? "" : hostAndPath.slice(slash + 1).replace(/^\/+|\/+$/g, "");
    if (bucket === "") {
      throw new TsdltError(
        `[tsdlt] [filesystem] Bucket URL \`${maskBucketUrl(url)}\` names no bucket; write \`s3://<bucket>/<optional path>\`.`,
        { code: "INVALID_ARGUMENT", destination: "filesystem" },
      );
    }
    return { protocol: "s3", bucket, prefix };
  }
  throw new TsdltError(
    `[tsdlt] [filesystem] Bucket URL protocol \`${scheme}://\` is not supported yet; tsdlt writes to local folders (a path or \`file://\`) and \`s3://\` buckets (also S3-compatible servers through \`credentials.endpointUrl\`).`,
    { code: "NOT_IMPLEMENTED", destination: "filesystem" },
  );
}

/** The URL of a location (local folders as `file://` URLs). */
export function locationUrl(location: BucketLocation): string {
  if (location.protocol === "file") return pathToFileURL(location.root).href;
  return `s3://${location.bucket}${location.prefix === "" ? "" : `/${location.prefix}`}`;
}

/**
 * The bucket URL with credentials masked: a password (or an access key secret) in the user info and
 * secret-looking query parameters are replaced by `***`.
 */
export function maskBucketUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_m, scheme: string, userInfo: string) => {
      const colon = userInfo.indexOf(":");
      return colon === -1 ? `${scheme}${REDACTED}@` : `${scheme}${userInfo.slice(0, colon)}:${REDACTED}@`;
    })
    .replace(
      /([?&](?:[^=&]*(?:secret|token|password|key|sig|signature|credential)[^=&]*)=)[^&]*/gi,
      `$1${REDACTED}`,
    );
}
