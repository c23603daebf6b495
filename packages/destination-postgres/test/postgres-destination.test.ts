import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigFieldMissingError,
  ConfigValueInvalidError,
  type DestinationContext,
  parsePostgresCredentials,
  Schema,
} from "@tsdlt/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { POSTGRES_CAPABILITIES, PostgresClient, postgres } from "../src/index.js";

let root: string;
const saved = new Map<string, string | undefined>();

function setEnv(key: string, value: string | undefined): void {
  if (!saved.has(key)) saved.set(key, process.env[key]);
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}

function context(): DestinationContext {
  return { pipelineName: "quick_start", datasetName: "mydata", workingDir: root, localDir: root };
}

/** A fresh project folder and home, and no config variables from the outside. */
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tsdlt-postgres-config-"));
  mkdirSync(join(root, "project", ".dlt"), { recursive: true });
  mkdirSync(join(root, "home"), { recursive: true });
  for (const key of Object.keys(process.env)) {
    if (key.includes("__") || key.startsWith("DLT_")) setEnv(key, undefined);
  }
  setEnv("DLT_PROJECT_DIR", join(root, "project"));
  setEnv("HOME", join(root, "home"));
});

afterEach(() => {
  for (const [key, value] of saved) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  saved.clear();
  rmSync(root, { recursive: true, force: true });
});

describe("postgres()", () => {
  it("should be a frozen destination named postgres with dlt's destination type, doing no I/O", () => {
    const destination = postgres({ credentials: "postgresql://loader:pw@localhost/dlt_data" });
    expect(destination.name).toBe("postgres");
    expect(destination.destinationType).toBe("dlt.destinations.postgres");
    expect(destination.capabilities).toBe(POSTGRES_CAPABILITIES);
    expect(Object.isFrozen(destination)).toBe(true);
    expect(Object.isFrozen(destination.options)).toBe(true);
    expect(postgres({ destinationName: "warehouse" }).name).toBe("warehouse");
  });

  it("should mask the password in displayLocation", () => {
    const destination = postgres({ credentials: "postgresql://loader:Sup3rS3cret@localhost:5432/dlt_data" });
    expect(destination.displayLocation(context())).toBe("postgresql://loader:***@localhost:5432/dlt_data");
  });

  it("should reject invalid options with the option's name", () => {
    expect(() => postgres({ replaceStrategy: "swap" as never })).toThrow(
      /Option `replaceStrategy` is "swap"; use one of `truncate-and-insert`, `insert-from-staging`, `staging-optimized`/,
    );
    expect(() => postgres({ poolSize: 0 })).toThrow(/Option `poolSize` must be a whole number/);
    expect(() => postgres({ destinationName: "" })).toThrow(/Option `destinationName`/);
    expect(() => postgres({ credentials: 5 as never })).toThrow(/Option `credentials`/);
  });

  it("should reject a malformed connection string without echoing the password", () => {
    const destination = postgres({ credentials: "mysql://loader:hunter22@localhost/db" });
    expect(() => destination.resolveCredentials()).toThrow(ConfigValueInvalidError);
    expect(() => destination.resolveCredentials()).not.toThrow(/hunter22/);
  });
});

describe("postgres() credentials from config", () => {
  it("should take a connection string from DESTINATION__POSTGRES__CREDENTIALS", () => {
    setEnv(
      "DESTINATION__POSTGRES__CREDENTIALS",
      "postgresql://loader:pw@db.local:6543/dlt_data?connect_timeout=5",
    );
    const credentials = postgres().resolveCredentials(context());
    expect(credentials).toMatchObject({
      host: "db.local",
      port: 6543,
      database: "dlt_data",
      connectTimeout: 5,
    });
    expect(postgres().displayLocation(context())).toBe(
      "postgresql://loader:***@db.local:6543/dlt_data?connect_timeout=5",
    );
  });

  it("should take fields from [destination.postgres.credentials] in secrets.toml", () => {
    writeFileSync(
      join(root, "project", ".dlt", "secrets.toml"),
      '[destination.postgres.credentials]\ndatabase = "dlt_data"\nusername = "loader"\npassword = "pw"\nhost = "localhost"\n',
    );
    const credentials = postgres().resolveCredentials(context());
    expect(credentials.toUrl({ redact: false })).toBe(
      "postgresql://loader:pw@localhost:5432/dlt_data?connect_timeout=15",
    );
  });

  it("should complete partial explicit fields from config (the password from the environment)", () => {
    setEnv("DESTINATION__POSTGRES__CREDENTIALS__PASSWORD", "from-env");
    const destination = postgres({
      credentials: { host: "localhost", database: "dlt_data", username: "loader" },
    });
    expect(destination.resolveCredentials(context()).password).toBe("from-env");
  });

  it("should look a named destination up in its own section", () => {
    setEnv("DESTINATION__WAREHOUSE__CREDENTIALS", "postgresql://loader:pw@warehouse/dwh");
    expect(postgres({ destinationName: "warehouse" }).resolveCredentials(context()).host).toBe("warehouse");
  });

  it("should say which keys were tried when no credentials are configured", () => {
    const destination = postgres();
    expect(() => destination.resolveCredentials(context())).toThrow(ConfigFieldMissingError);
    expect(() => destination.resolveCredentials(context())).toThrow(/DESTINATION__POSTGRES__CREDENTIALS/);
  });

  it("should accept resolved PostgresCredentials as they are", () => {
    const credentials = parsePostgresCredentials("postgresql://loader:pw@localhost/dlt_data");
    expect(postgres({ credentials }).resolveCredentials()).toBe(credentials);
  });
});

describe("PostgresClient without a server", () => {
  it("should open no connection until used, and dispose idempotently", async () => {
    const destination = postgres({ credentials: "postgresql://loader:pw@127.0.0.1:1/dlt_data" });
    const client = await destination.createClient(new Schema("shop"), context());
    expect(client).toBeInstanceOf(PostgresClient);
    expect(client.datasetName).toBe("mydata");
    expect(client.stagingDatasetName).toBe("mydata_staging");
    expect(client.qualifiedTableName("Users")).toBe('"mydata"."users"');
    expect(client.endpoint).toEqual({
      host: "127.0.0.1",
      port: 1,
      database: "dlt_data",
      username: "loader",
      connectTimeout: 15,
    });
    await client[Symbol.asyncDispose]();
    await client[Symbol.asyncDispose]();
    await expect(client.query("SELECT 1")).rejects.toThrow(/used after it was disposed/);
  });
});
