import { isTsdltError } from "@tsdlt/core";
import {
  type FixtureServer,
  octokitScenario,
  pagedRoute,
  recordingRoutes,
  startFixtureServer,
} from "@tsdlt/fixture-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  HeaderCursorPaginator,
  HeaderLinkPaginator,
  JSONLinkPaginator,
  JSONResponseCursorPaginator,
  OffsetPaginator,
  PageNumberPaginator,
  RESTClient,
  SinglePagePaginator,
} from "../src/index.js";
import { collect, fixture, recordingLogger } from "./helpers.js";

let server: FixtureServer;
beforeEach(async () => {
  server = await startFixtureServer();
});
afterEach(async () => {
  await server.close();
});

function client(options: ConstructorParameters<typeof RESTClient>[0] = {}): RESTClient {
  return new RESTClient({ baseUrl: server.url, logger: recordingLogger(), ...options });
}

describe("HeaderLinkPaginator", () => {
  it("should follow rel=next through the recorded GitHub issue pages without repeating query params", async () => {
    server.route(...octokitScenario("paginate-issues"));
    const pages = await collect(
      client({ paginator: new HeaderLinkPaginator() }).paginate<{ number: number }>(
        "/repos/octokit-fixture-org/paginate-issues/issues",
        { params: { per_page: 3 } },
      ),
    );
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 3, 1]);
    expect(pages.flat().map((i) => i.number)).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(server.unmatched).toEqual([]);
    expect(server.requests.map((r) => r.path)).toEqual([
      "/repos/octokit-fixture-org/paginate-issues/issues?per_page=3",
      "/repositories/1000/issues?per_page=3&page=2",
      "/repositories/1000/issues?per_page=3&page=3",
      "/repositories/1000/issues?per_page=3&page=4",
      "/repositories/1000/issues?per_page=3&page=5",
    ]);
  });

  it("should attach request, response and paginator to each page without making them enumerable", async () => {
    server.route(...octokitScenario("paginate-issues"));
    const iterator = client().paginate("/repos/octokit-fixture-org/paginate-issues/issues", {
      params: { per_page: 3 },
      paginator: new HeaderLinkPaginator(),
    });
    const first = await iterator.next();
    await iterator.return();
    const page = first.value as Awaited<ReturnType<typeof iterator.next>>["value"] & object;
    expect(page.response.status).toBe(200);
    expect(page.response.headers.get("x-ratelimit-remaining")).toBe("4999");
    expect(page.request.params).toEqual({ per_page: 3 });
    expect(page.paginator.hasNextPage).toBe(true);
    expect(Object.keys(page)).toEqual(["0", "1", "2"]);
  });
});

describe("JSONLinkPaginator", () => {
  it("should follow absolute next URLs in the body (PokeAPI)", async () => {
    server.route(...recordingRoutes(fixture("json-link-pokeapi.json")));
    const pages = await collect(
      client().paginate<{ name: string }>("/api/v2/pokemon", {
        params: { limit: 2 },
        paginator: new JSONLinkPaginator({ nextUrlPath: "next" }),
        dataSelector: "results",
      }),
    );
    expect(pages.map((p) => p.map((m) => m.name))).toEqual([
      ["bulbasaur", "ivysaur"],
      ["venusaur", "charmander"],
      ["charmeleon"],
    ]);
    expect(server.unmatched).toEqual([]);
  });

  it("should resolve a relative next URL in a nested HAL link against the response URL", async () => {
    server.route(...recordingRoutes(fixture("json-link-hal.json")));
    const pages = await collect(
      client().paginate<{ id: string }>("/v1/orders", {
        paginator: new JSONLinkPaginator({ nextUrlPath: "_links.next.href" }),
        dataSelector: "_embedded.orders",
      }),
    );
    expect(pages.flat().map((o) => o.id)).toEqual([
      "ord_10",
      "ord_11",
      "ord_20",
      "ord_21",
      "ord_30",
      "ord_31",
    ]);
    expect(server.unmatched).toEqual([]);
  });
});

