/**
 * The declarative REST API source (dlt `sources/rest_api`, REFERENCE §9.6) as plain data and iterables: a
 * typed config → one {@link RestApiResource} per resource, each with its endpoint, hints and a `pages()`
 * iterator. Parent/child resources are linked through `{resources.<parent>.<field>}` placeholders (or the
 * legacy `{ type: "resolve" }` params); the type checker rejects a reference to an undeclared resource.
 *
 * This package knows nothing about extract: the `tsdlt` facade turns descriptors into resources and
 * transformers and binds incremental cursors, which reach requests through `pages({ incremental })`.
 * Not supported: `DltResource` objects in `resources`, `register_auth`/`register_paginator`, OAuth JWT.
 */

import type { Logger } from "@tsdlt/core";
import { type SchemaContract, TsdltError, type WriteDisposition } from "@tsdlt/core";
import {
  APIKeyAuth,
  type APIKeyAuthOptions,
  type Auth,
  BearerTokenAuth,
  HttpBasicAuth,
  OAuth2ClientCredentials,
  type OAuth2ClientCredentialsOptions,
} from "./auth.js";
import { IgnoreResponseError, type PaginateOptions, RESTClient, type ResponseHook } from "./client.js";
import { findValue } from "./json-path.js";
import {
  HeaderCursorPaginator,
  HeaderLinkPaginator,
  JSONLinkPaginator,
  JSONResponseCursorPaginator,
  type JSONResponseCursorPaginatorOptions,
  OffsetPaginator,
  type OffsetPaginatorOptions,
  PageNumberPaginator,
  type PageNumberPaginatorOptions,
  type Paginator,
  SinglePagePaginator,
} from "./paginators.js";
import type { HttpMethod, QueryValue, RequestData } from "./request.js";
import type { HttpResponse } from "./response.js";
import type { HttpSession } from "./session.js";

// ---------------------------------------------------------------------------------------------------------
// Config types
// ---------------------------------------------------------------------------------------------------------

/** Paginator type names of rest_api configs (`json_response` is dlt's deprecated alias of `json_link`). */
export const PAGINATOR_TYPES = [
  "auto",
  "single_page",
  "header_link",
  "json_link",
  "json_response",
  "offset",
  "page_number",
  "cursor",
  "header_cursor",
] as const;
/** A paginator type name. */
export type PaginatorType = (typeof PAGINATOR_TYPES)[number];

/** A paginator: a type name, a type with options, or an instance. */
export type PaginatorConfig =
  | PaginatorType
  | Paginator
  | { readonly type: "auto" | "single_page" }
  | { readonly type: "header_link"; readonly linksNextKey?: string }
  | { readonly type: "json_link" | "json_response"; readonly nextUrlPath?: string }
  | ({ readonly type: "offset" } & OffsetPaginatorOptions)
  | ({ readonly type: "page_number" } & PageNumberPaginatorOptions)
  | ({ readonly type: "cursor" } & JSONResponseCursorPaginatorOptions)
  | { readonly type: "header_cursor"; readonly cursorKey?: string; readonly cursorParam?: string };

/** Auth: `{ token }` (bearer shorthand), a type with fields, or an instance / hook. */
export type AuthConfig =
  | Auth
  | { readonly type?: "bearer"; readonly token: string }
  | ({ readonly type: "api_key" } & APIKeyAuthOptions)
  | { readonly type: "http_basic"; readonly username: string; readonly password: string }
  | ({ readonly type: "oauth2_client_credentials" } & OAuth2ClientCredentialsOptions);

/** Incremental loading of an endpoint; the facade binds it to `dlt.sources.incremental`. */
export interface IncrementalConfig {
  /** JSON path of the cursor in each item. */
  readonly cursorPath: string;
  readonly initialValue?: unknown;
  readonly endValue?: unknown;
  /** Query parameter that receives the last value. */
  readonly startParam?: string;
  /** Query parameter that receives the end value. */
  readonly endParam?: string;
  /** Transforms a cursor value before it is sent. */
  readonly convert?: (value: unknown) => unknown;
  readonly lag?: number;
  readonly rowOrder?: "asc" | "desc";
  readonly onCursorValueMissing?: "raise" | "include" | "exclude";
  readonly primaryKey?: string | readonly string[];
  readonly lastValueFunc?: (values: readonly unknown[]) => unknown;
}

