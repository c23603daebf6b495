/**
 * Routes that replay the recorded GitHub API responses of `@octokit/fixtures` (real responses, normalised
 * by the octokit team: ids, dates and tokens are fixed). Absolute `https://api.github.com` URLs in bodies and
 * headers (`Link`, `Location`) are rewritten to the fixture server's origin, so Link-header pagination
 * follows the local server.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FixtureRoute } from "./fixture-server.js";

/** The `api.github.com` scenarios shipped by `@octokit/fixtures` 23. */
export const OCTOKIT_SCENARIOS = [
  "add-and-remove-repository-collaborator",
  "add-labels-to-issue",
  "branch-protection",
  "create-file",
  "create-status",
  "errors",
  "get-archive",
  "get-content",
  "get-organization",
  "get-repository",
  "get-root",
  "git-refs",
  "labels",
  "lock-issue",
  "mark-notifications-as-read",
  "markdown",
  "paginate-issues",
  "project-cards",
  "release-assets",
  "release-assets-conflict",
  "rename-repository",
  "search-issues",
] as const;
/** A scenario name of `@octokit/fixtures`. */
export type OctokitScenario = (typeof OCTOKIT_SCENARIOS)[number];

/** One recorded exchange of a normalized octokit fixture. */
export interface OctokitFixture {
  readonly method: string;
  /** Path and query, e.g. `/repos/octokit-fixture-org/paginate-issues/issues?per_page=3`. */
  readonly path: string;
  readonly status: number;
  readonly response: unknown;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly reqheaders?: Readonly<Record<string, string | number>>;
  readonly body?: unknown;
}

const GITHUB_ORIGIN = "https://api.github.com";

/** Reads the recorded exchanges of one scenario. */
export function readOctokitScenario(name: OctokitScenario): OctokitFixture[] {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("@octokit/fixtures/package.json"));
  const file = join(root, "scenarios", "api.github.com", name, "normalized-fixture.json");
  return JSON.parse(readFileSync(file, "utf8")) as OctokitFixture[];
}

function rewrite(text: string, origin: string): string {
  return text.replaceAll(GITHUB_ORIGIN, origin);
}

/**
 * Routes replaying a scenario. An exchange whose method and path occur once answers any number of times;
 * exchanges that repeat the same method and path answer once each, in the recorded order.
 */
export function octokitScenario(name: OctokitScenario): FixtureRoute[] {
  const fixtures = readOctokitScenario(name);
  const counts = new Map<string, number>();
  for (const f of fixtures) {
    const key = `${f.method.toUpperCase()} ${f.path}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return fixtures.map((fixture): FixtureRoute => {
    const method = fixture.method.toUpperCase();
    const repeated = (counts.get(`${method} ${fixture.path}`) ?? 0) > 1;
    const route: FixtureRoute = {
      method,
      path: fixture.path,
      respond: (_request, server) => {
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(fixture.headers)) {
          headers[key] = rewrite(String(value), server.url);
        }
        const body =
          fixture.response === undefined || fixture.response === ""
            ? undefined
            : typeof fixture.response === "string"
              ? rewrite(fixture.response, server.url)
              : (JSON.parse(rewrite(JSON.stringify(fixture.response), server.url)) as unknown);
        return { status: fixture.status, headers, body };
      },
    };
    return repeated ? { ...route, times: 1 } : route;
  });
}
