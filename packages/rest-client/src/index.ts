export type {
  APIKeyAuthOptions,
  ApiKeyLocation,
  Auth,
  AuthBase,
  AuthHook,
  OAuth2ClientCredentialsOptions,
} from "./auth.js";
export { APIKeyAuth, BearerTokenAuth, HttpBasicAuth, OAuth2ClientCredentials } from "./auth.js";
export type {
  ClientRequestOptions,
  Page,
  PageContext,
  PaginateHooks,
  PaginateOptions,
  RESTClientOptions,
  ResponseHook,
} from "./client.js";
export { DEFAULT_PREFETCH, extractPageData, IgnoreResponseError, paginate, RESTClient } from "./client.js";
export type { PaginatorDetection } from "./detector.js";
export {
  detectPaginator,
  findAllLists,
  findNextCursorPath,
  findNextPageUrlPath,
  findResponsePageData,
  findTotalPagesPath,
  NON_RECORD_KEYS,
  RECORD_KEYS,
} from "./detector.js";
export type { RestClientErrorOptions } from "./errors.js";
export { isRetryableStatus, MAX_BODY_EXCERPT, RestClientError } from "./errors.js";
export { findValue, findValues, isSimplePath, setValueAtPath } from "./json-path.js";
export { parseLinkHeader } from "./link-header.js";
export type {
  JSONResponseCursorPaginatorOptions,
  OffsetPaginatorOptions,
  PageNumberPaginatorOptions,
  Paginator,
  RangePaginatorOptions,
} from "./paginators.js";
export {
  BasePaginator,
  HeaderCursorPaginator,
  HeaderLinkPaginator,
  JSONLinkPaginator,
  JSONResponseCursorPaginator,
  OffsetPaginator,
  PageNumberPaginator,
  SinglePagePaginator,
} from "./paginators.js";
export {
  REDACTED,
  Redactor,
  redactHeaders,
  redactUrl,
  SENSITIVE_HEADERS,
  SENSITIVE_QUERY_PARAMS,
} from "./redact.js";
export type { HttpMethod, PreparedRequest, QueryParams, QueryValue, RequestData } from "./request.js";
export { buildUrl, HTTP_METHODS, joinUrl } from "./request.js";
export type { Requests } from "./requests.js";
export { requests } from "./requests.js";
export type { HttpResponseInit } from "./response.js";
export { HttpResponse } from "./response.js";
export type {
  AuthConfig,
  CheckResourceReferences,
  ClientConfig,
  EndpointConfig,
  IncrementalConfig,
  IncrementalParamConfig,
  IncrementalValues,
  PaginatorConfig,
  PaginatorType,
  ParamConfigValue,
  ParentLink,
  ProcessingStep,
  ResolvedEndpoint,
  ResolveParamConfig,
  ResourceConfig,
  ResourceDefaults,
  ResourceHints,
  ResourcePageOptions,
  ResponseAction,
  RestApiConfig,
  RestApiOptions,
  RestApiResource,
  UnknownResourceReferences,
  WriteDispositionConfig,
} from "./rest-api.js";
export { createAuth, createPaginator, PAGINATOR_TYPES, restApiResources } from "./rest-api.js";
export type {
  RetryCondition,
  RetryConfig,
  RetryOptions,
  RuntimeRequestConfig,
  RuntimeRetryOptionsOptions,
} from "./retry.js";
export {
  backoffDelay,
  DEFAULT_RETRY_OPTIONS,
  isDefaultRetryStatus,
  parseRetryAfter,
  resolveRetryOptions,
  retryDelayFor,
  retryOptionsFromRuntimeConfig,
  runtimeRetryOptions,
} from "./retry.js";
export type { HttpSession, RequestOptions, SendOptions, SessionOptions } from "./session.js";
export { createSession, USER_AGENT } from "./session.js";
