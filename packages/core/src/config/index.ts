/**
 * Configuration and secrets (REFERENCE §8): specs as zod schemas, providers (env, secrets.toml,
 * config.toml), dlt's section rules, credentials, masking, and explanations of where values came from.
 */
export type { ConfigAccessorKind, ConfigAccessorOptions } from "./accessors.js";
export { ConfigAccessor, config, secrets } from "./accessors.js";
export { autoCast, coerceValue } from "./coerce.js";
export type {
  ConfigFieldMissingErrorOptions,
  ConfigValueInvalidErrorOptions,
  ConfigValueNotSecretErrorOptions,
  MissingConfigField,
  ProviderSummary,
} from "./config-errors.js";
export {
  ConfigError,
  ConfigFieldMissingError,
  ConfigValueInvalidError,
  ConfigValueNotSecretError,
} from "./config-errors.js";
export type {
  ConnectionStringParts,
  FormatConnectionStringOptions,
} from "./credentials/connection-string.js";
export { formatConnectionString, parseConnectionString } from "./credentials/connection-string.js";
export type {
  DuckDbCredentialsInput,
  DuckDbLocationKind,
  DuckDbPathContext,
  ParseDuckDbCredentialsOptions,
} from "./credentials/duckdb.js";
export {
  DuckDbCredentials,
  duckdbCredentials,
  parseDuckDbCredentials,
  parseDuckDbNative,
} from "./credentials/duckdb.js";
export type { PostgresCredentialsInput } from "./credentials/postgres.js";
export {
  POSTGRES_DEFAULT_CONNECT_TIMEOUT,
  POSTGRES_DEFAULT_PORT,
  PostgresCredentials,
  parsePostgresConnectionString,
  parsePostgresCredentials,
  postgresCredentials,
} from "./credentials/postgres.js";
export type {
  ConfigDeclaration,
  ConfigOwnerKind,
  ConfigSpec,
  DeclareConfigOptions,
  DeclaredConfigOptions,
} from "./declared.js";
export {
  declareConfig,
  declaredConfigs,
  destinationConfigSections,
  sourceConfigSections,
} from "./declared.js";
export type { ExplainFormatOptions, ExplainKeyOptions } from "./explain.js";
export { ConfigExplanation, explainConfig } from "./explain.js";
export type { LookupOutcome, LookupProbe, LookupTrace, ProbeExtraction } from "./lookup.js";
export { lookupField, sectionLookupPaths } from "./lookup.js";
export { configFolderName, globalDir, projectDir, projectSettingsDir } from "./paths.js";
export type {
  DataWriterConfig,
  DestinationCommonConfig,
  ExtractConfig,
  LoadConfig,
  NormalizeConfig,
  PipelineConfig,
  PipelineSettings,
  PipelineSettingsOptions,
  RuntimeConfig,
  SchemaConfig,
} from "./pipeline-settings.js";
export {
  dataWriterConfigSpec,
  destinationCommonConfigSpec,
  extractConfigSpec,
  loadConfigSpec,
  normalizeConfigSpec,
  pipelineConfigSpec,
  resolvePipelineSettings,
  runtimeConfigSpec,
  schemaConfigSpec,
} from "./pipeline-settings.js";
export type {
  ConfigContextOptions,
  ConfigProvider,
  ProviderLocations,
  ProviderLookup,
  TomlProviderOptions,
} from "./providers.js";
export {
  ConfigContext,
  clearProviderValues,
  EnvironProvider,
  getActivePipelineName,
  IN_MEMORY_LOCATION,
  registerConfigProvider,
  setActivePipelineName,
  TomlProvider,
} from "./providers.js";
export {
  clearRegisteredSecrets,
  isSensitiveKey,
  REDACTED,
  redact,
  redactingLogger,
  redactText,
  redactUrl,
  registerSecret,
} from "./redact.js";
export type {
  ExplicitConfig,
  ExplicitField,
  ExplicitValue,
  FieldOrigin,
  ResolveConfigOptions,
  ResolvedConfig,
  ResolvedField,
} from "./resolve.js";
export { resolveConfig, resolveConfigWithProvenance } from "./resolve.js";
export type { ConfigSchemaMeta, DefineCredentialsOptions, UnwrappedSchema } from "./schema-meta.js";
export { configKeyOf, defineCredentials, secret, unwrapSchema } from "./schema-meta.js";
