/**
 * Staging destinations (dlt's `staging=`, REFERENCE §11.5): the job files of a package are first
 * written to a staging destination (the filesystem: a local folder or an `s3://` bucket), and the
 * final destination then loads them from there.
 *
 * How the pieces meet:
 * - A destination that can stage for others offers {@link Destination.asStagingDestination}; its
 *   clients' jobs say where their file went ({@link StagingLoadJob}) and the client manages the staged
 *   files ({@link WithStagedFiles}).
 * - The load stage runs every data job on the staging client, then records the staged file in the
 *   package as a reference job (`<table>.<file_id>.<retry>.reference`, the file holds the URL, as
 *   dlt's `.reference` jobs do) and hands that job to the final destination with
 *   {@link LoadJobFile.staged} filled in.
 * - The final destination declares which staged formats it reads in
 *   `capabilities.supportedStagingFileFormats` (and its default in `preferredStagingFileFormat`).
 */
import type { Readable } from "node:stream";
import type { LoaderFileFormat } from "./data-types.js";
import type { Destination, DestinationClient, LoadJob } from "./destination.js";
import { TsdltError } from "./errors.js";
import { formatJobFileName, type ParsedJobFileName } from "./load-package.js";

/** The file format (extension) of reference jobs. */
export const REFERENCE_FILE_FORMAT = "reference";

/** A file on the staging destination, as the final destination receives it with a reference job. */
export interface StagedFile {
  /** Where the file is: `file:///abs/path` or `s3://bucket/key`. */
  readonly url: string;
  /** Its format, from the extension (`jsonl`, `parquet`, `csv`). */
  readonly fileFormat: LoaderFileFormat;
  /** True when the name ends in `.gz` (a gzip-compressed `jsonl` copied as it is). */
  readonly compressed: boolean;
  /** The local path for `file://` URLs; undefined for remote files. */
  readonly localPath: string | undefined;
  /** Streams the file's bytes through the staging destination (works for local and remote files). */
  open(): Promise<Readable>;
}

/** A load job of a staging destination: it writes one file and knows its URL before it runs. */
export interface StagingLoadJob extends LoadJob {
  /** The URL of the file the job writes; recorded in the package's reference job. */
  readonly remoteUrl: string;
}

/** Type guard for {@link StagingLoadJob}. */
export function isStagingLoadJob(job: LoadJob): job is StagingLoadJob {
  return typeof (job as Partial<StagingLoadJob>).remoteUrl === "string";
}

/**
 * Optional ability of a staging destination's client: managing what it staged.
 */
export interface WithStagedFiles {
  /**
   * Deletes the staged files of `tables` that loads other than `loadId` left behind (dlt's
   * `truncate_tables_on_staging_destination_before_load`). Files of `loadId` itself are kept, so a
   * resumed load never loses what it already staged.
   */
  truncateStagedTables(tables: readonly string[], loadId: string): Promise<void>;
  /** Opens a staged file (a URL this client's jobs wrote) for reading. */
  openStagedFile(url: string): Promise<Readable>;
  /**
   * Called once the final destination completed `loadId`: deletes the staged files `urls` unless the
   * staging destination keeps them. Returns the URLs deleted.
   */
  releaseStagedFiles(loadId: string, urls: readonly string[]): Promise<readonly string[]>;
}

/** Type guard for {@link WithStagedFiles}. */
export function supportsStagedFiles(
  client: DestinationClient,
): client is DestinationClient & WithStagedFiles {
  const c = client as Partial<WithStagedFiles>;
  return (
    typeof c.truncateStagedTables === "function" &&
    typeof c.openStagedFile === "function" &&
    typeof c.releaseStagedFiles === "function"
  );
}

/** The reference job of a staged job file: same table, file id and retry count, format `reference`. */
export function referenceJobFileName(parsed: ParsedJobFileName): string {
  return formatJobFileName({ ...parsed, fileFormat: REFERENCE_FILE_FORMAT, compressed: false });
}

/** The content of a reference job: the staged file URLs, one a line (dlt's format). */
export function formatReferenceJob(urls: readonly string[]): string {
  return urls.join("\n");
}

