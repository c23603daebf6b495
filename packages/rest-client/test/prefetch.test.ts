import { type FixtureServer, pagedRoute, startFixtureServer } from "@tsdlt/fixture-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HeaderLinkPaginator, PageNumberPaginator, RESTClient, RestClientError } from "../src/index.js";
import { collect, recordingLogger, sleep } from "./helpers.js";

let server: FixtureServer;
beforeEach(async () => {
  server = await startFixtureServer();
});
afterEach(async () => {
  await server.close();
});

function client(prefetch?: number): RESTClient {
  return new RESTClient({
    baseUrl: server.url,
    logger: recordingLogger(),
    ...(prefetch === undefined ? {} : { prefetch }),
  });
}

describe("overlapping requests", () => {
  it("should run four Link-header paginations with 50 ms per page concurrently", async () => {
    for (const name of ["a", "b", "c", "d"]) {
      server.route(
        pagedRoute({ path: `/${name}/issues`, style: "header_link", pages: 5, pageSize: 20, delayMs: 50 }),
      );
    }
    const api = client();
    // Warm up (module loading, the connection pool) so the timing below measures requests only.
    await collect(api.paginate("/a/issues", { paginator: new HeaderLinkPaginator() }));
    server.resetStats();
    const started = performance.now();
    const results = await Promise.all(
      ["a", "b", "c", "d"].map((name) =>
        collect(api.paginate(`/${name}/issues`, { paginator: new HeaderLinkPaginator() })),
      ),
    );
    const elapsed = performance.now() - started;
    expect(results.map((pages) => pages.flat().length)).toEqual([100, 100, 100, 100]);
    expect(server.maxInFlight).toBeGreaterThanOrEqual(4);
    // Serial would be 4 × 5 × 50 ms = 1000 ms; concurrent is about 250-300 ms. A generous bound:
    expect(elapsed).toBeLessThan(900);
  });

  it("should fetch the next page while the consumer processes the current one", async () => {
    server.route(pagedRoute({ path: "/issues", style: "header_link", pages: 4, pageSize: 2, delayMs: 50 }));
    const processed: number[] = [];
    for await (const _page of client(1).paginate("/issues")) {
      await sleep(60);
      processed.push(performance.now());
    }
    const arrivals = server.requests.map((r) => r.at);
    expect(arrivals).toHaveLength(4);
    // Request k+1 reaches the server before the consumer has finished page k.
    for (let k = 0; k < 3; k++) expect(arrivals[k + 1] as number).toBeLessThan(processed[k] as number);
  });

  it("should fetch lazily with prefetch 0", async () => {
    server.route(pagedRoute({ path: "/issues", style: "header_link", pages: 3, pageSize: 2 }));
    const processed: number[] = [];
    for await (const _page of client(0).paginate("/issues")) {
      await sleep(20);
      processed.push(performance.now());
    }
    const arrivals = server.requests.map((r) => r.at);
    for (let k = 0; k < 2; k++) expect(arrivals[k + 1] as number).toBeGreaterThan(processed[k] as number);
    expect(server.maxInFlight).toBe(1);
  });

  it("should abort requests in flight when the consumer stops early", async () => {
    server.route(pagedRoute({ path: "/pages", style: "page_number", pages: 50, pageSize: 1, delayMs: 40 }));
    const paginator = new PageNumberPaginator({ basePage: 1, totalPath: "total_pages" });
    let seen = 0;
    for await (const _page of client(4).paginate("/pages", { paginator, dataSelector: "data" })) {
      seen += 1;
      if (seen === 2) break;
    }
    await sleep(100);
    const count = server.requests.length;
    expect(count).toBeLessThanOrEqual(2 + 4);
    await sleep(100);
    expect(server.requests.length).toBe(count);
    expect(server.inFlight).toBe(0);
  });

  it("should raise a prefetched page's error only when the consumer reaches it", async () => {
    server.route({
      path: "/p",
      respond: (request) => {
        const page = Number(request.url.searchParams.get("page"));
        return page === 3
          ? { status: 400, body: { message: "bad page" } }
          : { body: { data: [page], total_pages: 5 } };
      },
    });
    const pages: unknown[][] = [];
    const error = await (async () => {
      for await (const page of client(4).paginate("/p", {
        paginator: new PageNumberPaginator({ basePage: 1, totalPath: "total_pages" }),
        dataSelector: "data",
      })) {
        pages.push([...page]);
      }
    })().catch((e: unknown) => e);
    expect(pages).toEqual([[1], [2]]);
    expect(error).toBeInstanceOf(RestClientError);
    expect((error as RestClientError).status).toBe(400);
  });
});
