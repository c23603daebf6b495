/**
 * The declarative REST API source as a dlt source (dlt `rest_api_source`, REFERENCE §9.6): turns the
 * plain resource descriptors of `@tsdlt/rest-client`'s `restApiResources(config)` into a
 * {@link DltSource} — one {@link resource} per root endpoint, one {@link transformer} per child endpoint
 * (fed with its parent's items through `childPages`), hints mapped to resource options, and each
 * endpoint's `incremental` bound to `dlt.sources.incremental` so the stored cursor reaches the requests.
 *
 * Given a whole config (`{ client, resourceDefaults, resources }`, dlt's `rest_api_source(config)`),
 * the descriptors are made by `restApiResources` of `@tsdlt/rest-client`, an optional peer
 * dependency loaded when needed (installing `@tsdlt/rest-client` is all it takes). Descriptors
 * themselves are typed structurally here ({@link RestApiResourceDescriptor}), so any object of that
 * shape works.
 *
 * Differences from dlt: `processingSteps` run inside the descriptor's pages, so before the incremental
 * filter (dlt adds them after it); `DltResource` entries in a config's `resources` are not supported
 * by the REST client (combine sources instead).
 */
import { createRequire } from "node:module";
import type { SchemaContract } from "@tsdlt/core";
import { ExtractError } from "@tsdlt/core";
import {
  type ColumnsHint,
  type DltResource,
  DltSource,
  Incremental,
  type IncrementalOptions,
  incremental,
  type ResourceOptions,
  resource,
  transformer,
  type WriteDispositionHint,
} from "@tsdlt/extract";
import type { CheckResourceReferences, RestApiConfig, RestApiOptions } from "@tsdlt/rest-client";

/** The cursor values a descriptor's requests read (`{incremental.last_value}` and the start/end params). */
export interface RestApiIncrementalValues {
  readonly startValue: unknown;
  readonly lastValue: unknown;
  readonly initialValue: unknown;
  readonly endValue: unknown;
}

/** Options a descriptor's `pages()` / `childPages()` receive from the adapter. */
export interface RestApiPageOptions {
  /** Read when the first request is built: the bound cursor's values at that moment. */
  readonly incremental?: () => RestApiIncrementalValues;
}

/** The `incremental` of a descriptor (the subset of dlt's incremental arguments the adapter binds). */
export interface RestApiIncrementalDescriptor {
  /** Path of the cursor in each item, e.g. `updated_at` or `$.fields.updated`. */
  readonly cursorPath: string;
  readonly initialValue?: unknown;
  readonly endValue?: unknown;
  readonly lag?: number | undefined;
  readonly rowOrder?: "asc" | "desc" | undefined;
  readonly onCursorValueMissing?: "raise" | "include" | "exclude" | undefined;
  readonly primaryKey?: string | readonly string[] | undefined;
  readonly lastValueFunc?: ((values: readonly unknown[]) => unknown) | undefined;
}

/** A write disposition as descriptors carry it: a name, or dlt's dict form (camelCase or snake_case keys). */
export type RestApiWriteDisposition =
  | string
  | {
      readonly disposition: string;
      readonly strategy?: string | undefined;
      readonly [option: string]: unknown;
    };

/**
 * One resource of a REST API config, as `restApiResources()` of `@tsdlt/rest-client` returns it
 * (`RestApiResource`), typed structurally.
 */
export interface RestApiResourceDescriptor {
  readonly name: string;
  readonly tableName?: string | ((item: unknown) => string) | undefined;
  readonly writeDisposition?: RestApiWriteDisposition | undefined;
  readonly primaryKey?: string | readonly string[] | undefined;
  readonly mergeKey?: string | readonly string[] | undefined;
  /** Column hints (`ColumnsHint`). */
  readonly columns?: unknown;
  readonly maxTableNesting?: number | undefined;
  readonly schemaContract?: SchemaContract | undefined;
  /** @default true */
  readonly selected?: boolean | undefined;
  readonly parallelized?: boolean | undefined;
  /** Set for a child endpoint: the name of the resource whose items it is requested for. */
  readonly parent?: { readonly resource: string } | undefined;
  readonly incremental?: RestApiIncrementalDescriptor | undefined;
  /** The pages of a root endpoint (a child's walks its parent itself). */
  pages(options?: RestApiPageOptions): AsyncIterable<readonly unknown[]>;
  /** A child's pages for some parent items. */
  childPages(
    parentItems: readonly unknown[],
    options?: RestApiPageOptions,
  ): AsyncIterable<readonly unknown[]>;
}

/** Options of {@link restApiSource} (dlt's `rest_api_source` arguments besides the config). */
export interface RestApiSourceOptions extends RestApiOptions {
  /** Source name: schema name and state key. @default "rest_api" */
  readonly name?: string | undefined;
  /** Nesting budget of the schema. */
  readonly maxTableNesting?: number | undefined;
  /** Propagate `_dlt_root_id` to nested tables. */
  readonly rootKey?: boolean | undefined;
  /** Schema contract of the source's schema. */
  readonly schemaContract?: SchemaContract | undefined;
  /** Extract the root endpoints concurrently. @default false */
  readonly parallelized?: boolean | undefined;
}