/** Legacy parent reference in params: `{ type: "resolve", resource: "issues", field: "number" }`. */
export interface ResolveParamConfig {
  readonly type: "resolve";
  readonly resource: string;
  readonly field: string;
}

/** Legacy incremental param: `{ type: "incremental", cursorPath, initialValue }`. */
export interface IncrementalParamConfig extends Omit<IncrementalConfig, "startParam" | "endParam"> {
  readonly type: "incremental";
}

/** A query parameter value in a config. */
export type ParamConfigValue =
  | QueryValue
  | readonly QueryValue[]
  | ResolveParamConfig
  | IncrementalParamConfig;

/** A response action: a hook, or a match (status and/or body substring) with an action. */
export type ResponseAction =
  | ResponseHook
  | {
      readonly statusCode?: number;
      readonly content?: string;
      readonly action: "ignore" | ResponseHook | readonly ResponseHook[];
    };

/** An endpoint. */
export interface EndpointConfig {
  /** Relative to the client's base URL, or absolute. May contain placeholders. */
  readonly path?: string;
  /** @default "GET" */
  readonly method?: HttpMethod;
  readonly params?: Readonly<Record<string, ParamConfigValue>>;
  readonly json?: unknown;
  readonly data?: RequestData;
  readonly headers?: Readonly<Record<string, string>>;
  readonly paginator?: PaginatorConfig;
  readonly dataSelector?: string;
  readonly responseActions?: readonly ResponseAction[];
  readonly incremental?: IncrementalConfig;
  readonly auth?: AuthConfig;
}

/** A write disposition, or dlt's dict form (`{ disposition: "merge", strategy: "scd2" }`). */
export type WriteDispositionConfig =
  | WriteDisposition
  | {
      readonly disposition: WriteDisposition;
      readonly strategy?: string;
      readonly [option: string]: unknown;
    };

/** A processing step applied to each item, in order. */
export type ProcessingStep =
  | { readonly filter: (item: unknown) => boolean }
  | { readonly map: (item: unknown) => unknown };

/** Hints shared by resources and `resourceDefaults`. */
export interface ResourceHints {
  readonly tableName?: string | ((item: unknown) => string);
  readonly writeDisposition?: WriteDispositionConfig;
  readonly primaryKey?: string | readonly string[];
  readonly mergeKey?: string | readonly string[];
  readonly columns?: unknown;
  readonly maxTableNesting?: number;
  readonly schemaContract?: SchemaContract;
  readonly selected?: boolean;
  readonly parallelized?: boolean;
  readonly processingSteps?: readonly ProcessingStep[];
}

/** A resource. */
export interface ResourceConfig extends ResourceHints {
  readonly name: string;
  /** A path, or an endpoint. @default the name as path */
  readonly endpoint?: string | EndpointConfig;
  /** Parent fields copied into each child item as `_<parent>_<field>`. */
  readonly includeFromParent?: readonly string[];
}

/** Defaults merged into every resource (endpoint params and headers merged key by key). */
export interface ResourceDefaults extends ResourceHints {
  readonly endpoint?: Omit<EndpointConfig, "path">;
}

/** The client section. */
export interface ClientConfig {
  readonly baseUrl: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly auth?: AuthConfig;
  readonly paginator?: PaginatorConfig;
  readonly session?: HttpSession;
}

/** A whole REST API config. A string resource is a name that is also the path. */
export interface RestApiConfig {
  readonly client: ClientConfig;
  readonly resourceDefaults?: ResourceDefaults;
  readonly resources: readonly (string | ResourceConfig)[];
}

// ---------------------------------------------------------------------------------------------------------
// Compile-time check of resource references
// ---------------------------------------------------------------------------------------------------------

type NameOf<R> = R extends string ? R : R extends { readonly name: infer N extends string } ? N : never;
type Depth = [never, 0, 1, 2, 3, 4, 5];
/** Every string inside a value (objects and arrays, a few levels deep). */
type StringsIn<T, D extends number = 5> = [D] extends [never]
  ? never
  : T extends string
    ? T
    : T extends (...args: never[]) => unknown
      ? never
      : T extends readonly (infer E)[]
        ? StringsIn<E, Depth[D]>
        : T extends object
          ? { [K in keyof T]: StringsIn<T[K], Depth[D]> }[keyof T]
          : never;
