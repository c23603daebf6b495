import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { explainConfig, postgresCredentials, secret, z } from "../../src/index.js";
import { type ConfigSandbox, createSandbox } from "./sandbox.js";

describe("explainConfig", () => {
  let sb: ConfigSandbox;

  beforeEach(() => {
    sb = createSandbox();
  });

  afterEach(() => {
    sb.restore();
  });

  const spec = z.object({
    repoName: z.string(),
    accessToken: secret(z.string()),
    perPage: z.int().default(100),
    label: z.string().optional(),
    since: z.string(),
  });
  const options = { sections: ["sources", "github", "github_source"], pipelineName: "gh" };

  it("should show, per field, the provider and key that won, masking secrets, without throwing", () => {
    sb.writeProject("config.toml", '[gh]\nrepo_name = "dlt-hub/dlt"\n');
    sb.setEnv({ SOURCES__GITHUB__ACCESS_TOKEN: "ghp_ExplainSecret" });
    const explanation = explainConfig(spec, options);
    expect(explanation.ok).toBe(false);
    expect(explanation.field("accessToken")).toMatchObject({
      origin: "provider",
      provider: "Environment Variables",
      providerKey: "SOURCES__GITHUB__ACCESS_TOKEN",
      display: "***",
    });
    const text = String(explanation);
    const lines = text.split("\n");
    expect(lines.slice(0, 7)).toEqual([
      "Configuration `github_source` (pipeline `gh`):",
      `  repoName    = "dlt-hub/dlt"  <- config.toml \`gh.repo_name\` (${sb.settingsDir}/config.toml)`,
      "  accessToken = ***  <- Environment Variables `SOURCES__GITHUB__ACCESS_TOKEN`",
      "  perPage     = 100  <- default",
      "  label         (not set, optional)",
      "  since         MISSING; tried in order:",
      "      (Environment Variables, GH__SOURCES__GITHUB__GITHUB_SOURCE__SINCE)",
    ]);
    expect(text).toContain("      (config.toml, since)");
    expect(text).toContain("Provider `config.toml` loaded values from locations:");
    expect(text).not.toContain("ghp_ExplainSecret");
    expect(JSON.stringify(explanation)).not.toContain("ghp_ExplainSecret");
  });

  it("should report a secret found in config.toml as refused instead of throwing", () => {
    sb.writeProject(
      "config.toml",
      '[sources.github]\naccess_token = "ghp_InConfig"\nrepo_name = "r"\nsince = "s"\n',
    );
    const explanation = explainConfig(spec, options);
    expect(explanation.field("accessToken")).toMatchObject({ origin: "refused", provider: "config.toml" });
    expect(String(explanation)).toContain(
      "accessToken   REFUSED: secret found in config.toml `sources.github.access_token`",
    );
    expect(String(explanation)).not.toContain("ghp_InConfig");
  });

  it("should explain credentials field by field, with the native value's key", () => {
    sb.writeProject(
      "secrets.toml",
      '[destination.postgres]\ncredentials = "postgresql://loader:PgSecret1@localhost/dlt_data"\n',
    );
    const explanation = explainConfig(z.object({ credentials: postgresCredentials }), {
      sections: ["destination", "postgres"],
    });
    expect(explanation.ok).toBe(true);
    const text = explanation.format();
    expect(text).toContain(
      '  credentials.host           = "localhost"  <- secrets.toml `destination.postgres.credentials`',
    );
    expect(text).toContain(
      "  credentials.password       = ***  <- secrets.toml `destination.postgres.credentials`",
    );
    expect(text).toContain("  credentials.port           = 5432  <- default");
    expect(text).not.toContain("PgSecret1");
  });

  it("should explain a single key, masking values from secrets.toml", () => {
    sb.writeProject("secrets.toml", '[sources.github]\nrepo_token = "tok-12345"\n');
    sb.writeProject("config.toml", '[sources.github]\nrepo_name = "dlt-hub/dlt"\n');
    expect(String(explainConfig("sources.github.repo_name")).split("\n")[1]).toBe(
      `  sources.github.repo_name = "dlt-hub/dlt"  <- config.toml \`sources.github.repo_name\` (${sb.settingsDir}/config.toml)`,
    );
    const secretKey = explainConfig("sources.github.repo_token", { secret: true });
    expect(secretKey.fields[0]?.display).toBe("***");
    expect(String(secretKey)).not.toContain("tok-12345");
    expect(explainConfig("sources.github.nothing").fields[0]?.origin).toBe("missing");
  });

  it("should list every key tried for every field when verbose", () => {
    sb.setEnv({ SOURCES__GITHUB__REPO_NAME: "r" });
    const text = explainConfig(z.object({ repoName: z.string() }), {
      sections: ["sources", "github"],
    }).format({ verbose: true });
    expect(text.split("\n").slice(1, 5)).toEqual([
      '  repoName = "r"  <- Environment Variables `SOURCES__GITHUB__REPO_NAME`',
      "             tried in order:",
      "      (Environment Variables, SOURCES__GITHUB__REPO_NAME)",
      expect.stringMatching(/^Provider/),
    ]);
  });
});