/** The default source name, as in dlt. */
const DEFAULT_SOURCE_NAME = "rest_api";

function invalid(message: string): ExtractError {
  return new ExtractError(`[tsdlt] [rest-api] ${message}`, { code: "INVALID_ARGUMENT" });
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** dlt's dict form with snake_case keys (`validity_column_names`) becomes the camelCase hint. */
function writeDispositionHint(value: RestApiWriteDisposition | undefined): WriteDispositionHint | undefined {
  if (value === undefined || typeof value === "string") return value as WriteDispositionHint | undefined;
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(value)) if (option !== undefined) out[camelCase(key)] = option;
  return out as unknown as WriteDispositionHint;
}

function incrementalOptions(d: RestApiIncrementalDescriptor): IncrementalOptions<unknown> {
  return {
    initialValue: d.initialValue,
    endValue: d.endValue,
    lag: d.lag,
    rowOrder: d.rowOrder,
    onCursorValueMissing: d.onCursorValueMissing,
    primaryKey: d.primaryKey,
    ...(d.lastValueFunc ? { lastValueFunc: d.lastValueFunc } : {}),
  };
}

function resourceOptions(d: RestApiResourceDescriptor, template: Incremental | undefined): ResourceOptions {
  return {
    name: d.name,
    tableName: d.tableName,
    writeDisposition: writeDispositionHint(d.writeDisposition),
    primaryKey: d.primaryKey,
    mergeKey: d.mergeKey,
    columns: d.columns as ColumnsHint | undefined,
    maxTableNesting: d.maxTableNesting,
    schemaContract: d.schemaContract,
    selected: d.selected ?? true,
    parallelized: d.parallelized ?? false,
    incremental: template,
  };
}

/**
 * Page options for one call: the cursor bound to the running resource (the resource's `incremental`
 * option, which wins over the template when hints replaced it) read lazily by the descriptor.
 */
function pageOptions(template: Incremental | undefined): RestApiPageOptions {
  if (template === undefined) return {};
  // Called in the resource's context: returns the cursor the pipeline bound to this resource.
  const bound = incremental(template.cursorPath, template.options);
  return {
    incremental: () => ({
      startValue: bound.startValue,
      lastValue: bound.lastValue,
      initialValue: bound.initialValue,
      endValue: bound.endValue,
    }),
  };
}

/** What `@tsdlt/rest-client` offers this module. */
interface RestClientModule {
  restApiResources(config: RestApiConfig, options?: RestApiOptions): readonly RestApiResourceDescriptor[];
}

const REST_CLIENT = "@tsdlt/rest-client";

function notInstalled(cause: unknown): ExtractError {
  return new ExtractError(
    `[tsdlt] [rest-api] restApiSource(config) needs the REST client: install it with \`npm install ${REST_CLIENT}\`.`,
    { code: "INVALID_ARGUMENT", cause },
  );
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND";
}

/**
 * Loads `@tsdlt/rest-client` synchronously (Node ≥ 20.19 requires ES modules), so the source has its
 * resources at once; `undefined` where `require` cannot load ES modules (test runners and bundlers
 * that hook the module loader), which then import it asynchronously.
 */
function requireRestClient(): RestClientModule | undefined {
  try {
    return createRequire(import.meta.url)(REST_CLIENT) as RestClientModule;
  } catch (cause) {
    if (isNotFound(cause)) throw notInstalled(cause);
    return undefined;
  }
}

async function importRestClient(): Promise<RestClientModule> {
  try {
    return (await import(REST_CLIENT)) as RestClientModule;
  } catch (cause) {
    throw isNotFound(cause) ? notInstalled(cause) : cause;
  }
}

function isDescriptorList(value: unknown): value is readonly RestApiResourceDescriptor[] {
  return Array.isArray(value);
}