describe("OffsetPaginator", () => {
  it("should advance offset by limit and stop at the total", async () => {
    server.route(...recordingRoutes(fixture("offset-spotify.json")));
    const pages = await collect(
      client().paginate<{ name: string }>("/v1/albums/4LH4d3cOWNNsVw41Gqt2kv/tracks", {
        paginator: new OffsetPaginator({ limit: 2 }),
        dataSelector: "items",
        prefetch: 1,
      }),
    );
    expect(pages.map((p) => p.map((t) => t.name))).toEqual([
      ["Intro", "Breathe"],
      ["Time", "Money"],
      ["Us and Them"],
    ]);
    // The total says 5: no request for offset 6.
    expect(server.requests.map((r) => r.url.searchParams.get("offset"))).toEqual(["0", "2", "4"]);
  });

  it("should stop on an empty page when there is no total", async () => {
    server.route(...recordingRoutes(fixture("offset-spotify.json")));
    const pages = await collect(
      client().paginate("/v1/albums/4LH4d3cOWNNsVw41Gqt2kv/tracks", {
        paginator: new OffsetPaginator({ limit: 2, totalPath: null }),
        dataSelector: "items",
        prefetch: 0,
      }),
    );
    // The empty page that ends pagination is yielded too, as dlt does.
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1, 0]);
    expect(server.requests.map((r) => r.url.searchParams.get("offset"))).toEqual(["0", "2", "4", "6"]);
  });

  it("should stop at maximumOffset", async () => {
    server.route(pagedRoute({ path: "/items", style: "offset", pages: 10, pageSize: 5 }));
    const pages = await collect(
      client().paginate("/items", {
        paginator: new OffsetPaginator({ limit: 5, totalPath: null, maximumOffset: 12 }),
        dataSelector: "items",
      }),
    );
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5]);
  });

  it("should send offset and limit in the JSON body of a POST", async () => {
    server.route({
      method: "POST",
      path: "/search",
      respond: (request) => {
        const { page } = request.json as { page: { offset: number; limit: number } };
        const all = ["a", "b", "c", "d", "e"];
        return { body: { hits: all.slice(page.offset, page.offset + page.limit), total: all.length } };
      },
    });
    const pages = await collect(
      client().paginate<string>("/search", {
        method: "POST",
        json: { query: "x" },
        paginator: new OffsetPaginator({
          limit: 2,
          offsetBodyPath: "page.offset",
          limitBodyPath: "page.limit",
        }),
        dataSelector: "hits",
      }),
    );
    expect(pages).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(server.requests.map((r) => r.json)).toEqual([
      { query: "x", page: { offset: 0, limit: 2 } },
      { query: "x", page: { offset: 2, limit: 2 } },
      { query: "x", page: { offset: 4, limit: 2 } },
    ]);
    expect(server.requests.every((r) => r.url.search === "")).toBe(true);
  });

  it("should refuse a configuration that never stops", () => {
    expect(() => new OffsetPaginator({ limit: 2, totalPath: null, stopAfterEmptyPage: false })).toThrow(
      /would never stop/,
    );
  });
});

describe("PageNumberPaginator", () => {
  it("should count pages from basePage up to total_pages (reqres)", async () => {
    server.route(...recordingRoutes(fixture("page-number-reqres.json")));
    const pages = await collect(
      client().paginate<{ first_name: string }>("/api/users", {
        paginator: new PageNumberPaginator({ basePage: 1, totalPath: "total_pages" }),
        dataSelector: "data",
        prefetch: 1,
      }),
    );
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4]);
    expect(pages[0]?.[0]?.first_name).toBe("George");
    expect(server.requests.map((r) => r.path)).toEqual([
      "/api/users?page=1",
      "/api/users?page=2",
      "/api/users?page=3",
    ]);
  });

  it("should fail with a helpful message when the total is missing", async () => {
    server.route(pagedRoute({ path: "/things", style: "page_number", pages: 2 }));
    const error = await collect(
      client().paginate("/things", { paginator: new PageNumberPaginator(), dataSelector: "data" }),
    ).catch((e: unknown) => e);
    expect(isTsdltError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(String(error)).toMatch(/Total pages not found at `total`.*totalPath: null/);
  });

  it("should stop at maximumPage and when hasMorePath says false", async () => {
    server.route(pagedRoute({ path: "/p", style: "page_number", pages: 10, pageSize: 2 }));
    const limited = await collect(
      client().paginate("/p", {
        paginator: new PageNumberPaginator({ basePage: 1, totalPath: null, maximumPage: 4 }),
        dataSelector: "data",
      }),
    );
    expect(limited).toHaveLength(3);
    server.clearRoutes().route({
      path: "/more",
      respond: (request) => {
        const page = Number(request.url.searchParams.get("page"));
        return { body: { data: [page], has_more: page < 2 ? "true" : "false" } };
      },
    });
    const flagged = await collect(
      client().paginate("/more", {
        paginator: new PageNumberPaginator({ totalPath: null, hasMorePath: "has_more" }),
        dataSelector: "data",
      }),
    );
    expect(flagged).toEqual([[0], [1], [2]]);
  });

  it("should fetch several pages at once when the total is known, keeping page order", async () => {
    server.route(pagedRoute({ path: "/pages", style: "page_number", pages: 8, pageSize: 3, delayMs: 30 }));
    const pages = await collect(
      client().paginate<{ id: number }>("/pages", {
        paginator: new PageNumberPaginator({ basePage: 1, totalPath: "total_pages" }),
        dataSelector: "data",
        prefetch: 4,
      }),
    );
    expect(pages.flat().map((i) => i.id)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(server.requests).toHaveLength(8);
    expect(server.maxInFlight).toBeGreaterThanOrEqual(3);
    expect(server.maxInFlight).toBeLessThanOrEqual(4);
  });
});

