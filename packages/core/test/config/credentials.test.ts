import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ConfigValueInvalidError,
  DuckDbCredentials,
  duckdbCredentials,
  isTsdltError,
  PostgresCredentials,
  parseConnectionString,
  parseDuckDbCredentials,
  parsePostgresCredentials,
  postgresCredentials,
  resolveConfig,
  resolveConfigWithProvenance,
  z,
} from "../../src/index.js";
import { type ConfigSandbox, createSandbox } from "./sandbox.js";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("connection strings", () => {
  it("should parse every part and decode percent-encoding", () => {
    expect(
      parseConnectionString("postgresql://lo%40der:p%40ss%2Fw@db.local:6543/dlt%20data?sslmode=require"),
    ).toEqual({
      drivername: "postgresql",
      username: "lo@der",
      password: "p@ss/w",
      host: "db.local",
      port: 6543,
      database: "dlt data",
      query: { sslmode: "require" },
    });
  });

  it("should accept an unencoded @ in the password and IPv6 hosts", () => {
    expect(parseConnectionString("postgresql://u:p@ss@[::1]:5433/db")).toMatchObject({
      password: "p@ss",
      host: "::1",
      port: 5433,
    });
  });

  it("should reject malformed strings without echoing them", () => {
    expect(messageOf(() => parseConnectionString("not a url sekrit"))).not.toContain("sekrit");
    expect(messageOf(() => parseConnectionString("postgresql://u:sekrit@h:99999/db"))).toBe(
      "its port is not a number 0-65535",
    );
  });
});

describe("PostgresCredentials", () => {
  it("should parse a connection string with defaults port 5432 and connect_timeout 15", () => {
    const creds = parsePostgresCredentials("postgresql://loader:pw@localhost/dlt_data");
    expect(creds).toBeInstanceOf(PostgresCredentials);
    expect({ ...creds }).toEqual({
      drivername: "postgresql",
      database: "dlt_data",
      username: "loader",
      password: "pw",
      host: "localhost",
      port: 5432,
      connectTimeout: 15,
      clientEncoding: undefined,
      query: {},
    });
  });

  it("should read connect_timeout and client_encoding from the query and keep other parameters", () => {
    const creds = parsePostgresCredentials(
      "postgres://loader:pw@localhost:5433/dlt_data?connect_timeout=30&client_encoding=utf8&sslmode=require",
    );
    expect(creds.port).toBe(5433);
    expect(creds.connectTimeout).toBe(30);
    expect(creds.clientEncoding).toBe("utf8");
    expect(creds.query).toEqual({ sslmode: "require" });
    expect(creds.toUrl({ redact: false })).toBe(
      "postgresql://loader:pw@localhost:5433/dlt_data?sslmode=require&connect_timeout=30&client_encoding=utf8",
    );
  });

  it("should accept fields equivalent to the connection string (REFERENCE §8.4)", () => {
    const fromFields = parsePostgresCredentials({
      database: "dlt_data",
      username: "loader",
      password: "pw",
      host: "localhost",
    });
    const fromString = parsePostgresCredentials(
      "postgresql://loader:pw@localhost/dlt_data?connect_timeout=15",
    );
    expect({ ...fromFields }).toEqual({ ...fromString });
  });

  it("should mask the password wherever it is printed", () => {
    const creds = parsePostgresCredentials("postgresql://loader:Sup3rS3cret@localhost:5432/dlt_data");
    expect(String(creds)).toBe("postgresql://loader:***@localhost:5432/dlt_data");
    expect(`${creds}`).toBe("postgresql://loader:***@localhost:5432/dlt_data");
    expect(creds.toUrl()).toBe("postgresql://loader:***@localhost:5432/dlt_data?connect_timeout=15");
    expect(JSON.stringify(creds)).not.toContain("Sup3rS3cret");
    expect(JSON.parse(JSON.stringify(creds)).password).toBe("***");
    expect(inspect(creds)).toBe("PostgresCredentials(postgresql://loader:***@localhost:5432/dlt_data)");
    expect(inspect({ nested: { creds } }, { depth: 5 })).not.toContain("Sup3rS3cret");
  });

  it("should name missing or invalid fields without showing the password", () => {
    let error: unknown;
    try {
      parsePostgresCredentials("postgresql://loader:hunter2@/dlt_data");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValueInvalidError);
    expect((error as Error).message).toContain("`host`");
    expect((error as Error).message).not.toContain("hunter2");
    expect(messageOf(() => parsePostgresCredentials("mysql://u:hunter2@h/db"))).toContain(
      "its scheme `mysql` is not `postgresql`",
    );
    expect(messageOf(() => parsePostgresCredentials("mysql://u:hunter2@h/db"))).not.toContain("hunter2");
  });
});

