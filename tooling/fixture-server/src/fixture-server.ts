/**
 * A local HTTP server for tests, examples and benchmarks: listens on 127.0.0.1 on a free port and answers
 * from a list of routes (recorded responses, or functions that build them). It counts requests in flight,
 * so a test can prove that requests overlap without timing anything, and it can delay, reset or hang a
 * response to exercise retries and timeouts.
 *
 * Not supported: TLS, HTTP/2, chunked streaming of large bodies (every body is sent in one write).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A request as the fixture server received it. */
export interface FixtureRequest {
  /** Upper-case method. */
  readonly method: string;
  /** The full URL, with the server's own origin. */
  readonly url: URL;
  /** Path and query, as sent. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body as text (empty when there was none). */
  readonly body: string;
  /** The body parsed as JSON (`undefined` when empty or not JSON). */
  readonly json: unknown;
  /** When the request arrived (`performance.now()`, milliseconds). */
  readonly at: number;
}

/** What the server answers. */
export interface FixtureResponse {
  /** @default 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /** A string is sent as is; anything else as JSON (with `content-type: application/json` unless set). */
  readonly body?: unknown;
  /** Wait this long before answering (adds to the server's `delayMs`). */
  readonly delayMs?: number;
  /** Destroy the connection instead of answering (the client sees a connection reset). */
  readonly reset?: boolean;
  /** Send the headers, then destroy the connection in the middle of the body. */
  readonly resetAfterHeaders?: boolean;
  /** Never answer; the connection is closed when the server closes or the client gives up. */
  readonly hang?: boolean;
}

/** A function that builds a response. */
export type FixtureResponder = (
  request: FixtureRequest,
  server: FixtureServer,
) => FixtureResponse | Promise<FixtureResponse>;

/** One route: which requests it answers, how often, and with what. */
export interface FixtureRoute {
  /** Upper- or lower-case method, or `*` for any. @default "GET" */
  readonly method?: string;
  /**
   * A string matches the path exactly; when it has a query, the request's query must hold the same
   * parameters (in any order), otherwise any query matches. A RegExp is tested against path + query; a
   * function receives the parsed URL.
   */
  readonly path: string | RegExp | ((url: URL) => boolean);
  /** A further condition on the request (e.g. on its JSON body). */
  readonly match?: (request: FixtureRequest) => boolean;
  /** How many requests this route answers before it stops matching. @default Infinity */
  readonly times?: number;
  readonly respond: FixtureResponse | FixtureResponder;
}

/** Options of {@link startFixtureServer}. */
export interface FixtureServerOptions {
  readonly routes?: readonly FixtureRoute[];
  /** A delay before every response, e.g. 50 ms per page for the `rest-4x50` benchmark. @default 0 */
  readonly delayMs?: number;
}

interface RouteState {
  readonly route: FixtureRoute;
  remaining: number;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** The query of `search` as sorted `key=value` pairs (decoded), for order-insensitive comparison. */
function queryPairs(search: string): string[] {
  return [...new URLSearchParams(search)].map(([k, v]) => `${k}=${v}`).sort();
}

/** A path matcher that requires exactly this pathname and these query parameters (in any order). */
export function exactPath(path: string): (url: URL) => boolean {
  const q = path.indexOf("?");
  const pathname = q === -1 ? path : path.slice(0, q);
  const expected = queryPairs(q === -1 ? "" : path.slice(q + 1));
  return (url) => {
    if (url.pathname !== pathname) return false;
    const actual = queryPairs(url.search);
    return expected.length === actual.length && expected.every((pair, i) => pair === actual[i]);
  };
}

function matchesPath(path: FixtureRoute["path"], url: URL): boolean {
  if (typeof path === "function") return path(url);
  if (path instanceof RegExp) return path.test(url.pathname + url.search);
  const q = path.indexOf("?");
  const pathname = q === -1 ? path : path.slice(0, q);
  if (pathname !== url.pathname) return false;
  if (q === -1) return true;
  const expected = queryPairs(path.slice(q + 1));
  const actual = queryPairs(url.search);
  return expected.length === actual.length && expected.every((pair, i) => pair === actual[i]);
}

/** A running fixture server. Close it with `await server.close()` or `await using`. */
export class FixtureServer implements AsyncDisposable {
  /** The server's origin, e.g. `http://127.0.0.1:49152` (no trailing slash). */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: FixtureRequest[] = [];
  /** Requests no route matched (they were answered with 404). */
  readonly unmatched: FixtureRequest[] = [];
  /** A delay before every response. */
  delayMs: number;
  #routes: RouteState[] = [];
  #inFlight = 0;
  #maxInFlight = 0;
  readonly #server: ReturnType<typeof createServer>;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();

