import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ConfigFieldMissingError,
  ConfigValueNotSecretError,
  isTsdltError,
  postgresCredentials,
  resolveConfig,
  secret,
  z,
} from "../../src/index.js";
import { type ConfigSandbox, createSandbox } from "./sandbox.js";

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("missing config fields", () => {
  let sb: ConfigSandbox;

  beforeEach(() => {
    sb = createSandbox();
  });

  afterEach(() => {
    sb.restore();
  });

  it("should list, per missing field, every env var and TOML key tried in order, and the files", () => {
    sb.writeProject("config.toml", '[sources.notion]\nrepo_name = "x"\n');
    const spec = z.object({ repoName: z.string(), apiKey: secret(z.string()) });
    const error = catchError(() =>
      resolveConfig(spec, { sections: ["sources", "notion", "notion_databases"] }),
    );
    expect(error).toBeInstanceOf(ConfigFieldMissingError);
    expect(isTsdltError(error, "CONFIG_FIELD_MISSING")).toBe(true);
    const missing = error as ConfigFieldMissingError;
    expect(missing.specName).toBe("notion_databases");
    expect(missing.fields).toEqual(["apiKey"]);
    const project = sb.settingsDir;
    const global = join(sb.home, ".dlt");
    expect(error.message).toBe(
      [
        "[tsdlt] [config] Missing 1 field(s) in configuration `notion_databases`: `apiKey`",
        "for field `apiKey` the following (config provider, key) were tried in order:",
        "  (Environment Variables, SOURCES__NOTION__NOTION_DATABASES__API_KEY)",
        "  (Environment Variables, SOURCES__NOTION__API_KEY)",
        "  (Environment Variables, SOURCES__NOTION_DATABASES__API_KEY)",
        "  (Environment Variables, SOURCES__API_KEY)",
        "  (Environment Variables, API_KEY)",
        "  (config.toml, sources.notion.notion_databases.api_key)",
        "  (config.toml, sources.notion.api_key)",
        "  (config.toml, sources.notion_databases.api_key)",
        "  (config.toml, sources.api_key)",
        "  (config.toml, api_key)",
        "NOTE: following fields in `notion_databases` got resolved: `repoName`",
        "Provider `secrets.toml` probed but not found the following locations:",
        `\t- ${project}/secrets.toml`,
        `\t- ${global}/secrets.toml`,
        "WARNING: provider `secrets.toml` is empty. Locations (i.e., files) are missing or empty.",
        "Provider `config.toml` loaded values from locations:",
        `\t- ${project}/config.toml`,
        "Provider `config.toml` probed but not found the following locations:",
        `\t- ${global}/config.toml`,
        "To fix it, for each missing field:",
        `  \`apiKey\` (a secret: never in config.toml): set the environment variable \`SOURCES__NOTION__API_KEY\`, or add \`api_key = ...\` under \`[sources.notion]\` in ${project}/secrets.toml`,
      ].join("\n"),
    );
    expect(missing.traces.apiKey).toHaveLength(10);
  });

  it("should list pipeline-prefixed keys first and note credentials found without the field", () => {
    sb.writeProject(
      "secrets.toml",
      '[destination.postgres]\ncredentials = "postgresql://loader@localhost/dlt_data"\n',
    );
    const spec = z.object({ credentials: postgresCredentials });
    const error = catchError(() =>
      resolveConfig(spec, { sections: ["destination", "postgres"], pipelineName: "chess" }),
    ) as ConfigFieldMissingError;
    expect(error.fields).toEqual(["credentials.password"]);
    const lines = error.message.split("\n");
    const start = lines.indexOf(
      "for field `credentials.password` the following (config provider, key) were tried in order:",
    );
    expect(lines.slice(start + 1, start + 8)).toEqual([
      "  (Environment Variables, CHESS__DESTINATION__POSTGRES__CREDENTIALS__PASSWORD)",
      "  (Environment Variables, CHESS__DESTINATION__CREDENTIALS__PASSWORD)",
      "  (Environment Variables, CHESS__CREDENTIALS__PASSWORD)",
      "  (Environment Variables, CHESS__DESTINATION__POSTGRES__CREDENTIALS)",
      "  (Environment Variables, CHESS__DESTINATION__CREDENTIALS)",
      "  (Environment Variables, CHESS__CREDENTIALS)",
      "  (secrets.toml, chess.destination.postgres.credentials.password)",
    ]);
    expect(error.message).toContain(
      "  (secrets.toml, destination.postgres.credentials) found, but holds no `password`",
    );
    expect(error.message).toContain(
      "NOTE: following fields in `postgres` got resolved: `credentials.drivername`, `credentials.database`, `credentials.username`, `credentials.host`",
    );
    expect(error.message).toContain(
      "set the environment variable `DESTINATION__POSTGRES__CREDENTIALS__PASSWORD`, or add `password = ...` under `[destination.postgres.credentials]`",
    );
  });

  it("should refuse a secret found in config.toml and say where to put it", () => {
    sb.writeProject("config.toml", '[sources.github]\naccess_token = "ghp_LEAKED42"\n');
    const spec = z.object({ accessToken: secret(z.string()) });
    const error = catchError(() => resolveConfig(spec, { sections: ["sources", "github", "github_source"] }));
    expect(error).toBeInstanceOf(ConfigValueNotSecretError);
    expect(isTsdltError(error, "CONFIG_VALUE_NOT_SECRET")).toBe(true);
    expect(error.message).toBe(
      `[tsdlt] [config] Secret \`accessToken\` was found in config.toml under \`sources.github.access_token\` (${sb.settingsDir}/config.toml), but config.toml may not hold secrets. Move it to ${sb.settingsDir}/secrets.toml under the same key, or set the environment variable \`SOURCES__GITHUB__ACCESS_TOKEN\`, and remove it from config.toml.`,
    );
    expect(error.message).not.toContain("ghp_LEAKED42");
  });

  it("should not refuse the secret when a secret-capable provider has it first", () => {
    sb.writeProject("config.toml", '[sources.github]\naccess_token = "in-config"\n');
    sb.setEnv({ SOURCES__GITHUB__ACCESS_TOKEN: "in-env" });
    const spec = z.object({ accessToken: secret(z.string()) });
    expect(resolveConfig(spec, { sections: ["sources", "github"] }).accessToken).toBe("in-env");
  });

  it("should refuse a Postgres connection string in config.toml (it carries the password)", () => {
    sb.writeProject(
      "config.toml",
      '[destination.postgres]\ncredentials = "postgresql://loader:pw1234@h/db"\n',
    );
    const error = catchError(() =>
      resolveConfig(z.object({ credentials: postgresCredentials }), {
        sections: ["destination", "postgres"],
      }),
    );
    expect(error).toBeInstanceOf(ConfigValueNotSecretError);
    expect(error.message).toContain("under `destination.postgres.credentials`");
    expect(error.message).not.toContain("pw1234");
  });

  it("should accept non-secret credential fields (host, user) in config.toml", () => {
    sb.writeProject(
      "config.toml",
      '[destination.postgres.credentials]\nhost = "localhost"\nusername = "loader"\ndatabase = "dlt_data"\n',
    );
    sb.writeProject("secrets.toml", '[destination.postgres.credentials]\npassword = "pw-in-secrets"\n');
    const { credentials } = resolveConfig(z.object({ credentials: postgresCredentials }), {
      sections: ["destination", "postgres"],
    });
    expect(credentials.toUrl({ redact: false })).toBe(
      "postgresql://loader:pw-in-secrets@localhost:5432/dlt_data?connect_timeout=15",
    );
  });

  it("should print the traces of the secrets accessor with only secret-capable providers", async () => {
    const { secrets } = await import("../../src/index.js");
    sb.writeProject("config.toml", "x = 1\n");
    const error = catchError(() => secrets.require("sources.github.access_token"));
    expect(error.message).toContain("(Environment Variables, SOURCES__GITHUB__ACCESS_TOKEN)");
    expect(error.message).not.toContain("(config.toml,");
  });
});
