/**
 * The GitHub source of the getting-started tutorial's last two steps ("Handle secrets",
 * "Configurable sources"): one resource per endpoint, pages fetched with `fetch` and followed through
 * the `Link` header, authenticated with a bearer token when one is configured.
 *
 * Until `dlt.source` lands, the source's config is declared as a zod spec and resolved with
 * `resolveConfig` from `@tsdlt/core`, with the sections a source named `github_source` in section
 * `github` has: `sources.github.github_source.<key>` → `sources.github.<key>` → ... → `<key>`, each also
 * prefixed with the pipeline name first (which is how the tutorial's `[github_with_source_secrets]`
 * TOML tables are found).
 */
import { redactUrl } from "@tsdlt/core";
import * as dlt from "tsdlt";

/** Sections of the source: `sources.<section>.<source name>`. */
export const GITHUB_SOURCE_SECTIONS: readonly string[] = ["sources", "github", "github_source"];

/** The endpoints the tutorial loads. */
export const GITHUB_ENDPOINTS: readonly string[] = ["issues", "comments", "traffic/clones"];

/** What {@link githubSource} needs. */
export interface GithubSourceOptions {
  /** `owner/name` of the repository. */
  readonly repoName: string;
  /** A GitHub token; `traffic/clones` needs one. */
  readonly accessToken?: string | undefined;
  /** API root. @default "https://api.github.com" */
  readonly baseUrl?: string | undefined;
  readonly endpoints?: readonly string[];
}

function nextLink(header: string | null): string | undefined {
  for (const part of header?.split(",") ?? []) {
    const match = /<([^>]+)>;\s*rel="next"/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

/** Pages of one endpoint: `GET <baseUrl>/repos/<repoName>/<endpoint>`, following `rel="next"` links. */
export async function* fetchGithubData(
  options: GithubSourceOptions & { readonly endpoint: string; readonly params?: Record<string, string> },
): AsyncGenerator<unknown[]> {
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

/**
 * One resource per endpoint. The tutorial declares them `merge` on `id`; they append here until the
 * DuckDB destination runs merge jobs.
 */
export function githubSource(options: GithubSourceOptions): dlt.DltResource[] {
  return (options.endpoints ?? GITHUB_ENDPOINTS).map((endpoint) =>
    dlt.resource(() => fetchGithubData({ ...options, endpoint, params: { per_page: "100" } }), {
      name: endpoint.replace("/", "_"),
    }),
  );
}