/** Parent names in `{resources.<name>.<field>}` placeholders of a string. */
type PlaceholderRefs<S> = S extends `${string}{resources.${infer P}.${infer Rest}`
  ? P | PlaceholderRefs<Rest>
  : never;
/** Parent names in legacy `{ type: "resolve", resource }` params. */
type ResolveRefs<T> = T extends { readonly params?: infer P }
  ? {
      [K in keyof P]: P[K] extends { readonly type: "resolve"; readonly resource: infer R extends string }
        ? R
        : never;
    }[keyof P]
  : never;
type EndpointOf<R> = R extends { readonly endpoint?: infer E } ? E : never;
type RefsOf<R> = PlaceholderRefs<StringsIn<EndpointOf<R>>> | ResolveRefs<EndpointOf<R>>;

/** Resource names referenced by some resource but not declared in `resources`. */
export type UnknownResourceReferences<C extends RestApiConfig> = Exclude<
  RefsOf<C["resources"][number]>,
  NameOf<C["resources"][number]>
>;

type CheckResource<R, Names> = [Exclude<RefsOf<R>, Names>] extends [never]
  ? R
  : R & { readonly "unknown resource referenced": Exclude<RefsOf<R>, Names> };

/**
 * `unknown` when every reference resolves; otherwise requires each offending resource to carry a property
 * naming the unknown resources, so the error points at that resource.
 */
export type CheckResourceReferences<C extends RestApiConfig> = [UnknownResourceReferences<C>] extends [never]
  ? unknown
  : {
      readonly resources: {
        readonly [K in keyof C["resources"]]: CheckResource<
          C["resources"][K],
          NameOf<C["resources"][number]>
        >;
      };
    };

// ---------------------------------------------------------------------------------------------------------
// Output: resource descriptors
// ---------------------------------------------------------------------------------------------------------

/** Values of a bound incremental cursor (structurally what `dlt.sources.incremental` exposes). */
export interface IncrementalValues {
  readonly startValue?: unknown;
  readonly lastValue?: unknown;
  readonly initialValue?: unknown;
  readonly endValue?: unknown;
}

/** Options of {@link RestApiResource.pages}. */
export interface ResourcePageOptions {
  /** The incremental cursor's current values, or a callback read when the first request is built. */
  readonly incremental?: IncrementalValues | (() => IncrementalValues);
  readonly signal?: AbortSignal;
}

/** The endpoint of a resource after defaults were merged. */
export interface ResolvedEndpoint {
  readonly path: string;
  readonly method: HttpMethod;
  readonly params: Readonly<Record<string, ParamConfigValue>>;
  readonly json: unknown;
  readonly data: RequestData | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** The paginator for this endpoint, `undefined` to use the client's (or auto-detect). */
  readonly paginator: Paginator | undefined;
  readonly dataSelector: string | undefined;
  readonly responseActions: readonly ResponseAction[];
  readonly auth: Auth | undefined;
}

/** The link of a child resource to its parent. */
export interface ParentLink {
  /** The parent resource's name. */
  readonly resource: string;
  /** Parent fields the child's requests use. */
  readonly fields: readonly string[];
  /** Parent fields copied into child items. */
  readonly includeFromParent: readonly string[];
}

/** A resource as plain data plus its page iterator. */
export interface RestApiResource {
  readonly name: string;
  readonly tableName: string | ((item: unknown) => string) | undefined;
  readonly writeDisposition: WriteDispositionConfig | undefined;
  readonly primaryKey: string | readonly string[] | undefined;
  readonly mergeKey: string | readonly string[] | undefined;
  readonly columns: unknown;
  readonly maxTableNesting: number | undefined;
  readonly schemaContract: SchemaContract | undefined;
  readonly selected: boolean;
  readonly parallelized: boolean;
  readonly endpoint: ResolvedEndpoint;
  /** Set for a child resource (a transformer of its parent). */
  readonly parent: ParentLink | undefined;
  /** Set when the endpoint loads incrementally (from `incremental` or a legacy incremental param). */
  readonly incremental: IncrementalConfig | undefined;
  /**
   * The resource's pages. For a child this walks the parent's pages itself; a facade that already iterates
   * the parent should call {@link RestApiResource.childPages} with the parent's items instead.
   */
  pages(options?: ResourcePageOptions): AsyncIterable<unknown[]>;
  /** A child's pages for some parent items (one request series per item, in item order). */
  childPages(parentItems: readonly unknown[], options?: ResourcePageOptions): AsyncIterable<unknown[]>;
}