describe("Postgres credentials from providers", () => {
  let sb: ConfigSandbox;
  const spec = z.object({ credentials: postgresCredentials });
  const options = { sections: ["destination", "postgres"] };

  beforeEach(() => {
    sb = createSandbox();
  });

  afterEach(() => {
    sb.restore();
  });

  it("should take a connection string from secrets.toml", () => {
    sb.writeProject(
      "secrets.toml",
      '[destination.postgres]\ncredentials = "postgresql://loader:pw@localhost/dlt_data"\n',
    );
    expect(String(resolveConfig(spec, options).credentials)).toBe(
      "postgresql://loader:***@localhost:5432/dlt_data",
    );
  });

  it("should take fields from a [destination.postgres.credentials] table", () => {
    sb.writeProject(
      "secrets.toml",
      '[destination.postgres.credentials]\ndatabase = "dlt_data"\nusername = "loader"\npassword = "pw"\nhost = "localhost"\nconnect_timeout = 5\n',
    );
    const { credentials } = resolveConfig(spec, options);
    expect(credentials.connectTimeout).toBe(5);
    expect(credentials.toUrl({ redact: false })).toBe(
      "postgresql://loader:pw@localhost:5432/dlt_data?connect_timeout=5",
    );
  });

  it("should let an env var field override one part of a connection string from secrets.toml", () => {
    sb.writeProject(
      "secrets.toml",
      '[destination.postgres]\ncredentials = "postgresql://loader:old@localhost/dlt_data"\n',
    );
    sb.setEnv({ DESTINATION__POSTGRES__CREDENTIALS__PASSWORD: "new-pw" });
    const resolved = resolveConfigWithProvenance(spec, options);
    expect(resolved.value.credentials.password).toBe("new-pw");
    const password = resolved.fields.find((f) => f.field === "credentials.password");
    expect(password).toMatchObject({
      provider: "Environment Variables",
      providerKey: "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD",
      display: "***",
    });
  });

  it("should let a whole connection string in env win over fields in secrets.toml", () => {
    sb.writeProject(
      "secrets.toml",
      '[destination.postgres.credentials]\npassword = "toml-pw"\nhost = "toml-host"\n',
    );
    sb.setEnv({ DESTINATION__POSTGRES__CREDENTIALS: "postgresql://loader:env-pw@env-host/dlt_data" });
    const { credentials } = resolveConfig(spec, options);
    expect([credentials.host, credentials.password]).toEqual(["env-host", "env-pw"]);
  });

  it("should accept explicit credentials as a string or fields, which win", () => {
    sb.setEnv({ DESTINATION__POSTGRES__CREDENTIALS: "postgresql://loader:env-pw@env-host/dlt_data" });
    expect(
      resolveConfig(spec, { ...options, explicit: { credentials: "postgresql://me:pw@explicit/db" } })
        .credentials.host,
    ).toBe("explicit");
    const partial = resolveConfig(spec, { ...options, explicit: { credentials: { host: "explicit-host" } } });
    expect(partial.credentials.host).toBe("explicit-host");
    expect(partial.credentials.password).toBe("env-pw");
  });

  it("should report an invalid connection string by provider and key, without the value", () => {
    sb.setEnv({ DESTINATION__POSTGRES__CREDENTIALS: "postgresql://u:topsecret@h:notaport/db" });
    const message = messageOf(() => resolveConfig(spec, options));
    expect(message).toContain("not a valid `PostgresCredentials`: its port is not a number");
    expect(message).not.toContain("topsecret");
  });
});

describe("DuckDbCredentials", () => {
  const context = { localDir: "/work/here", workingDir: "/pipelines/p", pipelineName: "p" };

  it.each([
    ["data/db.duckdb", "path", "/work/here/data/db.duckdb"],
    ["duckdb:///data/db.duckdb", "path", "/work/here/data/db.duckdb"],
    ["/abs/db.duckdb", "path", "/abs/db.duckdb"],
    ["duckdb:////abs/db.duckdb", "path", "/abs/db.duckdb"],
    [":pipeline:", "pipeline", "/pipelines/p/p.duckdb"],
  ])("should resolve %s", (input, kind, path) => {
    const creds = parseDuckDbCredentials(input);
    expect(creds.kind).toBe(kind);
    expect(creds.resolvePath(context)).toBe(path);
  });

  it("should default to <localDir>/<pipeline or destination name>.duckdb", () => {
    const creds = parseDuckDbCredentials(undefined);
    expect(creds.kind).toBe("default");
    expect(creds.resolvePath(context)).toBe("/work/here/p.duckdb");
    expect(creds.resolvePath({ ...context, destinationName: "named" })).toBe("/work/here/named.duckdb");
  });

  it("should refuse :memory: unless allowed", () => {
    expect(() => parseDuckDbCredentials(":memory:")).toThrow(/`:memory:` cannot be used/);
    expect(parseDuckDbCredentials(":memory:", { allowMemory: true }).resolvePath(context)).toBe(":memory:");
  });

  describe("from providers", () => {
    let sb: ConfigSandbox;
    beforeEach(() => {
      sb = createSandbox();
    });
    afterEach(() => {
      sb.restore();
    });
    const spec = z.object({ credentials: duckdbCredentials });
    const options = { sections: ["destination", "duckdb"] };

    it("should read a path from config.toml (a path is not a secret)", () => {
      sb.writeProject("config.toml", '[destination.duckdb]\ncredentials = "duckdb:///data/quack.duckdb"\n');
      const { credentials } = resolveConfig(spec, options);
      expect(credentials).toBeInstanceOf(DuckDbCredentials);
      expect(credentials.database).toBe("data/quack.duckdb");
      expect(String(credentials)).toBe("duckdb:///data/quack.duckdb");
    });

    it("should read the database field from env, or default when nothing is set", () => {
      expect(resolveConfig(spec, options).credentials.kind).toBe("default");
      sb.setEnv({ DESTINATION__DUCKDB__CREDENTIALS__DATABASE: ":pipeline:" });
      expect(resolveConfig(spec, options).credentials.kind).toBe("pipeline");
    });

    it("should refuse :memory: from config", () => {
      sb.setEnv({ DESTINATION__DUCKDB__CREDENTIALS: ":memory:" });
      let caught: unknown;
      try {
        resolveConfig(spec, options);
      } catch (error) {
        caught = error;
      }
      expect(isTsdltError(caught, "CONFIG_VALUE_INVALID")).toBe(true);
      expect((caught as Error).message).toContain("`:memory:` cannot be used");
    });
  });
});
