import {
  type FixtureServer,
  octokitScenario,
  pagedRoute,
  recordingRoutes,
  startFixtureServer,
} from "@tsdlt/fixture-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  HeaderLinkPaginator,
  PageNumberPaginator,
  type RestApiConfig,
  type RestApiResource,
  restApiResources,
  SinglePagePaginator,
} from "../src/index.js";
import { collect, fixture, recordingLogger } from "./helpers.js";

let server: FixtureServer;
beforeEach(async () => {
  server = await startFixtureServer({
    routes: [
      ...octokitScenario("paginate-issues"),
      ...recordingRoutes(fixture("github-issue-comments.json")),
    ],
  });
});
afterEach(async () => {
  await server.close();
});

const REPO = "/repos/octokit-fixture-org/paginate-issues";
type Item = Record<string, unknown>;

function byName(resources: RestApiResource[], name: string): RestApiResource {
  const found = resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}`);
  return found;
}

function github(extra: Partial<RestApiConfig> = {}) {
  return {
    client: { baseUrl: `${server.url}${REPO}/`, paginator: "header_link", auth: { token: "ghp_test_token" } },
    resourceDefaults: { primaryKey: "id", writeDisposition: "merge" },
    ...extra,
  } as const;
}

const logger = recordingLogger();

describe("restApiResources", () => {
  it("should build parent and child resources with hints, and page through both", async () => {
    const resources = restApiResources(
      {
        ...github(),
        resources: [
          { name: "issues", endpoint: { path: "issues", params: { per_page: 3 } } },
          {
            name: "issue_comments",
            endpoint: { path: "issues/{resources.issues.number}/comments" },
            includeFromParent: ["id", "number"],
            writeDisposition: "append",
          },
        ],
      },
      { logger },
    );
    const issues = byName(resources, "issues");
    const comments = byName(resources, "issue_comments");
    expect([issues.primaryKey, issues.writeDisposition, issues.parent, issues.selected]).toEqual([
      "id",
      "merge",
      undefined,
      true,
    ]);
    expect(issues.endpoint.paginator).toBeUndefined(); // the client's header_link applies
    expect(comments.parent).toEqual({
      resource: "issues",
      fields: ["number"],
      includeFromParent: ["id", "number"],
    });
    expect(comments.writeDisposition).toBe("append");

    const issuePages = await collect(issues.pages());
    expect(issuePages.map((p) => p.length)).toEqual([3, 3, 3, 3, 1]);
    expect(server.requests.every((r) => r.headers.authorization === "Bearer ghp_test_token")).toBe(true);

    server.resetStats();
    const commentItems = (await collect(comments.pages())).flat() as Item[];
    // Issues 13..1 have (number % 3) comments each.
    expect(commentItems).toHaveLength(13);
    expect(commentItems[0]).toMatchObject({ id: 1301, _issues_id: 1000, _issues_number: 13 });
    expect(commentItems.map((c) => c._issues_number)).toEqual([13, 11, 11, 10, 8, 8, 7, 5, 5, 4, 2, 2, 1]);
    expect(server.unmatched).toEqual([]);
  });

  it("should fetch child pages for several parent items at once, in parent order", async () => {
    server.delayMs = 30;
    const [, comments] = restApiResources(
      {
        ...github(),
        resources: ["issues", { name: "comments", endpoint: "issues/{resources.issues.number}/comments" }],
      },
      { logger, childConcurrency: 4 },
    ) as [RestApiResource, RestApiResource];
    const parents = [{ number: 2 }, { number: 5 }, { number: 8 }, { number: 11 }];
    const items = (await collect(comments.childPages(parents))).flat() as Item[];
    expect(items.map((c) => c.id)).toEqual([201, 202, 501, 502, 801, 802, 1101, 1102]);
    expect(server.maxInFlight).toBe(4);
  });

  it("should resolve legacy `resolve` params into the path only", async () => {
    const [, comments] = restApiResources(
      {
        ...github(),
        resources: [
          "issues",
          {
            name: "comments",
            endpoint: {
              path: "issues/{issue_number}/comments",
              params: { issue_number: { type: "resolve", resource: "issues", field: "number" } },
            },
          },
        ],
      },
      { logger },
    ) as [RestApiResource, RestApiResource];
    expect(comments.parent?.resource).toBe("issues");
    const items = (await collect(comments.childPages([{ number: 2 }]))).flat();
    expect(items).toHaveLength(2);
    expect(server.requests.at(-1)?.path).toBe(`${REPO}/issues/2/comments`);
  });

  it("should treat a path ending in a placeholder as a single entity", async () => {
    server.route({
      path: (url) => /\/issues\/\d+$/.test(url.pathname),
      respond: (request) => ({
        headers: { link: `<${server.url}/never>; rel="next"` },
        body: { number: Number(request.url.pathname.split("/").at(-1)), labels: [{ name: "bug" }] },
      }),
    });
    const [, issue] = restApiResources(
      { ...github(), resources: ["issues", { name: "issue", endpoint: "issues/{resources.issues.number}" }] },
      { logger },
    ) as [RestApiResource, RestApiResource];
    expect(issue.endpoint.paginator).toBeInstanceOf(SinglePagePaginator);
    expect(issue.endpoint.dataSelector).toBe("$");
    const pages = await collect(issue.childPages([{ number: 7 }]));
    expect(pages).toEqual([[{ number: 7, labels: [{ name: "bug" }] }]]);
  });

  it("should let endpoint paginators win over defaults and the client", async () => {
    server.route(pagedRoute({ path: `${REPO}/pages`, style: "page_number", pages: 2, pageSize: 2 }));
    const resources = restApiResources(
      {
        ...github(),
        resourceDefaults: {
          endpoint: { paginator: { type: "page_number", basePage: 1, totalPath: "total_pages" } },
        },
        resources: [
          { name: "pages", endpoint: { path: "pages", dataSelector: "data" } },
          { name: "single", endpoint: { path: "pages", paginator: "single_page", dataSelector: "data" } },
        ],
      },
      { logger },
    );
    expect(byName(resources, "pages").endpoint.paginator).toBeInstanceOf(PageNumberPaginator);
    expect((await collect(byName(resources, "pages").pages())).flat()).toHaveLength(4);
    expect((await collect(byName(resources, "single").pages())).flat()).toHaveLength(2);
  });

  it("should put incremental values into params and placeholders", async () => {
    server.route({ path: `${REPO}/events`, method: "*", respond: { body: [{ id: 1 }] } });
    const resources = restApiResources(
      {
        ...github(),
        resources: [
          {
            name: "placeholder",
            endpoint: {
              path: "events",
              params: { since: "{incremental.start_value}", until: "{incremental.end_value}" },
              incremental: {
                cursorPath: "updated_at",
                initialValue: "2017-01-01T00:00:00Z",
                endValue: "2030-01-01",
              },
            },
          },
          {
            name: "legacy",
            endpoint: {
              path: "events",
              params: {
                since: {
                  type: "incremental",
                  cursorPath: "updated_at",
                  initialValue: 1000,
                  convert: (v) => Number(v) / 1000,
                },
              },
            },
          },
          {
            name: "params",
            endpoint: {
              path: "events",
              method: "POST",
              json: { filter: { after: "{incremental.last_value}" } },
              incremental: {
                cursorPath: "ts",
                initialValue: 5,
                startParam: "from",
                endParam: "to",
                endValue: 9,
              },
            },
          },
        ],
      },
      { logger },
    );
    await collect(byName(resources, "placeholder").pages());
    await collect(
      byName(resources, "placeholder").pages({
        incremental: { lastValue: "2020-05-05", startValue: "2020-05-05" },
      }),
    );
    await collect(byName(resources, "legacy").pages({ incremental: () => ({ lastValue: 4000 }) }));
    await collect(byName(resources, "params").pages({ incremental: { lastValue: 7 } }));
    const queries = server.requests.map((r) => Object.fromEntries(r.url.searchParams));
    expect(queries).toEqual([
      { since: "2017-01-01T00:00:00Z", until: "2030-01-01" },
      { since: "2020-05-05", until: "2030-01-01" },
      { since: "4" },
      { from: "7", to: "9" },
    ]);
    expect(server.requests[3]?.json).toEqual({ filter: { after: 7 } });
    expect(byName(resources, "legacy").incremental).toMatchObject({
      cursorPath: "updated_at",
      startParam: "since",
    });
    expect(byName(resources, "placeholder").incremental?.cursorPath).toBe("updated_at");
  });

  it("should ignore responses matched by response actions and apply processing steps", async () => {
    const [, comments] = restApiResources(
      {
        ...github(),
        resources: [
          "issues",
          {
            name: "comments",
            endpoint: {
              path: "issues/{resources.issues.number}/comments",
              responseActions: [{ statusCode: 404, action: "ignore" }],
            },
            processingSteps: [
              { filter: (c) => (c as Item).id !== 102 },
              { map: (c) => ({ id: (c as Item).id, short: String((c as Item).body).slice(0, 9) }) },
            ],
          },
        ],
      },
      { logger },
    ) as [RestApiResource, RestApiResource];
    // Issue 99 has no recording: the fixture server answers 404, which is ignored.
    const items = (await collect(comments.childPages([{ number: 1 }, { number: 99 }, { number: 2 }]))).flat();
    expect(items).toEqual([
      { id: 101, short: "Comment 1" },
      { id: 201, short: "Comment 1" },
      { id: 202, short: "Comment 2" },
    ]);
  });

  it("should resolve placeholders in JSON bodies and headers keeping value types", async () => {
    server.route({
      method: "POST",
      path: "/graphql",
      respond: { body: { data: { items: [{ ok: true }] } } },
    });
    const [, child] = restApiResources(
      {
        client: { baseUrl: server.url, paginator: new HeaderLinkPaginator() },
        resources: [
          "parents",
          {
            name: "child",
            endpoint: {
              path: "/graphql",
              method: "POST",
              json: {
                query: "q",
                variables: { n: "{resources.parents.number}", label: "#{resources.parents.number} {{x}}" },
              },
              headers: { "x-parent": "{resources.parents.number}" },
              dataSelector: "data.items",
            },
          },
        ],
      },
      { logger },
    ) as [RestApiResource, RestApiResource];
    expect((await collect(child.childPages([{ number: 42 }]))).flat()).toEqual([{ ok: true }]);
    expect(server.requests[0]?.json).toEqual({ query: "q", variables: { n: 42, label: "#42 {x}" } });
    expect(server.requests[0]?.headers["x-parent"]).toBe("42");
  });

  it("should reject configs the type checker cannot see: unknown parents, cycles, two parents, duplicates", () => {
    const base = { client: { baseUrl: server.url } };
    const unknown = {
      ...base,
      resources: [{ name: "a", endpoint: "x/{resources.missing.id}" }],
    } as RestApiConfig;
    expect(() => restApiResources(unknown as never)).toThrow(
      /Resource `a` refers to resource `missing`, which is not declared\. Declared resources: `a`\./,
    );
    const cycle = {
      ...base,
      resources: [
        { name: "a", endpoint: "x/{resources.b.id}" },
        { name: "b", endpoint: "y/{resources.a.id}" },
      ],
    } as RestApiConfig;
    expect(() => restApiResources(cycle as never)).toThrow(/cycle/);
    const two = {
      ...base,
      resources: ["a", "b", { name: "c", endpoint: "x/{resources.a.id}/{resources.b.id}" }],
    } as RestApiConfig;
    expect(() => restApiResources(two as never)).toThrow(/several parents/);
    expect(() => restApiResources({ ...base, resources: ["a", "a"] })).toThrow(/declared twice/);
    expect(() =>
      restApiResources({
        ...base,
        resources: [{ name: "a", endpoint: { path: "x", paginator: "bogus" as "auto" } }],
      }),
    ).toThrow(/Unknown paginator type `bogus`/);
  });

  it("should report an unknown placeholder when the request is built", async () => {
    const [r] = restApiResources({
      client: { baseUrl: server.url },
      resources: [{ name: "a", endpoint: "x/{oops}" }],
    });
    await expect(collect((r as RestApiResource).pages())).rejects.toThrow(
      /Unknown placeholder `\{oops\}`.*`\{\{`/,
    );
  });
});
