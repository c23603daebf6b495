/**
 * The declarative REST API source as a dlt source (dlt `rest_api_source`, REFERENCE §9.6): turns the
 * plain resource descriptors of `@tsdlt/rest-client`'s `restApiResources(config)` into a
 * {@link DltSource} — one {@link resource} per root endpoint, one {@link transformer} per child endpoint
 * (fed with its parent's items through `childPages`), hints mapped to resource options, and each
 * endpoint's `incremental` bound to `dlt.sources.incremental` so the stored cursor reaches the requests.
 *
 * `tsdlt` does not depend on the REST client: descriptors are typed structurally here
 * ({@link RestApiResourceDescriptor}), so any object of that shape works.
 *
 * Differences from dlt: `processingSteps` run inside the descriptor's pages, so before the incremental
 * filter (dlt adds them after it); `DltResource` entries in a config's `resources` are not supported
 * by the REST client (combine sources instead).
 */
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
export interface RestApiSourceOptions {
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

/**
 * A dlt source over the resources of a declarative REST API config — dlt's `rest_api_source`. Give it
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
 * Resources keep the descriptors' order; hints can be changed afterwards on the source
 * (`source.resources.issues.applyHints(...)`), selection with `withResources`.
 *
 * @example
 * ```ts
 * import * as dlt from "tsdlt";
 * import { restApiResources } from "@tsdlt/rest-client";
 *
 * const github = dlt.restApiSource(
 *   restApiResources({
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
 *   }),
 *   { name: "github" },
 * );
 * const pipeline = dlt.pipeline({ pipelineName: "rest_api_github", destination: "duckdb", datasetName: "rest_api_data" });
 * console.log(String(await pipeline.run(github)));
 * ```
 */
export function restApiSource(
  descriptors: readonly RestApiResourceDescriptor[],
  options: RestApiSourceOptions = {},
): DltSource {
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

  const resources = descriptors.map(build);
  return new DltSource(options.name ?? DEFAULT_SOURCE_NAME, resources, {
    maxTableNesting: options.maxTableNesting,
    rootKey: options.rootKey,
    schemaContract: options.schemaContract,
    parallelized: options.parallelized,
  });
}
