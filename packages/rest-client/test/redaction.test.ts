import { type FixtureServer, startFixtureServer } from "@tsdlt/fixture-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  APIKeyAuth,
  BearerTokenAuth,
  createSession,
  HttpBasicAuth,
  REDACTED,
  RESTClient,
  Redactor,
  RestClientError,
  redactHeaders,
  redactUrl,
} from "../src/index.js";
import { collect, FAST_RETRY, recordingLogger } from "./helpers.js";

let server: FixtureServer;
beforeEach(async () => {
  server = await startFixtureServer();
});
afterEach(async () => {
  await server.close();
});

describe("Redactor", () => {
  it("should mask sensitive query parameters and user info in URLs", () => {
    expect(redactUrl("https://u:p@api.example.com/v1/x?api_key=abc&page=2&Token=t&access_token=zz")).toBe(
      `https://${REDACTED}:${REDACTED}@api.example.com/v1/x?api_key=${REDACTED}&page=2&Token=${REDACTED}&access_token=${REDACTED}`,
    );
    expect(redactUrl("https://api.example.com/v1/x?page=2")).toBe("https://api.example.com/v1/x?page=2");
    expect(redactUrl("not a url ?client_secret=abc&x=1")).toBe(`not a url ?client_secret=${REDACTED}&x=1`);
  });

  it("should mask sensitive headers and registered secrets", () => {
    expect(redactHeaders({ Authorization: "Bearer x", Accept: "json", "X-API-Key": "k" })).toEqual({
      Authorization: REDACTED,
      Accept: "json",
      "X-API-Key": REDACTED,
    });
    const redactor = new Redactor().addSecret("hunter22").addParam("sig").addHeader("X-Custom-Auth");
    expect(redactor.text("password is hunter22, encoded hunter22")).toBe(
      `password is ${REDACTED}, encoded ${REDACTED}`,
    );
    expect(redactor.url("https://h/p/hunter22?sig=1")).toBe(`https://h/p/${REDACTED}?sig=${REDACTED}`);
    expect(redactor.headers({ "x-custom-auth": "v" })).toEqual({ "x-custom-auth": REDACTED });
    // Short values would mask ordinary text: they are not registered.
    expect(new Redactor().addSecret("ab").text("abc")).toBe("abc");
  });
});

describe("secrets in errors and logs", () => {
  it("should mask a query API key and an echoed key in the error of a 401", async () => {
    server.route({
      path: "/v1/data",
      respond: (request) => ({
        status: 401,
        body: { error: "invalid key", key: request.url.searchParams.get("api_key"), url: request.url.href },
      }),
    });
    const api = new RESTClient({
      baseUrl: server.url,
      auth: new APIKeyAuth({ name: "api_key", apiKey: "sk_live_abcdef123456", location: "query" }),
      logger: recordingLogger(),
    });
    const error = (await api
      .get("/v1/data", { params: { page: 1 } })
      .catch((e: unknown) => e)) as RestClientError;
    expect(error).toBeInstanceOf(RestClientError);
    expect(error.status).toBe(401);
    expect(error.method).toBe("GET");
    expect(error.url).toBe(`${server.url}/v1/data?page=1&api_key=${REDACTED}`);
    expect(error.message).toContain(`GET ${server.url}/v1/data?page=1&api_key=${REDACTED}`);
    expect(error.message).toContain("401 Client Error: Unauthorized");
    expect(error.message).toContain("invalid key");
    expect(error.message).toContain("Check the credentials");
    expect(JSON.stringify({ m: error.message, b: error.bodyExcerpt, a: error.attrs() })).not.toContain(
      "sk_live_abcdef123456",
    );
  });

  it("should mask a bearer token and basic credentials echoed in a body", async () => {
    server.route({
      path: "/echo",
      respond: (request) => ({ status: 403, body: { got: request.headers.authorization } }),
    });
    for (const auth of [
      new BearerTokenAuth({ token: "ghp_0123456789abcdef" }),
      new HttpBasicAuth({ username: "me", password: "pa55word!" }),
    ]) {
      const api = new RESTClient({ baseUrl: server.url, auth, logger: recordingLogger() });
      const error = (await api.get("/echo").catch((e: unknown) => e)) as RestClientError;
      expect(error.status).toBe(403);
      expect(error.message).toContain(REDACTED);
      expect(error.message).not.toMatch(/ghp_0123456789abcdef|pa55word|bWU6cGE1NXdvcmQh/);
    }
  });

  it("should truncate long bodies in errors", async () => {
    server.route({ path: "/big", respond: { status: 400, body: "x".repeat(10_000) } });
    const api = new RESTClient({ baseUrl: server.url, logger: recordingLogger() });
    const error = (await api.get("/big").catch((e: unknown) => e)) as RestClientError;
    expect(error.bodyExcerpt?.length).toBeLessThan(600);
    expect(error.bodyExcerpt).toMatch(/… \(truncated\)$/);
  });

  it("should mask secrets in retry warnings, timeout errors and their causes", async () => {
    server.route({ path: "/slow", respond: { hang: true } });
    const logger = recordingLogger();
    const session = createSession({
      ...FAST_RETRY,
      timeoutMs: 40,
      maxAttempts: 2,
      logger,
      raiseForStatus: false,
    });
    const error = (await session
      .get(`${server.url}/slow`, { params: { token: "tok_abcdefgh", q: "x" } })
      .catch((e: unknown) => e)) as RestClientError;
    expect(error).toBeInstanceOf(RestClientError);
    const everything = [
      error.message,
      String(error.cause),
      (error.cause as Error).message,
      logger.text(),
    ].join("\n");
    expect(everything).not.toContain("tok_abcdefgh");
    expect(logger.text()).toContain(`token=${REDACTED}`);
    expect(error.message).toContain(`token=${REDACTED}`);
  });

  it("should mask secrets in the error for a body that is not JSON", async () => {
    server.route({
      path: "/html",
      respond: { headers: { "content-type": "text/html" }, body: "<html>key=abcd1234</html>" },
    });
    const api = new RESTClient({
      baseUrl: server.url,
      auth: new APIKeyAuth({ name: "key", apiKey: "abcd1234", location: "query" }),
      logger: recordingLogger(),
    });
    const error = await collect(api.paginate("/html")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestClientError);
    expect(String(error)).toMatch(/is not JSON \(content-type `text\/html`\)/);
    expect(String(error)).not.toContain("abcd1234");
  });
});