/**
 * A dlt source over a declarative REST API config — dlt's `rest_api_source(config)`. Give it the
 * config itself (`{ client, resourceDefaults, resources }`; needs `@tsdlt/rest-client` installed), or
 * what `restApiResources(config)` of `@tsdlt/rest-client` returns:
 *
 * - a root endpoint becomes a {@link resource} that yields the endpoint's pages;
 * - a child endpoint (`{resources.<parent>.<field>}` placeholders) becomes a {@link transformer} of its
 *   parent: each parent page is handed to `childPages`, so parents are requested once and their
 *   incremental filter and selection apply. A child whose parent is not among `descriptors` becomes a
 *   plain resource that walks the parent's pages itself (without loading them);
 * - `incremental: { cursorPath, initialValue, ... }` becomes the resource's `dlt.sources.incremental`:
 *   the stored last value reaches `{incremental.last_value}` placeholders and `startParam`, and items
 *   are filtered and deduplicated as for any incremental resource;
 * - `tableName`, `writeDisposition` (also dlt's dict form), `primaryKey`, `mergeKey`, `columns`,
 *   `maxTableNesting`, `schemaContract`, `selected` and `parallelized` become resource options.
 *
 * A config is checked by the type checker: a `{resources.<name>.<field>}` placeholder (or a legacy
 * `resolve` param) naming a resource the config does not declare is a type error on that resource.
 * Resources keep the config's order; hints can be changed afterwards on the source
 * (`source.resources.issues.applyHints(...)`), selection with `withResources`.
 *
 * @example
 * ```ts
 * import * as dlt from "tsdlt";
 *
 * const github = dlt.restApiSource(
 *   {
 *     client: { baseUrl: "https://api.github.com/repos/dlt-hub/dlt/", auth: { token } },
 *     resourceDefaults: { primaryKey: "id", writeDisposition: "merge", endpoint: { params: { per_page: 100 } } },
 *     resources: [
 *       {
 *         name: "issues",
 *         endpoint: {
 *           path: "issues",
 *           params: { state: "open", since: "{incremental.last_value}" },
 *           incremental: { cursorPath: "updated_at", initialValue: "1970-01-01T00:00:00Z" },
 *         },
 *       },
 *       { name: "issue_comments", endpoint: "issues/{resources.issues.number}/comments", includeFromParent: ["id"] },
 *     ],
 *   },
 *   { name: "github" },
 * );
 * const pipeline = dlt.pipeline({ pipelineName: "rest_api_github", destination: "duckdb", datasetName: "rest_api_data" });
 * console.log(String(await pipeline.run(github)));
 * ```
 */
export function restApiSource<const C extends RestApiConfig | readonly RestApiResourceDescriptor[]>(
  config: C & (C extends RestApiConfig ? CheckResourceReferences<C> : unknown),
  options: RestApiSourceOptions = {},
): DltSource {
  if (isDescriptorList(config)) return fromDescriptors(config, options);
  if (typeof config !== "object" || config === null || !("resources" in config)) {
    throw invalid(
      "restApiSource() takes a REST API config (`{ client, resourceDefaults, resources }`) or the resources returned by `restApiResources(config)`.",
    );
  }
  const restOptions: { -readonly [K in keyof RestApiOptions]: RestApiOptions[K] } = {};
  if (options.logger !== undefined) restOptions.logger = options.logger;
  if (options.prefetch !== undefined) restOptions.prefetch = options.prefetch;
  if (options.childConcurrency !== undefined) restOptions.childConcurrency = options.childConcurrency;
  const client = requireRestClient();
  if (client) return fromDescriptors(client.restApiResources(config as RestApiConfig, restOptions), options);
  // The resources arrive once the module is imported; `await source.resolve()` before reading them.
  const pending = importRestClient().then((loaded) =>
    buildResources(loaded.restApiResources(config as RestApiConfig, restOptions)),
  );
  return new DltSource(options.name ?? DEFAULT_SOURCE_NAME, pending, sourceOptions(options));
}

function sourceOptions(options: RestApiSourceOptions): ConstructorParameters<typeof DltSource>[2] {
  return {
    maxTableNesting: options.maxTableNesting,
    rootKey: options.rootKey,
    schemaContract: options.schemaContract,
    parallelized: options.parallelized,
  };
}

function fromDescriptors(
  descriptors: readonly RestApiResourceDescriptor[],
  options: RestApiSourceOptions,
): DltSource {
  return new DltSource(
    options.name ?? DEFAULT_SOURCE_NAME,
    buildResources(descriptors),
    sourceOptions(options),
  );
}

/** One resource per root descriptor and one transformer per child, in the descriptors' order. */
function buildResources(descriptors: readonly RestApiResourceDescriptor[]): DltResource[] {
  const byName = new Map<string, RestApiResourceDescriptor>();
  for (const d of descriptors) {
    if (typeof d?.name !== "string" || typeof d.pages !== "function") {
      throw invalid(
        "restApiSource() takes the resources returned by `restApiResources(config)` of @tsdlt/rest-client.",
      );
    }
    if (byName.has(d.name)) throw invalid(`Resource \`${d.name}\` is given twice.`);
    byName.set(d.name, d);
  }

  const built = new Map<string, DltResource>();
  const building = new Set<string>();
  const build = (d: RestApiResourceDescriptor): DltResource => {
    const done = built.get(d.name);
    if (done) return done;
    if (building.has(d.name)) {
      throw invalid(`Resources ${[...building, d.name].map((n) => `\`${n}\``).join(" → ")} form a cycle.`);
    }
    building.add(d.name);
    // A template (never bound here); each run binds a copy to the running resource.
    const template = d.incremental
      ? new Incremental(d.incremental.cursorPath, incrementalOptions(d.incremental))
      : undefined;
    const hints = resourceOptions(d, template);
    const parent = d.parent ? byName.get(d.parent.resource) : undefined;
    let out: DltResource;
    if (parent) {
      const parentResource = build(parent);
      out = transformer(
        (items: unknown) => d.childPages(Array.isArray(items) ? items : [items], pageOptions(template)),
        { ...hints, dataFrom: parentResource },
      );
    } else {
      out = resource(() => d.pages(pageOptions(template)), hints);
    }
    building.delete(d.name);
    built.set(d.name, out);
    return out;
  };

  return descriptors.map(build);
}
