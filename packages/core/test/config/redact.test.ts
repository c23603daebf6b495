import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Logger,
  PipelineStepFailed,
  parsePostgresCredentials,
  REDACTED,
  redact,
  redactingLogger,
  redactText,
  redactUrl,
  registerSecret,
  resolveConfig,
  secret,
  z,
} from "../../src/index.js";
import { type ConfigSandbox, createSandbox } from "./sandbox.js";

describe("masking", () => {
  let sb: ConfigSandbox;

  beforeEach(() => {
    sb = createSandbox();
  });

  afterEach(() => {
    sb.restore();
  });

  it("should mask URL passwords and sensitive query parameters", () => {
    expect(redactUrl("postgresql://loader:pw@localhost:5432/dlt_data")).toBe(
      "postgresql://loader:***@localhost:5432/dlt_data",
    );
    expect(redactUrl("https://api.example.com/x?page=2&api_key=abc123&token=t&sig=s")).toBe(
      "https://api.example.com/x?page=2&api_key=***&token=***&sig=***",
    );
    expect(redactUrl("duckdb:////abs/path.duckdb")).toBe("duckdb:////abs/path.duckdb");
    expect(redactUrl("postgresql://loader@localhost/db")).toBe("postgresql://loader@localhost/db");
  });

  it("should mask every URL inside free text", () => {
    expect(redactText("connect to postgresql://u:pw@h/db failed; retry https://x.io/?password=p")).toBe(
      "connect to postgresql://u:***@h/db failed; retry https://x.io/?password=***",
    );
  });

  it("should mask secrets resolved by the config library anywhere in text", () => {
    sb.setEnv({ SOURCES__GITHUB__ACCESS_TOKEN: "ghp_KnownSecretValue" });
    resolveConfig(z.object({ accessToken: secret(z.string()) }), { sections: ["sources", "github"] });
    expect(redactText("Authorization: Bearer ghp_KnownSecretValue")).toBe("Authorization: Bearer ***");
    expect(redactText(`"token":"${encodeURIComponent("ghp_KnownSecretValue")}"`)).not.toContain("Known");
  });

  it("should mask secrets registered by hand, but not search text for very short ones", () => {
    registerSecret("s3cr3t-value");
    registerSecret("ab");
    expect(redactText("x s3cr3t-value y ab")).toBe("x *** y ab");
  });

  it("should mask secret fields by schema and sensitive keys by name in config objects", () => {
    const spec = z.object({ apiHost: z.string(), clientId: secret(z.string()) });
    expect(redact({ apiHost: "h", clientId: "id-123" }, spec)).toEqual({ apiHost: "h", clientId: REDACTED });
    expect(
      redact({
        password: "p",
        access_token: "t",
        apiKey: "k",
        nested: { client_secret: "c", url: "postgresql://u:pw@h/db" },
        count: 3,
        credentials: parsePostgresCredentials("postgresql://u:hunter22@h/db"),
      }),
    ).toEqual({
      password: REDACTED,
      access_token: REDACTED,
      apiKey: REDACTED,
      nested: { client_secret: REDACTED, url: "postgresql://u:***@h/db" },
      count: 3,
      credentials: {
        drivername: "postgresql",
        database: "db",
        username: "u",
        password: REDACTED,
        host: "h",
        port: 5432,
        connectTimeout: 15,
      },
    });
  });

  it("should scrub messages passed to a redacting logger", () => {
    registerSecret("ghp_LoggerSecret");
    const seen: string[] = [];
    const sink: Logger = {
      debug: (m) => seen.push(m),
      info: (m) => seen.push(m),
      warn: (m) => seen.push(m),
      error: (m) => seen.push(m),
    };
    const logger = redactingLogger(sink);
    logger.warn("token ghp_LoggerSecret for postgresql://u:pw@h/db");
    logger.error("again ghp_LoggerSecret");
    expect(seen).toEqual(["token *** for postgresql://u:***@h/db", "again ***"]);
  });

  it("should keep secrets out of a failed step's message when the cause printed credentials", () => {
    const creds = parsePostgresCredentials("postgresql://loader:StepSecret9@db/x");
    const failed = new PipelineStepFailed({
      pipelineName: "p",
      step: "load",
      cause: new Error(`cannot connect with ${creds}`),
    });
    expect(failed.message).toContain("postgresql://loader:***@db:5432/x");
    expect(failed.message).not.toContain("StepSecret9");
  });
});