describe("JSONResponseCursorPaginator", () => {
  it("should send the cursor from the body as a query parameter (Slack)", async () => {
    server.route(...recordingRoutes(fixture("cursor-slack.json")));
    const pages = await collect(
      client().paginate<{ name: string }>("/api/conversations.list", {
        params: { limit: 2 },
        paginator: new JSONResponseCursorPaginator({ cursorPath: "response_metadata.next_cursor" }),
        dataSelector: "channels",
      }),
    );
    expect(pages.map((p) => p.map((c) => c.name))).toEqual([
      ["general", "random"],
      ["dev", "ops"],
      ["design"],
    ]);
    expect(server.unmatched).toEqual([]);
  });

  it("should send the cursor in the JSON body of a POST (Notion)", async () => {
    server.route(...recordingRoutes(fixture("cursor-body-notion.json")));
    const pages = await collect(
      client().paginate<{ id: string }>("/v1/databases/d9824bdc/query", {
        method: "POST",
        json: { page_size: 2 },
        paginator: new JSONResponseCursorPaginator({
          cursorPath: "next_cursor",
          cursorBodyPath: "start_cursor",
        }),
        dataSelector: "results",
      }),
    );
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    expect(server.unmatched).toEqual([]);
  });

  it("should stop when hasMorePath is false even if a cursor is present", async () => {
    server.route({ path: "/c", respond: { body: { items: [1], cursors: { next: "abc" }, more: false } } });
    const pages = await collect(
      client().paginate("/c", {
        paginator: new JSONResponseCursorPaginator({ hasMorePath: "more" }),
        dataSelector: "items",
      }),
    );
    expect(pages).toEqual([[1]]);
    expect(server.requests).toHaveLength(1);
  });
});

describe("HeaderCursorPaginator", () => {
  it("should read the cursor from a response header", async () => {
    server.route({
      path: "/events",
      respond: (request) => {
        const cursor = request.url.searchParams.get("cursor");
        if (cursor === null) return { headers: { "x-next": "p2" }, body: [{ id: 1 }, { id: 2 }] };
        return { body: [{ id: 3 }] };
      },
    });
    const pages = await collect(
      client().paginate("/events", { paginator: new HeaderCursorPaginator({ cursorKey: "X-Next" }) }),
    );
    expect(pages).toEqual([[{ id: 1 }, { id: 2 }], [{ id: 3 }]]);
    expect(server.requests[1]?.path).toBe("/events?cursor=p2");
  });
});

describe("SinglePagePaginator", () => {
  it("should make exactly one request even when a Link header offers more", async () => {
    server.route(...octokitScenario("paginate-issues"));
    const pages = await collect(
      client().paginate("/repos/octokit-fixture-org/paginate-issues/issues", {
        params: { per_page: 3 },
        paginator: new SinglePagePaginator(),
      }),
    );
    expect(pages).toHaveLength(1);
    expect(server.requests).toHaveLength(1);
  });
});

describe("client-level paginator", () => {
  it("should be inherited by every call, each with its own state", async () => {
    server.route(pagedRoute({ path: "/a", style: "page_number", pages: 3, pageSize: 1 }));
    server.route(pagedRoute({ path: "/b", style: "page_number", pages: 2, pageSize: 1 }));
    const shared = new PageNumberPaginator({ basePage: 1, totalPath: "total_pages" });
    const api = client({ paginator: shared, dataSelector: "data" });
    const [a, b] = await Promise.all([collect(api.paginate("/a")), collect(api.paginate("/b"))]);
    expect(a).toHaveLength(3);
    expect(b).toHaveLength(2);
    // The instance given to the client is a template: its own state never moves.
    expect(shared.page).toBe(1);
    expect(await collect(api.paginate("/a"))).toHaveLength(3);
  });
});