/** Options of {@link restApiResources}. */
export interface RestApiOptions {
  readonly logger?: Logger;
  /** Requests in flight ahead of the consumer per pagination. */
  readonly prefetch?: number;
  /** Parent items whose child requests run at once. @default 4 */
  readonly childConcurrency?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Factories from config
// ---------------------------------------------------------------------------------------------------------

function configError(message: string): TsdltError {
  return new TsdltError(`[tsdlt] [rest-api] ${message}`, { code: "INVALID_ARGUMENT" });
}

function isPaginatorInstance(value: unknown): value is Paginator {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Paginator).updateState === "function" &&
    typeof (value as Paginator).clone === "function"
  );
}

/** A paginator from a config entry; `undefined` for `auto` (detect from the first response). */
export function createPaginator(config: PaginatorConfig): Paginator | undefined {
  if (isPaginatorInstance(config)) return config;
  const { type, ...options } = (typeof config === "string" ? { type: config } : config) as {
    type: PaginatorType;
  } & Record<string, unknown>;
  switch (type) {
    case "auto":
      return undefined;
    case "single_page":
      return new SinglePagePaginator();
    case "header_link":
      return new HeaderLinkPaginator(options);
    case "json_link":
    case "json_response":
      return new JSONLinkPaginator(options);
    case "offset":
      if (options.limit === undefined) throw configError("Paginator `offset` needs `limit`.");
      return new OffsetPaginator(options as unknown as OffsetPaginatorOptions);
    case "page_number":
      return new PageNumberPaginator(options);
    case "cursor":
      return new JSONResponseCursorPaginator(options);
    case "header_cursor":
      return new HeaderCursorPaginator(options);
    default:
      throw configError(
        `Unknown paginator type \`${String(type)}\`. Use one of ${PAGINATOR_TYPES.map((t) => `\`${t}\``).join(", ")}.`,
      );
  }
}

/** An auth object from a config entry. */
export function createAuth(config: AuthConfig): Auth {
  if (typeof config === "function") return config;
  if (typeof (config as { apply?: unknown }).apply === "function") return config as Auth;
  const { type, ...fields } = config as { type?: string } & Record<string, unknown>;
  switch (type ?? "bearer") {
    case "bearer":
      return new BearerTokenAuth(fields as { token: string });
    case "api_key":
      return new APIKeyAuth(fields as unknown as APIKeyAuthOptions);
    case "http_basic":
      return new HttpBasicAuth(fields as { username: string; password: string });
    case "oauth2_client_credentials":
      return new OAuth2ClientCredentials(fields as unknown as OAuth2ClientCredentialsOptions);
    default:
      throw configError(
        `Unknown auth type \`${String(type)}\`. Use \`bearer\`, \`api_key\`, \`http_basic\` or \`oauth2_client_credentials\`.`,
      );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Placeholders
// ---------------------------------------------------------------------------------------------------------

interface TemplateContext {
  /** The parent item, by parent name. */
  readonly resources?: Readonly<Record<string, unknown>>;
  readonly incremental?: Readonly<Record<string, unknown>>;
  /** Legacy `{name}` placeholders from resolve params. */
  readonly legacy?: Readonly<Record<string, unknown>>;
}

const PLACEHOLDER = /\{\{|\}\}|\{([^{}]*)\}/g;
const INCREMENTAL_KEYS: Record<string, keyof IncrementalValues> = {
  start_value: "startValue",
  startValue: "startValue",
  last_value: "lastValue",
  lastValue: "lastValue",
  initial_value: "initialValue",
  initialValue: "initialValue",
  end_value: "endValue",
  endValue: "endValue",
};

/** The placeholder expressions of a template (escapes `{{` `}}` skipped). */
function placeholdersOf(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (m[1] !== undefined) out.push(m[1].trim());
  return out;
}

