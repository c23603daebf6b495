/**
 * The filesystem destination factory (REFERENCE §11.5, dlt's `filesystem`): datasets are folders in a
 * bucket — a local folder or an `s3://` bucket — and tables are `jsonl`, `parquet` or `csv` files
 * placed by a layout. No I/O happens until `createClient`. See `filesystem-client.ts` for what the
 * write dispositions do, what is not supported, and the (absent) locking.
 */
import {
  config as configValues,
  type Destination,
  type DestinationCapabilities,
  type DestinationContext,
  defineCapabilities,
  type LoaderFileFormat,
  resolveConfig,
  type Schema,
  secrets,
  TsdltError,
  z,
} from "@tsdlt/core";
import { type BucketLocation, locationUrl, maskBucketUrl, parseBucketUrl } from "./bucket-url.js";
import { CSV_QUOTING, type CsvOptions } from "./csv-file.js";
import { type FileStore, LocalFileStore } from "./file-store.js";
import { FILESYSTEM_FILE_FORMATS, FilesystemClient, type FilesystemFileFormat } from "./filesystem-client.js";
import { DEFAULT_LAYOUT, Layout, type PlaceholderValue } from "./layout.js";
import type { ParquetOptions } from "./parquet-file.js";
import { type AwsCredentials, S3FileStore } from "./s3-store.js";

/** Short name of the destination. */
export const DESTINATION_NAME = "filesystem";
/** Type recorded in pipeline state (dlt's). */
export const DESTINATION_TYPE = "dlt.destinations.filesystem";

/**
 * Capabilities (dlt's filesystem destination without table formats): normalize writes `jsonl` job
 * files, which the destination copies or converts; no merge strategies (plain files cannot merge);
 * replace by `truncate-and-insert` (the old files are deleted after the new ones are written).
 */
export const FILESYSTEM_CAPABILITIES: DestinationCapabilities = defineCapabilities({
  preferredLoaderFileFormat: "jsonl",
  supportedLoaderFileFormats: ["jsonl", "parquet", "csv"],
  preferredStagingFileFormat: undefined,
  supportedStagingFileFormats: [],
  hasCaseSensitiveIdentifiers: true,
  supportsTransactions: false,
  supportsDdlTransactions: false,
  supportedMergeStrategies: [],
  supportedReplaceStrategies: ["truncate-and-insert"],
});

/** Options of {@link filesystem}. */
export interface FilesystemDestinationOptions {
  /**
   * Where datasets go: a local folder (relative paths resolve against the pipeline's `localDir`),
   * `file:///abs/path`, or `s3://bucket/optional/prefix`.
   * @default config `destination.filesystem.bucket_url` (env `DESTINATION__FILESYSTEM__BUCKET_URL`)
   */
  readonly bucketUrl?: string;
  /**
   * Where each file goes inside the dataset folder; placeholders: `{table_name}`, `{load_id}`,
   * `{file_id}`, `{ext}`, `{schema_name}`, `{timestamp}`, `{curr_date}`, `{load_package_timestamp}`,
   * the date tokens `{YYYY}`, `{MM}`, `{DD}`, ... and `extraPlaceholders`.
   * @default "{table_name}/{load_id}.{file_id}.{ext}"
   */
  readonly layout?: string;
  /** Format of the data files. @default "jsonl" */
  readonly fileFormat?: FilesystemFileFormat;
  /** More layout placeholders: fixed strings or functions of the file being written. */
  readonly extraPlaceholders?: Readonly<Record<string, PlaceholderValue>>;
  /** The time date placeholders show. @default the load package's creation time */
  readonly currentDatetime?: Date | (() => Date);
  /** S3 credentials and endpoint. @default secret `destination.filesystem.credentials`, else the AWS SDK chain */
  readonly credentials?: AwsCredentials;
  /** Name of a named destination (shown in messages, used as the config section). @default "filesystem" */
  readonly destinationName?: string;
  /** Pipeline state files kept per pipeline; 0 or less keeps all. @default 100 */
  readonly maxStateFiles?: number;
  readonly parquet?: ParquetOptions;
  readonly csv?: CsvOptions;
  /**
   * Write as another destination's staging area (dlt's `as_staging_destination`): every table is
   * appended and no schema or state files are kept. `pipeline({ staging })` sets it (through
   * {@link FilesystemDestination.asStagingDestination}); there is no need to set it yourself. @default false
   */
  readonly asStagingDestination?: boolean;
  /**
   * As a staging destination, keep each load's staged files after the final destination loaded them
   * (dlt's behaviour: they are deleted before the next load of the same table stages new files, see
   * `truncate_tables_on_staging_destination_before_load`). `false` deletes a load's staged files as
   * soon as the load completed.
   * @default config `destination.filesystem.keep_staged_files`, else true
   */
  readonly keepStagedFiles?: boolean;
}

