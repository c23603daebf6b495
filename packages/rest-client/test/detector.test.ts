import {
  type FixtureServer,
  octokitScenario,
  pagedRoute,
  recordingRoutes,
  startFixtureServer,
} from "@tsdlt/fixture-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  extractPageData,
  findNextCursorPath,
  findNextPageUrlPath,
  findResponsePageData,
  findTotalPagesPath,
  findValues,
  paginate,
  RESTClient,
} from "../src/index.js";
import { collect, fixture, recordingLogger } from "./helpers.js";

let server: FixtureServer;
beforeEach(async () => {
  server = await startFixtureServer();
});
afterEach(async () => {
  await server.close();
});

describe("paginator auto-detection", () => {
  it("should pick HeaderLinkPaginator for a Link header and log which one it chose", async () => {
    server.route(...octokitScenario("paginate-issues"));
    const logger = recordingLogger();
    const pages = await collect(
      paginate(`${server.url}/repos/octokit-fixture-org/paginate-issues/issues`, {
        params: { per_page: 3 },
        logger,
      }),
    );
    expect(pages.flat()).toHaveLength(13);
    expect(logger.lines.filter((l) => l.level === "info").map((l) => l.message)).toEqual([
      expect.stringMatching(/Detected paginator HeaderLinkPaginator\(linksNextKey=next\)/),
    ]);
    expect(logger.lines.filter((l) => l.level === "warn")).toEqual([]);
  });

  it("should pick JSONLinkPaginator for a `next` URL in the body and find `results`", async () => {
    server.route(...recordingRoutes(fixture("json-link-pokeapi.json")));
    const logger = recordingLogger();
    const pages = await collect(paginate(`${server.url}/api/v2/pokemon`, { params: { limit: 2 }, logger }));
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(logger.text()).toMatch(/Detected paginator JSONLinkPaginator\(nextUrlPath=next\)/);
  });

  it("should find a nested relative `_links.next.href`", async () => {
    server.route(...recordingRoutes(fixture("json-link-hal.json")));
    const logger = recordingLogger();
    const pages = await collect(paginate(`${server.url}/v1/orders`, { logger }));
    expect(pages.flat()).toHaveLength(6);
    expect(logger.text()).toMatch(/JSONLinkPaginator\(nextUrlPath=_links\.next\.href\)/);
  });

  it("should guess PageNumberPaginator from total_pages, continue at page 2, and warn", async () => {
    server.route(...recordingRoutes(fixture("page-number-reqres.json")));
    const logger = recordingLogger();
    const pages = await collect(paginate<{ id: number }>(`${server.url}/api/users`, { logger }));
    expect(pages.flat().map((u) => u.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(server.requests.map((r) => r.path)).toEqual([
      "/api/users",
      "/api/users?page=2",
      "/api/users?page=3",
    ]);
    expect(logger.text()).toMatch(
      /info: .*Detected paginator PageNumberPaginator\(basePage=1, pageParam=page, totalPath=total_pages\)/,
    );
    expect(logger.text()).toMatch(/warn: .*is a guess; set `paginator` explicitly/);
  });

  it("should guess a cursor paginator from a `next…` key with a non-URL value", async () => {
    server.route(...recordingRoutes(fixture("cursor-slack.json")));
    const logger = recordingLogger();
    const pages = await collect(
      paginate(`${server.url}/api/conversations.list`, { params: { limit: 2 }, logger }),
    );
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(logger.text()).toMatch(/JSONResponseCursorPaginator\(cursorPath=response_metadata\.next_cursor/);
  });

  it("should fall back to a single page and warn when a list came back without pagination", async () => {
    server.route(...octokitScenario("search-issues"));
    const logger = recordingLogger();
    const client = new RESTClient({ baseUrl: server.url, logger });
    const pages = await collect(
      client.paginate("/search/issues", { params: { q: "sesame repo:octokit-fixture-org/search-issues" } }),
    );
    expect(pages.map((p) => p.length)).toEqual([2]);
    expect(logger.text()).toMatch(/SinglePagePaginator/);
    expect(logger.text()).toMatch(/warn: .*No pagination detected/);
  });

  it("should not warn for a single object", async () => {
    server.route(...octokitScenario("get-root"));
    const logger = recordingLogger();
    const pages = await collect(paginate(`${server.url}/`, { logger }));
    expect(pages).toHaveLength(1);
    expect(pages[0]).toHaveLength(1);
    expect(logger.lines.filter((l) => l.level === "warn")).toEqual([]);
  });

  it("should detect paginators of generated endpoints in every style", async () => {
    for (const style of ["header_link", "json_link", "page_number", "cursor"] as const) {
      server.route(pagedRoute({ path: `/${style}`, style, pages: 3, pageSize: 2 }));
      const pages = await collect(paginate(`${server.url}/${style}`, { logger: recordingLogger() }));
      expect(pages.flat(), style).toHaveLength(6);
    }
  });
});

describe("findNextPageUrlPath / findTotalPagesPath / findNextCursorPath", () => {
  it.each([
    [{ next: "https://x/a?page=2" }, "next"],
    [{ next_page: "/a?page=2" }, "next_page"],
    [{ nextLink: "https://x/a" }, "nextLink"],
    [{ pagination: { next_url: "/p/2" } }, "pagination.next_url"],
    [{ links: { next: { href: "/p/2" } } }, "links.next.href"],
    [{ next: { url: "https://x/2" } }, "next.url"],
    [{ next: "abc" }, undefined],
    [{ next: null }, undefined],
    [[1, 2], undefined],
  ])("should find the next URL path in %j", (body, expected) => {
    expect(findNextPageUrlPath(body)).toBe(expected);
  });

  it("should find total pages and cursors", () => {
    expect(findTotalPagesPath({ meta: { total_pages: 3 } })).toBe("meta.total_pages");
    expect(findTotalPagesPath({ pages: "7" })).toBe("pages");
    expect(findTotalPagesPath({ totalPages: 7 })).toBe("totalPages");
    expect(findTotalPagesPath({ total: 7 })).toBeUndefined();
    expect(findNextCursorPath({ meta: { next_cursor: "c2" } })).toBe("meta.next_cursor");
    expect(findNextCursorPath({ next: 42 })).toBe("next");
    expect(findNextCursorPath({ next: "" })).toBeUndefined();
  });
});

describe("data selector", () => {
  it.each([
    [[{ id: 1 }], "$"],
    [{ data: [1] }, "data"],
    [{ meta: { tags: [1] }, results: [1] }, "results"],
    [{ pagination: { items: [1] }, data: [1] }, "data"],
    [{ response: { body: { Items: [1] } } }, "response.body.Items"],
    [{ a: { b: { c: { d: [1] } } } }, "$"],
    [{ id: 1, name: "x" }, "$"],
    [{ "odd-key": { "with space": [1] } }, "$['odd-key']['with space']"],
  ])("should auto-detect in %j → %s", (body, selector) => {
    expect(findResponsePageData(body)).toBe(selector);
    if (selector !== "$") expect(extractPageData(body, selector).data).toEqual([1]);
  });

  it("should select with JSONPath expressions and unwrap a single matched list", () => {
    const body = {
      data: [
        { id: 1, tags: ["a"] },
        { id: 2, tags: ["b", "c"] },
      ],
      meta: { next: null },
    };
    expect(extractPageData(body, "$.data").data).toHaveLength(2);
    expect(extractPageData(body, "data[*].id").data).toEqual([1, 2]);
    expect(extractPageData(body, "$.data[?@.id > 1]").data).toEqual([{ id: 2, tags: ["b", "c"] }]);
    expect(extractPageData(body, "meta.next")).toEqual({ data: [], missing: true, wasList: false });
    expect(extractPageData(body, "nope")).toEqual({ data: [], missing: true, wasList: false });
    expect(extractPageData({ item: { id: 1 } }, "item").data).toEqual([{ id: 1 }]);
    expect(findValues(body, "$..tags[*]")).toEqual(["a", "b", "c"]);
    expect(() => findValues(body, "$[?")).toThrow(/Invalid JSONPath/);
  });

  it("should warn when the selector finds nothing", async () => {
    server.route({ path: "/x", respond: { body: { items: [1] } } });
    const logger = recordingLogger();
    const pages = await collect(paginate(`${server.url}/x`, { dataSelector: "records", logger }));
    expect(pages).toEqual([[]]);
    expect(logger.text()).toMatch(/warn: .*Data selector `records` found no items/);
  });
});