/** The URLs in a reference job's content. */
export function parseReferenceJob(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

const STAGED_FORMATS: readonly LoaderFileFormat[] = ["jsonl", "parquet", "csv", "insert_values"];

/** The format and compression of a staged file, from its URL's extension. */
export function stagedFileFormat(url: string): { fileFormat: LoaderFileFormat; compressed: boolean } {
  const path = url.split(/[?#]/)[0] ?? url;
  const parts = (path.split("/").at(-1) ?? "").split(".");
  const compressed = parts.at(-1) === "gz";
  if (compressed) parts.pop();
  const ext = parts.at(-1) ?? "";
  if (!(STAGED_FORMATS as readonly string[]).includes(ext)) {
    throw new TsdltError(
      `Staged file \`${url}\` has no known file format extension (${STAGED_FORMATS.map((f) => `\`.${f}\``).join(", ")}).`,
      { code: "LOAD_PACKAGE_INVALID" },
    );
  }
  return { fileFormat: ext as LoaderFileFormat, compressed };
}

/**
 * The format of the files staged for `destination` (dlt's `merge_caps_file_formats`): `requested` when
 * both ends support it; otherwise the destination's preferred staging format when the staging
 * destination writes it, else the first of the destination's staging formats that it writes.
 *
 * @throws TsdltError (`INVALID_ARGUMENT`) when the destination loads no staged files, or `requested`
 * is not supported by both.
 */
export function resolveStagingFileFormat(
  destination: Pick<Destination, "name" | "capabilities">,
  staging: Pick<Destination, "name" | "capabilities">,
  requested?: LoaderFileFormat,
): LoaderFileFormat {
  const readable = destination.capabilities.supportedStagingFileFormats;
  const writable = staging.capabilities.supportedLoaderFileFormats;
  const list = (formats: readonly string[]): string => formats.map((f) => `\`${f}\``).join(", ");
  if (readable.length === 0) {
    throw new TsdltError(
      `Destination \`${destination.name}\` cannot load files from a staging destination (it declares no staging file formats). Remove \`staging\`.`,
      { code: "INVALID_ARGUMENT", destination: destination.name },
    );
  }
  if (requested !== undefined) {
    if (readable.includes(requested) && writable.includes(requested)) return requested;
    throw new TsdltError(
      `Loader file format \`${requested}\` cannot be used with staging \`${staging.name}\` and destination \`${destination.name}\`: the destination loads staged ${list(readable)} files and the staging destination writes ${list(writable)}. Pick one in both lists.`,
      { code: "INVALID_ARGUMENT", destination: destination.name },
    );
  }
  const preferred = destination.capabilities.preferredStagingFileFormat;
  if (preferred !== undefined && writable.includes(preferred)) return preferred;
  const common = readable.find((f) => writable.includes(f));
  if (common === undefined) {
    throw new TsdltError(
      `Staging \`${staging.name}\` writes ${list(writable)} files, and destination \`${destination.name}\` loads staged ${list(readable)} files: there is no format in common.`,
      { code: "INVALID_ARGUMENT", destination: destination.name },
    );
  }
  return common;
}

/**
 * The staging destination to use for `destination`: `staging` turned into its staging variant
 * ({@link Destination.asStagingDestination}) writing the format chosen by
 * {@link resolveStagingFileFormat} from `requested`, else the format `staging` was configured with.
 *
 * @throws TsdltError (`INVALID_ARGUMENT`) when `staging` cannot stage files or no format fits.
 */
export function prepareStagingDestination(
  destination: Destination,
  staging: Destination,
  requested?: LoaderFileFormat,
): Destination {
  if (typeof staging.asStagingDestination !== "function") {
    throw new TsdltError(
      `Destination \`${staging.name}\` cannot be used as a staging destination; use \`staging: "filesystem"\` (with \`[destination.filesystem] bucket_url\` configured) or a \`filesystem({ bucketUrl })\` destination object.`,
      { code: "INVALID_ARGUMENT", destination: staging.name },
    );
  }
  const fileFormat = resolveStagingFileFormat(
    destination,
    staging,
    requested ?? staging.configuredFileFormat,
  );
  return staging.asStagingDestination({ fileFormat });
}