/** A filesystem {@link Destination} whose clients are {@link FilesystemClient}s. */
export interface FilesystemDestination extends Destination {
  /** The staging variant writing `fileFormat` files (what `pipeline({ staging })` uses). */
  readonly asStagingDestination: (options: {
    readonly fileFormat: LoaderFileFormat;
  }) => FilesystemDestination;
  /** The `fileFormat` option when given (not the default). */
  readonly configuredFileFormat: FilesystemFileFormat | undefined;
  /** The options given to {@link filesystem}, copied and frozen. */
  readonly options: Readonly<FilesystemDestinationOptions>;
  readonly layout: Layout;
  readonly fileFormat: FilesystemFileFormat;
  /** The bucket URL in use (from the options or config), resolved against `localDir` when local. */
  bucketLocation(context: Pick<DestinationContext, "localDir">): BucketLocation;
  createClient(schema: Schema, context: DestinationContext): Promise<FilesystemClient>;
}

function invalid(option: string, message: string): TsdltError {
  return new TsdltError(`[tsdlt] [filesystem] Option \`${option}\` ${message}`, {
    code: "INVALID_ARGUMENT",
    destination: DESTINATION_NAME,
  });
}

/** AWS credentials from camelCase options or a snake_case config section (dlt's key names). */
function toAwsCredentials(value: unknown): AwsCredentials | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalid(
      "credentials",
      "must be an object such as `{ awsAccessKeyId, awsSecretAccessKey, regionName, endpointUrl }`; the bucket goes in `bucketUrl`.",
    );
  }
  const v = value as Record<string, unknown>;
  const pick = (camel: string, snake: string): string | undefined => {
    const found = v[camel] ?? v[snake];
    return found === undefined || found === null ? undefined : String(found);
  };
  const out: Record<string, string> = {};
  for (const [camel, snake] of [
    ["awsAccessKeyId", "aws_access_key_id"],
    ["awsSecretAccessKey", "aws_secret_access_key"],
    ["awsSessionToken", "aws_session_token"],
    ["regionName", "region_name"],
    ["endpointUrl", "endpoint_url"],
  ] as const) {
    const found = pick(camel, snake);
    if (found !== undefined) out[camel] = found;
  }
  return out as AwsCredentials;
}

/**
 * The filesystem destination.
 *
 * @example
 * ```ts
 * import * as dlt from "tsdlt";
 * import { filesystem } from "@tsdlt/destination-filesystem";
 * const pipeline = dlt.pipeline({
 *   pipelineName: "lake",
 *   destination: filesystem({ bucketUrl: "data/lake", fileFormat: "parquet" }),
 *   datasetName: "mydata",
 * });
 * await pipeline.run([{ id: 1, name: "Alice" }], { tableName: "users" });
 * // data/lake/mydata/users/<load_id>.<file_id>.parquet
 * ```
 */
