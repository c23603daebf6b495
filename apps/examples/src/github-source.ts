/**
 * The GitHub source of the getting-started tutorial's last two steps ("Handle secrets",
 * "Configurable sources"): one resource per endpoint, pages fetched with `fetch` and followed through
 * the `Link` header, authenticated with a bearer token.
 *
 * The source declares its config with a zod spec — the tutorial's `repo_name = dlt.config.value` and
 * `access_token = dlt.secrets.value` — and receives the resolved values as its first argument. Values
 * passed when the source is called win; the others are read, in order, from environment variables,
 * `.dlt/secrets.toml` and `.dlt/config.toml` (project, then `~/.dlt`), then the spec's defaults. A
 * source named `github_source` in section `github` reads `sources.github.github_source.<key>` →
 * `sources.github.<key>` → `sources.github_source.<key>` → `sources.<key>` → `<key>`, each first
 * prefixed with the pipeline name (which is how the tutorial's `[github_with_source_secrets]` TOML
 * tables are found). `tsdlt config explain --module dist/github-source.js` shows where each value
 * comes from.
 */
import { redactUrl } from "@tsdlt/core";
import * as dlt from "tsdlt";

/** The endpoints the tutorial loads. */
export const GITHUB_ENDPOINTS: readonly string[] = ["issues", "comments", "traffic/clones"];

/** What {@link fetchGithubData} needs. */
export interface GithubRequestOptions {
  /** `owner/name` of the repository. */
  readonly repoName: string;
  /** A GitHub token; `traffic/clones` needs one. */
  readonly accessToken?: string | undefined;
  /** API root. @default "https://api.github.com" */
  readonly baseUrl?: string | undefined;
  readonly endpoint: string;
  readonly params?: Record<string, string>;
}

function nextLink(header: string | null): string | undefined {
  for (const part of header?.split(",") ?? []) {
    const match = /<([^>]+)>;\s*rel="next"/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

/** Pages of one endpoint: `GET <baseUrl>/repos/<repoName>/<endpoint>`, following `rel="next"` links. */
export async function* fetchGithubData(options: GithubRequestOptions): AsyncGenerator<unknown[]> {
  const base = options.baseUrl ?? "https://api.github.com";
  const query = new URLSearchParams(options.params ?? {}).toString();
  let url: string | undefined =
    `${base}/repos/${options.repoName}/${options.endpoint}${query ? `?${query}` : ""}`;
  while (url !== undefined) {
    const response: Response = await fetch(url, {
      headers: {
        Accept: "application/vnd.github+json",
        ...(options.accessToken ? { Authorization: `Bearer ${options.accessToken}` } : {}),
      },
    });
    if (!response.ok) {
      // The URL goes through the redactor; the token is in a header and never in the message.
      throw new Error(`GitHub answered ${response.status} ${response.statusText} for GET ${redactUrl(url)}`);
    }
    const body: unknown = await response.json();
    yield Array.isArray(body) ? body : [body];
    url = nextLink(response.headers.get("link"));
  }
}

/** What {@link githubSource} receives: the tutorial's `repo_name` and `access_token`, and the API root. */
export type GithubSourceConfig = { repoName: string; accessToken: string; baseUrl: string };

/** What may be given in code (or in config) for {@link githubSource}; `baseUrl` has a default. */
export type GithubSourceConfigInput = { repoName: string; accessToken: string; baseUrl?: string | undefined };

// The type annotations on the two exports below are there only because this package is compiled with
// `isolatedDeclarations`; without it TypeScript infers the same types from the spec.

/** The source's config: `repo_name` is configuration, `access_token` a secret (env or secrets.toml only). */
export const githubSourceConfig: dlt.z.ZodType<GithubSourceConfig, GithubSourceConfigInput> = dlt.z.object({
  repoName: dlt.z.string(),
  accessToken: dlt.secret(dlt.z.string()),
  baseUrl: dlt.z.string().default("https://api.github.com"),
});

/**
 * One resource per endpoint. Call it with nothing (every value from config), or with some values in
 * code: `githubSource({ repoName: "dlt-hub/dlt" })` — the token still comes from config.
 */
export const githubSource: dlt.ConfiguredSourceFactory<
  typeof githubSourceConfig,
  [endpoints?: readonly string[]]
> = dlt.source(
  function* github_source(
    { repoName, accessToken, baseUrl },
    endpoints: readonly string[] = GITHUB_ENDPOINTS,
  ) {
    for (const endpoint of endpoints) {
      yield dlt.resource(
        () => fetchGithubData({ repoName, accessToken, baseUrl, endpoint, params: { per_page: "100" } }),
        // The tutorial merges on `id`; `traffic/clones` answers one object without `id`, so all append here.
        { name: endpoint.replace("/", "_") },
      );
    }
  },
  { section: "github", config: githubSourceConfig },
);