function evaluate(expression: string, context: TemplateContext, where: string): unknown {
  if (expression.startsWith("resources.")) {
    const rest = expression.slice("resources.".length);
    const dot = rest.indexOf(".");
    const parent = dot === -1 ? rest : rest.slice(0, dot);
    const field = dot === -1 ? "" : rest.slice(dot + 1);
    if (!context.resources || !(parent in context.resources)) {
      throw configError(
        `Placeholder \`{${expression}}\` in ${where} refers to \`${parent}\`, which is not the parent resource.`,
      );
    }
    const value = findValue(context.resources[parent], field);
    if (value === undefined) {
      throw configError(
        `Field \`${field}\` of parent resource \`${parent}\` is missing in an item, needed by \`{${expression}}\` in ${where}.`,
      );
    }
    return value;
  }
  if (expression.startsWith("incremental.")) {
    const key = INCREMENTAL_KEYS[expression.slice("incremental.".length)];
    if (key === undefined) {
      throw configError(
        `Unknown placeholder \`{${expression}}\` in ${where}: use \`incremental.start_value\`, \`last_value\`, \`initial_value\` or \`end_value\`.`,
      );
    }
    if (!context.incremental) {
      throw configError(`Placeholder \`{${expression}}\` in ${where} needs \`incremental\` on the endpoint.`);
    }
    return context.incremental[key];
  }
  if (context.legacy && expression in context.legacy) return context.legacy[expression];
  throw configError(
    `Unknown placeholder \`{${expression}}\` in ${where}. Use \`{resources.<parent>.<field>}\` or \`{incremental.start_value}\`; write literal braces as \`{{\` and \`}}\`.`,
  );
}

/** Expands placeholders; a template that is exactly one placeholder keeps the value's type. */
function expand(template: string, context: TemplateContext, where: string): unknown {
  const whole = /^\{([^{}]*)\}$/.exec(template);
  if (whole) return evaluate((whole[1] as string).trim(), context, where);
  return template.replace(PLACEHOLDER, (match, expression: string | undefined) => {
    if (expression === undefined) return match === "{{" ? "{" : "}";
    const value = evaluate(expression.trim(), context, where);
    return value === null || value === undefined
      ? ""
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
  });
}

function expandDeep(value: unknown, context: TemplateContext, where: string): unknown {
  if (typeof value === "string") return expand(value, context, where);
  if (Array.isArray(value)) return value.map((v) => expandDeep(v, context, where));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandDeep(v, context, where)]));
  }
  return value;
}

function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) stringsIn(v, out);
  }
  return out;
}

function isResolveParam(value: unknown): value is ResolveParamConfig {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "resolve";
}

function isIncrementalParam(value: unknown): value is IncrementalParamConfig {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "incremental";
}

// ---------------------------------------------------------------------------------------------------------
// Building resources
// ---------------------------------------------------------------------------------------------------------

interface ResourcePlan {
  readonly config: ResourceConfig;
  readonly endpoint: EndpointConfig & { readonly path: string };
  readonly explicitPaginator: boolean;
}

function mergeDefaults(
  resource: string | ResourceConfig,
  defaults: ResourceDefaults | undefined,
): ResourcePlan {
  const config: ResourceConfig = typeof resource === "string" ? { name: resource } : resource;
  if (typeof config.name !== "string" || config.name === "")
    throw configError("Every resource needs a `name`.");
  const own: EndpointConfig =
    config.endpoint === undefined
      ? { path: config.name }
      : typeof config.endpoint === "string"
        ? { path: config.endpoint }
        : config.endpoint;
  const base = defaults?.endpoint ?? {};
  const endpoint = {
    ...base,
    ...own,
    path: own.path ?? config.name,
    params: { ...base.params, ...own.params },
    headers: { ...base.headers, ...own.headers },
  };
  const { endpoint: _ignored, ...defaultHints } = defaults ?? {};
  return {
    config: { ...defaultHints, ...config },
    endpoint,
    explicitPaginator: own.paginator !== undefined || base.paginator !== undefined,
  };
}