export function filesystem(options: FilesystemDestinationOptions = {}): FilesystemDestination {
  if (
    options.bucketUrl !== undefined &&
    (typeof options.bucketUrl !== "string" || options.bucketUrl.trim() === "")
  ) {
    throw invalid(
      "bucketUrl",
      "must be a non-empty string: a local folder, `file:///abs/path` or `s3://bucket/path`.",
    );
  }
  const fileFormat = options.fileFormat ?? "jsonl";
  if (!(FILESYSTEM_FILE_FORMATS as readonly string[]).includes(fileFormat)) {
    throw invalid(
      "fileFormat",
      `is ${JSON.stringify(fileFormat)}; use one of ${FILESYSTEM_FILE_FORMATS.map((f) => `\`${f}\``).join(", ")}.`,
    );
  }
  if (
    options.csv?.quoting !== undefined &&
    !(CSV_QUOTING as readonly string[]).includes(options.csv.quoting)
  ) {
    throw invalid(
      "csv.quoting",
      `is ${JSON.stringify(options.csv.quoting)}; use one of ${CSV_QUOTING.map((q) => `\`${q}\``).join(", ")}.`,
    );
  }
  if (
    options.destinationName !== undefined &&
    (typeof options.destinationName !== "string" || options.destinationName === "")
  ) {
    throw invalid("destinationName", "must be a non-empty string.");
  }
  const layout = new Layout(options.layout ?? DEFAULT_LAYOUT, options.extraPlaceholders ?? {});
  const explicitCredentials = toAwsCredentials(options.credentials);
  const frozen: Readonly<FilesystemDestinationOptions> = Object.freeze({ ...options });
  const name = frozen.destinationName ?? DESTINATION_NAME;
  const section = `destination.${name}`;

  const bucketUrl = (): string => {
    if (frozen.bucketUrl !== undefined) return frozen.bucketUrl;
    const fromConfig = configValues.get(`${section}.bucket_url`);
    if (typeof fromConfig === "string" && fromConfig !== "") return fromConfig;
    throw new TsdltError(
      `[tsdlt] [${name}] No bucket URL: pass \`bucketUrl\` to \`filesystem()\` or set \`${section.toUpperCase().replaceAll(".", "__")}__BUCKET_URL\` (or \`bucket_url\` under \`[${section}]\` in config.toml).`,
      { code: "PIPELINE_CONFIG_MISSING", destination: name },
    );
  };
  const bucketLocation = (context: Pick<DestinationContext, "localDir">): BucketLocation =>
    parseBucketUrl(bucketUrl(), context.localDir);
  const credentials = (): AwsCredentials =>
    explicitCredentials ?? toAwsCredentials(secrets.get(`${section}.credentials`)) ?? {};
  if (frozen.keepStagedFiles !== undefined && typeof frozen.keepStagedFiles !== "boolean") {
    throw invalid("keepStagedFiles", "must be true or false.");
  }
  const keepStagedFiles = (): boolean =>
    frozen.keepStagedFiles ??
    resolveConfig(z.object({ keepStagedFiles: z.boolean().optional() }), { sections: ["destination", name] })
      .keepStagedFiles ??
    true;

  const openStore = (location: BucketLocation): FileStore =>
    location.protocol === "file"
      ? new LocalFileStore(location.root)
      : new S3FileStore(location.bucket, location.prefix, credentials());

  return Object.freeze({
    name,
    destinationType: DESTINATION_TYPE,
    capabilities: FILESYSTEM_CAPABILITIES,
    replaceStrategy: "truncate-and-insert",
    options: frozen,
    layout,
    fileFormat,
    configuredFileFormat: frozen.fileFormat,
    asStagingDestination: ({ fileFormat: staged }: { readonly fileFormat: LoaderFileFormat }) =>
      filesystem({ ...frozen, fileFormat: staged as FilesystemFileFormat, asStagingDestination: true }),
    bucketLocation,
    displayLocation: (context: DestinationContext): string => {
      const url = bucketUrl();
      const location = parseBucketUrl(url, context.localDir);
      return maskBucketUrl(location.protocol === "file" ? locationUrl(location) : url);
    },
    createClient: async (schema: Schema, context: DestinationContext): Promise<FilesystemClient> =>
      new FilesystemClient({
        schema,
        context,
        store: openStore(bucketLocation(context)),
        config: {
          destinationName: name,
          capabilities: FILESYSTEM_CAPABILITIES,
          layout,
          fileFormat,
          currentDatetime: frozen.currentDatetime,
          maxStateFiles: frozen.maxStateFiles ?? 100,
          parquet: frozen.parquet,
          csv: frozen.csv,
          asStagingDestination: frozen.asStagingDestination ?? false,
          keepStagedFiles: frozen.asStagingDestination === true ? keepStagedFiles() : true,
        },
      }),
  });
}
