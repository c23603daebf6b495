import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setActivePipelineName } from "@tsdlt/core";
import {
  type FixtureServer,
  octokitScenario,
  recordingRoutes,
  startFixtureServer,
} from "@tsdlt/fixture-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  backoffDelay,
  createSession,
  DEFAULT_RETRY_OPTIONS,
  paginate,
  parseRetryAfter,
  RESTClient,
  RestClientError,
  requests,
  resolveRetryOptions,
  retryOptionsFromRuntimeConfig,
  runtimeRetryOptions,
  type SessionOptions,
} from "../src/index.js";
import { collect, FAST_RETRY, fixture, recordingLogger } from "./helpers.js";

let server: FixtureServer;
beforeEach(async () => {
  server = await startFixtureServer();
});
afterEach(async () => {
  await server.close();
});

const OK = { path: "/r", method: "*", respond: { body: { ok: true } } } as const;

function session(options: SessionOptions = {}) {
  const logger = recordingLogger();
  return { logger, session: createSession({ ...FAST_RETRY, logger, raiseForStatus: false, ...options }) };
}

/** Gaps between consecutive requests to `pathname`, in ms. */
function gaps(pathname: string): number[] {
  const times = server.requestsTo(pathname).map((r) => r.at);
  return times.slice(1).map((t, i) => t - (times[i] as number));
}