  /** @internal Use {@link startFixtureServer}. */
  constructor(server: ReturnType<typeof createServer>, url: string, options: FixtureServerOptions) {
    this.#server = server;
    this.url = url;
    this.delayMs = options.delayMs ?? 0;
    this.route(...(options.routes ?? []));
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    server.on("request", (req, res) => {
      void this.#handle(req, res);
    });
  }

  /** Requests being answered right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most requests that were in flight at the same time since the start or the last {@link resetStats}. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Adds routes; the first route (in the order added) that matches and has answers left wins. */
  route(...routes: readonly FixtureRoute[]): this {
    for (const route of routes)
      this.#routes.push({ route, remaining: route.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  /** Removes every route. */
  clearRoutes(): this {
    this.#routes = [];
    return this;
  }

  /** Forgets the request log and the in-flight high-water mark. */
  resetStats(): void {
    this.requests.length = 0;
    this.unmatched.length = 0;
    this.#maxInFlight = this.#inFlight;
  }

  /** The requests received for a path (pathname only, any query). */
  requestsTo(pathname: string): FixtureRequest[] {
    return this.requests.filter((r) => r.url.pathname === pathname);
  }

  /** Stops listening and destroys open connections (hanging requests included). */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#inFlight += 1;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    let counted = true;
    const done = (): void => {
      if (counted) this.#inFlight -= 1;
      counted = false;
    };
    res.on("close", done);
    const at = performance.now();
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = body === "" ? undefined : JSON.parse(body);
      } catch {
        json = undefined;
      }
      const method = (req.method ?? "GET").toUpperCase();
      const path = req.url ?? "/";
      const request: FixtureRequest = {
        method,
        url: new URL(path, this.url),
        path,
        headers: req.headers,
        body,
        json,
        at,
      };
      this.requests.push(request);

      const state = this.#routes.find(
        (s) =>
          s.remaining > 0 &&
          ((s.route.method ?? "GET") === "*" || (s.route.method ?? "GET").toUpperCase() === method) &&
          matchesPath(s.route.path, request.url) &&
          (s.route.match === undefined || s.route.match(request)),
      );
      let response: FixtureResponse;
      if (state === undefined) {
        this.unmatched.push(request);
        response = { status: 404, body: { message: `No fixture for ${method} ${path}` } };
      } else {
        state.remaining -= 1;
        const { respond } = state.route;
        response = typeof respond === "function" ? await respond(request, this) : respond;
      }
      await this.#sleep(this.delayMs + (response.delayMs ?? 0));
      if (response.hang) return;
      if (response.reset) {
        req.socket.destroy();
        return;
      }
      this.#send(res, response);
    } catch (error) {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `Fixture server failed: ${String(error)}` }));
      }
    }
  }

  #send(res: ServerResponse, response: FixtureResponse): void {
    const status = response.status ?? 200;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(response.headers ?? {})) {
      const key = name.toLowerCase();
      // The body may have been rewritten: length and framing are the server's business.
      if (key === "content-length" || key === "transfer-encoding" || key === "connection") continue;
      headers[key] = typeof value === "number" ? String(value) : (value as string | string[]);
    }
    let payload = "";
    if (!NULL_BODY_STATUSES.has(status) && response.body !== undefined) {
      if (typeof response.body === "string") {
        payload = response.body;
      } else {
        payload = JSON.stringify(response.body);
        headers["content-type"] ??= "application/json; charset=utf-8";
      }
    }
    if (response.resetAfterHeaders) {
      // Announce a longer body than is sent, then cut the connection: a mid-body reset.
      headers["content-length"] = String(Buffer.byteLength(payload) + 1024);
      res.writeHead(status, headers);
      res.write(payload.slice(0, Math.floor(payload.length / 2)));
      setImmediate(() => res.socket?.destroy());
      return;
    }
    headers["content-length"] = String(Buffer.byteLength(payload));
    res.writeHead(status, headers);
    res.end(payload);
  }
}

/**
 * Starts a fixture server on 127.0.0.1 on a free port.
 *
 * @example
 * ```ts
 * await using server = await startFixtureServer({ routes: octokitScenario("paginate-issues") });
 * const client = new RESTClient({ baseUrl: server.url });
 * ```
 */
export async function startFixtureServer(options: FixtureServerOptions = {}): Promise<FixtureServer> {
  const server = createServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return new FixtureServer(server, `http://127.0.0.1:${port}`, options);
}
