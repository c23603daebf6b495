/**
 * A local GitHub API for the tutorial examples, on `@tsdlt/fixture-server`. It serves recorded data:
 *
 * - `"recorded"`: the 13 issues of @octokit/fixtures' `paginate-issues` recording (real GitHub
 *   responses, normalised by octokit), with the recording's response headers (rate limits, etag...),
 *   and the comments of `fixtures/github-comments.json`;
 * - `"next-day"`: `fixtures/github-next-day.json`, the same repository a day later (an issue renamed,
 *   one commented, one created). The recording has no updates between runs, so tests switch to this
 *   variant to see what a second run of an incremental pipeline does.
 *
 * List endpoints behave as GitHub's: `since` (updated at or after), `state`, `sort`/`direction`,
 * `per_page`/`page` with a `Link` header of absolute URLs. `per_page` is capped at
 * {@link GithubServerOptions.maxPerPage} (GitHub caps at 100), so the examples' `per_page=100` still
 * walks several pages of the 13 recorded issues.
 */
import { readFileSync } from "node:fs";
import {
  type FixtureRequest,
  type FixtureResponse,
  type FixtureServer,
  readOctokitScenario,
  startFixtureServer,
} from "@tsdlt/fixture-server";

type Item = Record<string, unknown>;

/** The data one variant serves. */
export interface GithubData {
  readonly issues: readonly Item[];
  readonly comments: readonly Item[];
}

/** Which data the server answers with. */
export type GithubVariant = "recorded" | "next-day";

function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}

/** The recorded variant: octokit's paginate-issues issues and the committed comments. */
export function recordedData(): GithubData {
  const exchanges = readOctokitScenario("paginate-issues");
  const comments = JSON.parse(readFileSync(fixture("github-comments.json"), "utf8")) as { comments: Item[] };
  return { issues: exchanges.flatMap((e) => e.response as Item[]), comments: comments.comments };
}

/** The next-day variant. */
export function nextDayData(): GithubData {
  const data = JSON.parse(readFileSync(fixture("github-next-day.json"), "utf8")) as GithubData;
  return { issues: data.issues, comments: data.comments };
}

/** Response headers of the recording (rate limits, etag, media type), without framing and paging. */
function recordedHeaders(): Record<string, string> {
  const [first] = readOctokitScenario("paginate-issues");
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(first?.headers ?? {})) {
    if (!["link", "content-length", "connection", "date"].includes(key.toLowerCase()))
      headers[key] = String(value);
  }
  return headers;
}

/** Options of {@link startGithubServer}. */
export interface GithubServerOptions {
  /** Largest page served. @default 5 */
  readonly maxPerPage?: number;
}

/** The running server: its origin, request log and the variant it serves. */
export interface GithubServer extends AsyncDisposable {
  readonly server: FixtureServer;
  readonly url: string;
  variant: GithubVariant;
  /** `path?query` of the requests received (sorted query not applied: as sent). */
  paths(): string[];
  close(): Promise<void>;
}

function issueNumberOf(comment: Item): number {
  return Number(String(comment.issue_url).split("/").at(-1));
}

/** `items` as GitHub lists them for the request's query. */
function listed(items: readonly Item[], url: URL, defaults: { direction: "asc" | "desc" }): Item[] {
  const since = url.searchParams.get("since");
  const state = url.searchParams.get("state") ?? "open";
  const sort = url.searchParams.get("sort") ?? "created";
  const direction = url.searchParams.get("direction") ?? defaults.direction;
  const key = sort === "updated" ? "updated_at" : "created_at";
  return items
    .filter((i) => since === null || String(i.updated_at) >= since)
    .filter((i) => i.state === undefined || state === "all" || i.state === state)
    .map((item, index) => ({ item, index }))
    .sort((a, b) => {
      const order = String(a.item[key]).localeCompare(String(b.item[key]));
      return (direction === "asc" ? order : -order) || a.index - b.index;
    })
    .map(({ item }) => item);
}

/** One page of `items` with GitHub's `Link` header. */
function page(
  items: readonly Item[],
  request: FixtureRequest,
  maxPerPage: number,
  headers: Record<string, string>,
): FixtureResponse {
  const url = request.url;
  const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30), maxPerPage);
  const pageNo = Number(url.searchParams.get("page") ?? 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string): string => {
    const target = new URL(url);
    target.searchParams.set("page", String(n));
    return `<${target}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (pageNo > 1) links.push(link(pageNo - 1, "prev"));
  if (pageNo < last) links.push(link(pageNo + 1, "next"), link(last, "last"));
  if (pageNo > 1) links.push(link(1, "first"));
  return {
    headers: { ...headers, ...(links.length > 0 ? { link: links.join(", ") } : {}) },
    body: items.slice((pageNo - 1) * perPage, pageNo * perPage),
  };
}

/** Starts the local GitHub API on a free port (any `owner/repo` answers with the same data). */
export async function startGithubServer(options: GithubServerOptions = {}): Promise<GithubServer> {
  const maxPerPage = options.maxPerPage ?? 5;
  const data: Record<GithubVariant, GithubData> = { recorded: recordedData(), "next-day": nextDayData() };
  const headers = recordedHeaders();
  const repo = "^/repos/[^/]+/[^/]+";
  const state = { variant: "recorded" as GithubVariant };
  const current = (): GithubData => data[state.variant];
  const server = await startFixtureServer({
    routes: [
      {
        path: (url) => new RegExp(`${repo}/issues$`).test(url.pathname),
        respond: (request) =>
          page(listed(current().issues, request.url, { direction: "desc" }), request, maxPerPage, headers),
      },
      {
        path: (url) => new RegExp(`${repo}/issues/\\d+/comments$`).test(url.pathname),
        respond: (request) => {
          const n = Number(request.url.pathname.split("/").at(-2));
          const comments = current().comments.filter((c) => issueNumberOf(c) === n);
          return page(listed(comments, request.url, { direction: "asc" }), request, maxPerPage, headers);
        },
      },
      {
        path: (url) => new RegExp(`${repo}/comments$`).test(url.pathname),
        respond: (request) =>
          page(listed(current().comments, request.url, { direction: "asc" }), request, maxPerPage, headers),
      },
    ],
  });
  const github: GithubServer = {
    server,
    url: server.url,
    get variant() {
      return state.variant;
    },
    set variant(value: GithubVariant) {
      state.variant = value;
    },
    paths: () => server.requests.map((r) => r.path),
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
  return github;
}