describe("retry policy", () => {
  it("should use dlt's defaults", () => {
    const config = resolveRetryOptions();
    expect(DEFAULT_RETRY_OPTIONS).toEqual({
      maxAttempts: 5,
      backoffBaseMs: 1000,
      maxRetryDelayMs: 300_000,
      timeoutMs: 60_000,
    });
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, config))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(20, config)).toBe(300_000);
    expect([429, 500, 503, 599].every(config.statusCodes)).toBe(true);
    expect([400, 401, 404, 408, 413].some(config.statusCodes)).toBe(false);
    expect(config.minRetryAfterMs).toBe(1000);
  });

  it("should map dlt's [runtime] request_* keys (seconds) to options (ms)", () => {
    expect(
      retryOptionsFromRuntimeConfig({
        request_timeout: 30,
        request_max_attempts: 3,
        request_backoff_factor: 0.5,
        request_max_retry_delay: 10,
      }),
    ).toEqual({ timeoutMs: 30_000, maxAttempts: 3, backoffBaseMs: 500, maxRetryDelayMs: 10_000 });
  });

  it("should parse Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("retries against a real server", () => {
  it("should retry GitHub's 429 with Retry-After: 0 after the floor, not in a hot loop", async () => {
    server.route(...recordingRoutes(fixture("github-rate-limit.json")).map((r) => ({ ...r, times: 2 })));
    server.route(...octokitScenario("get-repository"));
    const { session: s, logger } = session({ minRetryAfterMs: 40 });
    const response = await s.get(`${server.url}/repos/octokit-fixture-org/hello-world`);
    expect(response.status).toBe(200);
    expect(response.attempts).toBe(3);
    expect(gaps("/repos/octokit-fixture-org/hello-world").every((g) => g >= 38)).toBe(true);
    expect(logger.lines.filter((l) => l.level === "warn")).toHaveLength(2);
    expect(logger.lines[0]?.message).toMatch(
      /failed \(429 Too Many Requests\); retrying in 0\.040 s \(attempt 2 of 5\)/,
    );
  });

  it("should wait as long as Retry-After says, clamped to the max delay", async () => {
    server.route({ path: "/r", times: 1, respond: { status: 429, headers: { "retry-after": "30" } } }, OK);
    const { session: s } = session({ maxRetryDelayMs: 60 });
    const started = performance.now();
    expect((await s.get(`${server.url}/r`)).status).toBe(200);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(58);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("should honour Retry-After as an HTTP date", async () => {
    const date = new Date(Date.now() + 5_000).toUTCString();
    server.route({ path: "/r", times: 1, respond: { status: 503, headers: { "retry-after": date } } }, OK);
    const { session: s } = session({ maxRetryDelayMs: 80 });
    await s.get(`${server.url}/r`);
    expect(gaps("/r")[0]).toBeGreaterThanOrEqual(78);
  });

  it("should back off exponentially without Retry-After", async () => {
    server.route({ path: "/r", times: 3, respond: { status: 429 } }, OK);
    const { session: s } = session({ backoffBaseMs: 20 });
    const response = await s.get(`${server.url}/r`);
    expect(response.attempts).toBe(4);
    const [a, b, c] = gaps("/r") as [number, number, number];
    expect(a).toBeGreaterThanOrEqual(18);
    expect(b).toBeGreaterThanOrEqual(38);
    expect(c).toBeGreaterThanOrEqual(78);
  });

  it("should retry 5xx for POST as well, resending the body", async () => {
    server.route({ method: "POST", path: "/r", times: 2, respond: { status: 502, body: "bad gateway" } }, OK);
    const { session: s } = session();
    const response = await s.post(`${server.url}/r`, { json: { a: 1 } });
    expect(response.json()).toEqual({ ok: true });
    expect(server.requests.map((r) => r.json)).toEqual([{ a: 1 }, { a: 1 }, { a: 1 }]);
  });

  it("should return the last response when retries on a status run out, and raise it from the client", async () => {
    server.route({ path: "/r", respond: { status: 503, body: { message: "down for maintenance" } } });
    const { session: s } = session({ maxAttempts: 3 });
    const response = await s.get(`${server.url}/r`);
    expect([response.status, response.attempts]).toEqual([503, 3]);
    server.resetStats();
    const client = new RESTClient({ baseUrl: server.url, session: s });
    const error = (await client.get("/r").catch((e: unknown) => e)) as RestClientError;
    expect(error).toBeInstanceOf(RestClientError);
    expect([error.status, error.attempts, error.retryable, error.code]).toEqual([
      503,
      3,
      true,
      "HTTP_REQUEST_FAILED",
    ]);
    expect(error.message).toMatch(
      /`GET http:\/\/127\.0\.0\.1:\d+\/r` failed after 3 attempts: 503 Server Error: Service Unavailable\./,
    );
    expect(error.message).toContain("down for maintenance");
    expect(server.requests).toHaveLength(3);
  });

  it("should not retry a 404 and mark it not retryable", async () => {
    server.route(...octokitScenario("branch-protection"));
    const client = new RESTClient({ baseUrl: server.url, session: session().session });
    const error = (await client
      .get("/repos/octokit-fixture-org/branch-protection/branches/main/protection")
      .catch((e: unknown) => e)) as RestClientError;
    expect([error.status, error.retryable, error.attempts]).toEqual([404, false, 1]);
    expect(error.message).toContain("Branch not protected");
    expect(error.message).toContain("Check the base URL and the path.");
  });

  it("should retry a connection reset", async () => {
    server.route({ path: "/r", times: 2, respond: { reset: true } }, OK);
    const { session: s, logger } = session();
    const response = await s.get(`${server.url}/r`);
    expect([response.status, response.attempts]).toEqual([200, 3]);
    expect(logger.text()).toMatch(/could not|fetch failed|socket|other side closed/i);
  });

  it("should retry a connection that breaks in the middle of the body", async () => {
    server.route(
      { path: "/r", times: 1, respond: { resetAfterHeaders: true, body: { big: "x".repeat(5000) } } },
      OK,
    );
    const { session: s } = session();
    const response = await s.get(`${server.url}/r`);
    expect(response.json()).toEqual({ ok: true });
    expect(response.attempts).toBe(2);
  });

  it("should time out a hanging request and retry it", async () => {
    server.route({ path: "/r", times: 1, respond: { hang: true } }, OK);
    const { session: s, logger } = session({ timeoutMs: 100 });
    const response = await s.get(`${server.url}/r`);
    expect([response.status, response.attempts]).toEqual([200, 2]);
    expect(logger.text()).toMatch(/timed out/i);
  });

  it("should give up on timeouts with a RestClientError", async () => {
    server.route({ path: "/r", respond: { hang: true } });
    const { session: s } = session({ timeoutMs: 50, maxAttempts: 2 });
    const error = (await s.get(`${server.url}/r`).catch((e: unknown) => e)) as RestClientError;
    expect(error).toBeInstanceOf(RestClientError);
    expect(error.message).toMatch(/timed out after 50 ms after 2 attempts/);
    expect(error.retryable).toBe(true);
  });

  it("should give up on a refused connection after maxAttempts", async () => {
    const closed = await startFixtureServer();
    const url = `${closed.url}/r`;
    await closed.close();
    const { session: s } = session({ maxAttempts: 3 });
    const error = (await s.get(url).catch((e: unknown) => e)) as RestClientError;
    expect(error).toBeInstanceOf(RestClientError);
    expect(error.attempts).toBe(3);
    expect(error.message).toMatch(/could not connect/);
    expect((error.cause as Error & { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("should retry on a custom condition", async () => {
    let calls = 0;
    server.route({
      path: "/r",
      respond: () => {
        calls += 1;
        return { body: { state: calls < 3 ? "pending" : "done" } };
      },
    });
    const { session: s } = session({
      retryConditions: [(response) => response?.json<{ state: string }>().state === "pending"],
    });
    const response = await s.get(`${server.url}/r`);
    expect(response.json()).toEqual({ state: "done" });
    expect(response.attempts).toBe(3);
  });

  it("should stop retrying when the caller aborts", async () => {
    server.route({ path: "/r", respond: { status: 503 } });
    const { session: s } = session({ backoffBaseMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 50);
    const started = performance.now();
    await expect(s.get(`${server.url}/r`, { signal: controller.signal })).rejects.toThrow("stop");
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("requests helper", () => {
  afterEach(() => requests.configure({}));

  it("should GET with retries, raiseForStatus() and json()", async () => {
    server.route({ path: "/r", times: 1, respond: { status: 500 } });
    server.route(OK);
    requests.configure({ ...FAST_RETRY, logger: recordingLogger() });
    const response = await requests.get(`${server.url}/r`);
    response.raiseForStatus();
    expect(response.json()).toEqual({ ok: true });
    expect(await response.json()).toEqual({ ok: true });
    expect(server.requests[0]?.headers["user-agent"]).toMatch(/^tsdlt\/\d+\.\d+\.\d+/);
  });

  it("should raise for error statuses after retries by default", async () => {
    server.route(...octokitScenario("branch-protection"));
    requests.configure({ ...FAST_RETRY, logger: recordingLogger() });
    await expect(
      requests.get(`${server.url}/repos/octokit-fixture-org/branch-protection/branches/main/protection`),
    ).rejects.toThrow(/404 Client Error: Not Found/);
  });
});

describe("[runtime] request_* config (issue 8)", () => {
  const saved = new Map<string, string | undefined>();
  let root: string;
  const setEnv = (vars: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(vars)) {
      if (!saved.has(key)) saved.set(key, process.env[key]);
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-runtime-config-"));
    mkdirSync(join(root, "project", ".dlt"), { recursive: true });
    const cleared: Record<string, undefined> = {};
    for (const key of Object.keys(process.env)) {
      if (key.includes("__") || key.startsWith("DLT_")) cleared[key] = undefined;
    }
    setEnv({ ...cleared, DLT_PROJECT_DIR: join(root, "project"), DLT_DATA_DIR: join(root, "global") });
    setActivePipelineName(undefined);
    server.route({ path: "/down", respond: { status: 503, body: { message: "down" } } });
  });
  afterEach(() => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    saved.clear();
    setActivePipelineName(undefined);
    requests.configure({});
    rmSync(root, { recursive: true, force: true });
  });

  const quiet = { logger: recordingLogger() };

  it("should make the requests helper try exactly RUNTIME__REQUEST_MAX_ATTEMPTS times, and follow changes", async () => {
    setEnv({ RUNTIME__REQUEST_MAX_ATTEMPTS: "2", RUNTIME__REQUEST_BACKOFF_FACTOR: "0.005" });
    requests.configure(quiet);
    await expect(requests.get(`${server.url}/down`)).rejects.toThrow(/503 Server Error/);
    expect(server.requestsTo("/down")).toHaveLength(2);
    expect(requests.session.config).toMatchObject({ maxAttempts: 2, backoffBaseMs: 5 });

    // The session is rebuilt when the config changes, as dlt does.
    setEnv({ RUNTIME__REQUEST_MAX_ATTEMPTS: "3" });
    await expect(requests.get(`${server.url}/down`)).rejects.toThrow(/503 Server Error/);
    expect(server.requestsTo("/down")).toHaveLength(5);
  });

  it("should let options given to requests.configure() win over the config", async () => {
    setEnv({ RUNTIME__REQUEST_MAX_ATTEMPTS: "2", RUNTIME__REQUEST_BACKOFF_FACTOR: "0.005" });
    requests.configure({ ...quiet, maxAttempts: 1 });
    await expect(requests.get(`${server.url}/down`)).rejects.toThrow(/503 Server Error/);
    expect(server.requestsTo("/down")).toHaveLength(1);
  });

  it("should apply [runtime] from config.toml to RESTClients without their own retry options", async () => {
    writeFileSync(
      join(root, "project", ".dlt", "config.toml"),
      "[runtime]\nrequest_max_attempts = 2\nrequest_backoff_factor = 0.005\nrequest_max_retry_delay = 1\nrequest_timeout = 5\n",
    );
    const client = new RESTClient({ baseUrl: server.url, ...quiet });
    expect(client.session.config).toMatchObject({
      maxAttempts: 2,
      backoffBaseMs: 5,
      maxRetryDelayMs: 1000,
      timeoutMs: 5000,
    });
    await expect(client.get("/down")).rejects.toThrow(/503 Server Error/);
    expect(server.requestsTo("/down")).toHaveLength(2);

    // paginate() builds such a client too.
    await expect(collect(paginate(`${server.url}/down`, quiet))).rejects.toThrow(/503 Server Error/);
    expect(server.requestsTo("/down")).toHaveLength(4);

    // Explicit retry options win field by field.
    const explicit = new RESTClient({ baseUrl: server.url, retry: { maxAttempts: 3 }, ...quiet });
    expect(explicit.session.config).toMatchObject({ maxAttempts: 3, backoffBaseMs: 5 });
    await expect(explicit.get("/down")).rejects.toThrow(/503 Server Error/);
    expect(server.requestsTo("/down")).toHaveLength(7);
  });

  it("should time out after request_timeout seconds", async () => {
    server.route({ path: "/slow", respond: { delayMs: 2_000, body: { ok: true } } });
    setEnv({ RUNTIME__REQUEST_TIMEOUT: "0.2", RUNTIME__REQUEST_MAX_ATTEMPTS: "1" });
    const client = new RESTClient({ baseUrl: server.url, ...quiet });
    const started = performance.now();
    await expect(client.get("/slow")).rejects.toThrow(/timed out after 200 ms after 1 attempt/);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("should look up the active pipeline's prefixed key first", async () => {
    setEnv({
      RUNTIME__REQUEST_MAX_ATTEMPTS: "3",
      GITHUB_PIPELINE__RUNTIME__REQUEST_MAX_ATTEMPTS: "1",
      RUNTIME__REQUEST_BACKOFF_FACTOR: "0.005",
    });
    setActivePipelineName("github_pipeline");
    expect(runtimeRetryOptions()).toEqual({ maxAttempts: 1, backoffBaseMs: 5 });
    await expect(new RESTClient({ baseUrl: server.url, ...quiet }).get("/down")).rejects.toThrow(/503/);
    expect(server.requestsTo("/down")).toHaveLength(1);
    expect(runtimeRetryOptions({ pipelineName: null })).toEqual({ maxAttempts: 3, backoffBaseMs: 5 });
  });

  it("should name the key when a configured value is not a number", () => {
    setEnv({ RUNTIME__REQUEST_MAX_ATTEMPTS: "lots" });
    expect(() => new RESTClient({ baseUrl: server.url })).toThrow(
      /Invalid value\(s\) in configuration `runtime`:[\s\S]*`request_max_attempts` \(from Environment Variables `RUNTIME__REQUEST_MAX_ATTEMPTS`\)/,
    );
  });
});
