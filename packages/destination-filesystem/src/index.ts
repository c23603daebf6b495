export type { BucketLocation, BucketProtocol } from "./bucket-url.js";
export {
  isLocalBucketUrl,
  locationUrl,
  maskBucketUrl,
  parseBucketUrl,
  SUPPORTED_PROTOCOLS,
} from "./bucket-url.js";
export type { CsvOptions, CsvQuoting } from "./csv-file.js";
export { CSV_QUOTING } from "./csv-file.js";
export type { FileStore } from "./file-store.js";
export { LocalFileStore } from "./file-store.js";
export type {
  FilesystemClientConfig,
  FilesystemClientOptions,
  FilesystemFileFormat,
  FilesystemLoadJob,
  WrittenFile,
} from "./filesystem-client.js";
export { FILESYSTEM_FILE_FORMATS, FilesystemClient } from "./filesystem-client.js";
export type { FilesystemDestination, FilesystemDestinationOptions } from "./filesystem-destination.js";
export {
  DESTINATION_NAME,
  DESTINATION_TYPE,
  FILESYSTEM_CAPABILITIES,
  filesystem,
} from "./filesystem-destination.js";
export type { LayoutParams, PlaceholderContext, PlaceholderValue } from "./layout.js";
export {
  DATETIME_PLACEHOLDERS,
  DEFAULT_LAYOUT,
  datetimeParams,
  Layout,
  STANDARD_PLACEHOLDERS,
} from "./layout.js";
export type { ParquetOptions } from "./parquet-file.js";
export type { AwsCredentials, S3ErrorReason } from "./s3-store.js";
export { classifyS3Error, S3FileStore } from "./s3-store.js";
export type { SystemFileName } from "./system-files.js";
export {
  hashToPathSafe,
  INIT_FILE_NAME,
  loadsFilePath,
  parseSystemFileName,
  stateFilePath,
  versionFilePath,
} from "./system-files.js";
