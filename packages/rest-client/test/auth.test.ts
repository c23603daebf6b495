import { type FixtureServer, octokitScenario, startFixtureServer } from "@tsdlt/fixture-server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  APIKeyAuth,
  type Auth,
  BearerTokenAuth,
  createAuth,
  createSession,
  HttpBasicAuth,
  OAuth2ClientCredentials,
  type PreparedRequest,
  RESTClient,
  RestClientError,
} from "../src/index.js";
import { collect, FAST_RETRY, recordingLogger } from "./helpers.js";

let server: FixtureServer;
beforeEach(async () => {
  server = await startFixtureServer();
  server.route({ path: "/me", method: "*", respond: { body: { ok: true } } });
});
afterEach(async () => {
  vi.useRealTimers();
  await server.close();
});

function client(auth: Auth): RESTClient {
  return new RESTClient({ baseUrl: server.url, auth, logger: recordingLogger() });
}

describe("BearerTokenAuth", () => {
  it("should send Authorization: Bearer on every page of a paginated GitHub call", async () => {
    server.route(...octokitScenario("paginate-issues"));
    const api = client(new BearerTokenAuth({ token: "ghp_secret_token_123" }));
    await collect(
      api.paginate("/repos/octokit-fixture-org/paginate-issues/issues", { params: { per_page: 3 } }),
    );
    expect(server.requests).toHaveLength(5);
    expect(server.requests.every((r) => r.headers.authorization === "Bearer ghp_secret_token_123")).toBe(
      true,
    );
  });

  it("should be the default type of an auth config with a token", async () => {
    await client(createAuth({ token: "t0ken" })).get("/me");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer t0ken");
    expect(String(new BearerTokenAuth({ token: "t0ken" }))).not.toContain("t0ken");
  });
});

describe("APIKeyAuth", () => {
  it("should send the key in a header", async () => {
    await client(new APIKeyAuth({ name: "X-API-Key", apiKey: "k-123456" })).get("/me");
    expect(server.requests[0]?.headers["x-api-key"]).toBe("k-123456");
  });

  it("should send the key as a query parameter and keep other params", async () => {
    await client(createAuth({ type: "api_key", name: "api_key", apiKey: "k-123456", location: "query" })).get(
      "/me",
      {
        params: { q: "x" },
      },
    );
    expect(server.requests[0]?.url.searchParams.get("api_key")).toBe("k-123456");
    expect(server.requests[0]?.url.searchParams.get("q")).toBe("x");
  });

  it("should reject cookies as a location", () => {
    expect(() => new APIKeyAuth({ apiKey: "k", location: "cookie" })).toThrow(/not supported/);
  });
});

describe("HttpBasicAuth", () => {
  it("should send base64(user:password)", async () => {
    await client(createAuth({ type: "http_basic", username: "aladdin", password: "opensesame" })).get("/me");
    expect(server.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from("aladdin:opensesame").toString("base64")}`,
    );
    expect(String(new HttpBasicAuth({ username: "aladdin", password: "opensesame" }))).not.toContain(
      "opensesame",
    );
  });
});

describe("custom auth hook", () => {
  it("should let a function sign each request", async () => {
    const api = client((request: PreparedRequest) => {
      request.headers["x-signature"] = `sig:${request.method}:${new URL(request.url).pathname}`;
    });
    await api.post("/me", { json: { a: 1 } });
    expect(server.requests[0]?.headers["x-signature"]).toBe("sig:POST:/me");
  });

  it("should accept an object with apply()", async () => {
    const api = client({
      apply: async (request: PreparedRequest) => {
        request.params.sig = "abc";
      },
    });
    await api.get("/me");
    expect(server.requests[0]?.url.searchParams.get("sig")).toBe("abc");
  });
});

describe("OAuth2ClientCredentials", () => {
  function tokenRoute(expiresIn: number | undefined): void {
    let issued = 0;
    server.route({
      method: "POST",
      path: "/oauth/token",
      respond: (request) => {
        const form = new URLSearchParams(request.body);
        if (form.get("client_secret") !== "s3cret-value" || form.get("grant_type") !== "client_credentials") {
          return { status: 401, body: { error: "invalid_client" } };
        }
        issued += 1;
        return {
          body: {
            access_token: `token-${issued}-${form.get("scope") ?? ""}`,
            token_type: "Bearer",
            ...(expiresIn === undefined ? {} : { expires_in: expiresIn }),
          },
        };
      },
    });
  }

  function oauth(
    extra: Partial<ConstructorParameters<typeof OAuth2ClientCredentials>[0]> = {},
  ): OAuth2ClientCredentials {
    return new OAuth2ClientCredentials({
      accessTokenUrl: `${server.url}/oauth/token`,
      clientId: "my-client",
      clientSecret: "s3cret-value",
      accessTokenRequestData: { scope: "read" },
      session: createSession(FAST_RETRY),
      ...extra,
    });
  }

  it("should fetch a token once, post the form, and cache it across requests", async () => {
    tokenRoute(3600);
    const auth = oauth();
    const api = client(auth);
    await Promise.all([api.get("/me"), api.get("/me"), api.get("/me")]);
    await api.get("/me");
    const tokenRequests = server.requestsTo("/oauth/token");
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(tokenRequests[0]?.body))).toEqual({
      client_id: "my-client",
      client_secret: "s3cret-value",
      grant_type: "client_credentials",
      scope: "read",
    });
    expect(server.requestsTo("/me").map((r) => r.headers.authorization)).toEqual(
      Array(4).fill("Bearer token-1-read"),
    );
  });

  it("should refresh the token shortly before it expires", async () => {
    tokenRoute(600);
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-01-01T00:00:00Z") });
    const auth = oauth();
    const api = client(auth);
    await api.get("/me");
    vi.setSystemTime(new Date("2026-01-01T00:08:00Z"));
    await api.get("/me");
    expect(auth.isTokenExpired()).toBe(false);
    // 600 s lifetime, margin min(60 s, 60 s): refreshed from 00:09:00 on.
    vi.setSystemTime(new Date("2026-01-01T00:09:01Z"));
    expect(auth.isTokenExpired()).toBe(true);
    await api.get("/me");
    expect(server.requestsTo("/me").map((r) => r.headers.authorization)).toEqual([
      "Bearer token-1-read",
      "Bearer token-1-read",
      "Bearer token-2-read",
    ]);
  });

  it("should fall back to defaultTokenExpiration without expires_in", async () => {
    tokenRoute(undefined);
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-01-01T00:00:00Z") });
    const auth = oauth({ defaultTokenExpiration: 100 });
    await client(auth).get("/me");
    vi.setSystemTime(new Date("2026-01-01T00:01:20Z"));
    expect(auth.isTokenExpired()).toBe(false);
    vi.setSystemTime(new Date("2026-01-01T00:01:31Z"));
    expect(auth.isTokenExpired()).toBe(true);
  });

  it("should fail with a redacted error when the token endpoint refuses", async () => {
    tokenRoute(3600);
    const auth = oauth({ clientSecret: "wrong-secret-value" });
    const error = await client(auth)
      .get("/me")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestClientError);
    expect((error as RestClientError).status).toBe(401);
    expect(String(error)).toContain("/oauth/token");
    expect(String(error)).not.toContain("wrong-secret-value");
    expect(server.requestsTo("/me")).toHaveLength(0);
  });
});