/** The parent a resource refers to, and the parent fields it uses. */
function findParent(plan: ResourcePlan): { resource: string; fields: string[] } | undefined {
  const e = plan.endpoint;
  const refs = new Map<string, Set<string>>();
  const add = (resource: string, field: string): void => {
    if (!refs.has(resource)) refs.set(resource, new Set());
    refs.get(resource)?.add(field);
  };
  const templates = [e.path, ...stringsIn(e.params), ...stringsIn(e.json), ...stringsIn(e.headers)];
  for (const template of templates) {
    for (const expression of placeholdersOf(template)) {
      if (!expression.startsWith("resources.")) continue;
      const rest = expression.slice("resources.".length);
      const dot = rest.indexOf(".");
      if (dot <= 0 || dot === rest.length - 1) {
        throw configError(
          `Placeholder \`{${expression}}\` of resource \`${plan.config.name}\` must name a parent field: \`{resources.<parent>.<field>}\`.`,
        );
      }
      add(rest.slice(0, dot), rest.slice(dot + 1));
    }
  }
  for (const value of Object.values(e.params ?? {}))
    if (isResolveParam(value)) add(value.resource, value.field);
  if (refs.size > 1) {
    throw configError(
      `Resource \`${plan.config.name}\` refers to several parents (${[...refs.keys()].map((r) => `\`${r}\``).join(", ")}); a child has exactly one parent.`,
    );
  }
  const [entry] = refs;
  return entry ? { resource: entry[0], fields: [...entry[1]] } : undefined;
}

/** Runs `run` for up to `limit` items at once and yields their results in item order. */
async function* orderedConcurrent<I, T>(
  items: readonly I[],
  limit: number,
  run: (item: I) => AsyncIterable<T>,
): AsyncGenerator<T, void, undefined> {
  const collect = async (item: I): Promise<T[]> => {
    const out: T[] = [];
    for await (const value of run(item)) out.push(value);
    return out;
  };
  const tasks: Array<Promise<T[]>> = [];
  const startUpTo = (index: number): void => {
    while (tasks.length < Math.min(items.length, index + 1)) {
      const task = collect(items[tasks.length] as I);
      task.catch(() => {});
      tasks.push(task);
    }
  };
  for (let i = 0; i < items.length; i++) {
    startUpTo(i + Math.max(1, limit) - 1);
    for (const value of await (tasks[i] as Promise<T[]>)) yield value;
  }
}

function responseActionHook(actions: readonly ResponseAction[]): ResponseHook {
  return async (response: HttpResponse, request) => {
    for (const action of actions) {
      if (typeof action === "function") {
        await action(response, request);
        continue;
      }
      if (action.statusCode !== undefined && action.statusCode !== response.status) continue;
      if (action.content !== undefined && !response.text().includes(action.content)) continue;
      if (action.statusCode === undefined && action.content === undefined) continue;
      if (action.action === "ignore") throw new IgnoreResponseError();
      const hooks = typeof action.action === "function" ? [action.action] : action.action;
      for (const hook of hooks) await hook(response, request);
    }
  };
}

function applyProcessing(items: readonly unknown[], steps: readonly ProcessingStep[]): unknown[] {
  let out = items as unknown[];
  for (const step of steps) {
    out = "filter" in step ? out.filter((item) => step.filter(item)) : out.map((item) => step.map(item));
  }
  return out;
}

/**
 * The resources of a REST API config, in config order, as plain descriptors.
 *
 * @example
 * ```ts
 * const resources = restApiResources({
 *   client: { baseUrl: "https://api.github.com/repos/dlt-hub/dlt/", auth: { token } },
 *   resourceDefaults: { primaryKey: "id", writeDisposition: "merge", endpoint: { params: { per_page: 100 } } },
 *   resources: [
 *     { name: "issues", endpoint: { path: "issues", params: { state: "open" } } },
 *     { name: "issue_comments", endpoint: { path: "issues/{resources.issues.number}/comments" }, includeFromParent: ["id"] },
 *   ],
 * });
 * for await (const page of resources[0].pages()) console.log(page.length);
 * ```
 */
export function restApiResources<const C extends RestApiConfig>(
  config: C & CheckResourceReferences<C>,
  options: RestApiOptions = {},
): RestApiResource[] {
  const { client: clientConfig } = config;
  if (!clientConfig || typeof clientConfig.baseUrl !== "string") {
    throw configError("`client.baseUrl` is required.");
  }
  const clientPaginator =
    clientConfig.paginator === undefined ? undefined : createPaginator(clientConfig.paginator);
  const client = new RESTClient({
    baseUrl: clientConfig.baseUrl,
    ...(clientConfig.headers ? { headers: clientConfig.headers } : {}),
    ...(clientConfig.auth ? { auth: createAuth(clientConfig.auth) } : {}),
    ...(clientPaginator ? { paginator: clientPaginator } : {}),
    ...(clientConfig.session ? { session: clientConfig.session } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.prefetch !== undefined ? { prefetch: options.prefetch } : {}),
  });
  const childConcurrency = options.childConcurrency ?? 4;

  const plans = config.resources.map((r) => mergeDefaults(r, config.resourceDefaults));
  const byName = new Map<string, ResourcePlan>();
  for (const plan of plans) {
    if (byName.has(plan.config.name))
      throw configError(`Resource \`${plan.config.name}\` is declared twice.`);
    byName.set(plan.config.name, plan);
  }
  const parents = new Map<string, { resource: string; fields: string[] } | undefined>();
  for (const plan of plans) {
    const parent = findParent(plan);
    if (parent && !byName.has(parent.resource)) {
      throw configError(
        `Resource \`${plan.config.name}\` refers to resource \`${parent.resource}\`, which is not declared. ` +
          `Declared resources: ${[...byName.keys()].map((n) => `\`${n}\``).join(", ")}.`,
      );
    }
    parents.set(plan.config.name, parent);
  }
  for (const plan of plans) {
    const seen = new Set<string>([plan.config.name]);
    let current = parents.get(plan.config.name);
    while (current) {
      if (seen.has(current.resource)) {
        throw configError(
          `Resources ${[...seen].map((n) => `\`${n}\``).join(" → ")} refer to each other in a cycle.`,
        );
      }
      seen.add(current.resource);
      current = parents.get(current.resource);
    }
  }

  const descriptors = new Map<string, RestApiResource>();
  for (const plan of plans) {
    const { config: rc, endpoint: ec } = plan;
    const parent = parents.get(rc.name);
    const singleEntity = /\{[^{}]+\}\/?$/.test(ec.path.replace(/\{\{|\}\}/g, ""));
    const paginator =
      ec.paginator !== undefined
        ? createPaginator(ec.paginator)
        : singleEntity && !plan.explicitPaginator
          ? new SinglePagePaginator()
          : undefined;
    const dataSelector = ec.dataSelector ?? (singleEntity ? "$" : undefined);
    const incrementalParam = Object.entries(ec.params ?? {}).find(([, v]) => isIncrementalParam(v)) as
      | [string, IncrementalParamConfig]
      | undefined;
    if (incrementalParam && ec.incremental) {
      throw configError(
        `Resource \`${rc.name}\` declares incremental twice (in \`params\` and in \`incremental\`).`,
      );
    }
    const incremental: IncrementalConfig | undefined =
      ec.incremental ??
      (incrementalParam
        ? (() => {
            const { type: _type, ...rest } = incrementalParam[1];
            return { ...rest, startParam: incrementalParam[0] };
          })()
        : undefined);
    const endpoint: ResolvedEndpoint = {
      path: ec.path,
      method: ec.method ?? "GET",
      params: ec.params ?? {},
      json: ec.json,
      data: ec.data,
      headers: ec.headers ?? {},
      paginator,
      dataSelector,
      responseActions: ec.responseActions ?? [],
      auth: ec.auth === undefined ? undefined : createAuth(ec.auth),
    };
    const includeFromParent = rc.includeFromParent ?? [];
    const steps = rc.processingSteps ?? [];

    const incrementalContext = (opts: ResourcePageOptions): Record<string, unknown> | undefined => {
      if (!incremental) return undefined;
      const given = typeof opts.incremental === "function" ? opts.incremental() : (opts.incremental ?? {});
      const initialValue = given.initialValue ?? incremental.initialValue;
      const lastValue = given.lastValue ?? given.startValue ?? initialValue;
      const values: Record<string, unknown> = {
        initialValue,
        startValue: given.startValue ?? lastValue,
        lastValue,
        endValue: given.endValue ?? incremental.endValue,
      };
      if (incremental.convert) {
        for (const key of Object.keys(values)) {
          if (values[key] !== undefined && values[key] !== null)
            values[key] = incremental.convert(values[key]);
        }
      }
      return values;
    };

    const requestFor = (
      parentItem: unknown,
      incrementalValues: Record<string, unknown> | undefined,
    ): { path: string; options: PaginateOptions } => {
      const legacy: Record<string, unknown> = {};
      const params: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(endpoint.params)) {
        if (isResolveParam(value)) {
          const resolved = findValue(parentItem, value.field);
          if (resolved === undefined) {
            throw configError(
              `Field \`${value.field}\` of parent resource \`${value.resource}\` is missing in an item (param \`${name}\` of \`${rc.name}\`).`,
            );
          }
          legacy[name] = resolved;
        } else if (isIncrementalParam(value)) {
          params[name] = incrementalValues?.lastValue;
        } else {
          params[name] = value;
        }
      }
      const context: TemplateContext = {
        ...(parent ? { resources: { [parent.resource]: parentItem } } : {}),
        ...(incrementalValues ? { incremental: incrementalValues } : {}),
        legacy,
      };
      const where = `resource \`${rc.name}\``;
      const path = String(expand(endpoint.path, context, `the path of ${where}`));
      const expandedParams = expandDeep(params, context, `the params of ${where}`) as Record<string, unknown>;
      if (incremental?.startParam && !incrementalParam)
        expandedParams[incremental.startParam] = incrementalValues?.lastValue;
      if (incremental?.endParam) expandedParams[incremental.endParam] = incrementalValues?.endValue;
      const hooks =
        endpoint.responseActions.length > 0
          ? { response: [responseActionHook(endpoint.responseActions)] }
          : undefined;
      const auth = endpoint.auth;
      const paginateOptions: PaginateOptions = {
        method: endpoint.method,
        params: expandedParams,
        headers: expandDeep(endpoint.headers, context, `the headers of ${where}`) as Record<string, string>,
        ...(endpoint.json !== undefined
          ? { json: expandDeep(endpoint.json, context, `the json body of ${where}`) }
          : {}),
        ...(endpoint.data !== undefined ? { data: endpoint.data } : {}),
        ...(endpoint.paginator ? { paginator: endpoint.paginator } : {}),
        ...(endpoint.dataSelector !== undefined ? { dataSelector: endpoint.dataSelector } : {}),
        ...(hooks ? { hooks } : {}),
        ...(auth ? { auth } : {}),
      };
      return { path, options: paginateOptions };
    };

    async function* fetchPages(
      parentItem: unknown,
      incrementalValues: Record<string, unknown> | undefined,
      signal: AbortSignal | undefined,
    ): AsyncGenerator<unknown[], void, undefined> {
      const { path, options: paginateOptions } = requestFor(parentItem, incrementalValues);
      for await (const page of client.paginate(path, { ...paginateOptions, ...(signal ? { signal } : {}) })) {
        let items: unknown[] = [...page];
        if (parent && includeFromParent.length > 0) {
          items = items.map((item) => {
            if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
            const extra: Record<string, unknown> = {};
            for (const field of includeFromParent) {
              const value = findValue(parentItem, field);
              if (value === undefined) {
                throw configError(
                  `Field \`${field}\` in \`includeFromParent\` of \`${rc.name}\` is missing in a \`${parent.resource}\` item.`,
                );
              }
              extra[`_${parent.resource}_${field}`] = value;
            }
            return { ...(item as Record<string, unknown>), ...extra };
          });
        }
        items = applyProcessing(items, steps);
        if (items.length > 0) yield items;
      }
    }

    const childPages = (
      parentItems: readonly unknown[],
      opts: ResourcePageOptions = {},
    ): AsyncIterable<unknown[]> => {
      if (!parent) {
        throw configError(
          `Resource \`${rc.name}\` has no parent: iterate \`pages()\` instead of \`childPages()\`.`,
        );
      }
      const incrementalValues = incrementalContext(opts);
      return orderedConcurrent(parentItems, childConcurrency, (item) =>
        fetchPages(item, incrementalValues, opts.signal),
      );
    };

    const descriptor: RestApiResource = {
      name: rc.name,
      tableName: rc.tableName,
      writeDisposition: rc.writeDisposition,
      primaryKey: rc.primaryKey,
      mergeKey: rc.mergeKey,
      columns: rc.columns,
      maxTableNesting: rc.maxTableNesting,
      schemaContract: rc.schemaContract,
      selected: rc.selected ?? true,
      parallelized: rc.parallelized ?? false,
      endpoint,
      parent: parent ? { resource: parent.resource, fields: parent.fields, includeFromParent } : undefined,
      incremental,
      pages(opts: ResourcePageOptions = {}): AsyncIterable<unknown[]> {
        if (!parent) return fetchPages(undefined, incrementalContext(opts), opts.signal);
        const parentDescriptor = descriptors.get(parent.resource) as RestApiResource;
        return (async function* () {
          for await (const parentPage of parentDescriptor.pages({
            ...(opts.signal ? { signal: opts.signal } : {}),
          })) {
            yield* childPages(parentPage, opts);
          }
        })();
      },
      childPages,
    };
    descriptors.set(rc.name, descriptor);
  }
  return plans.map((plan) => descriptors.get(plan.config.name) as RestApiResource);
}
