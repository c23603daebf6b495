/**
 * "Handle secrets" of the getting-started tutorial: the GitHub token is not in the code. It is
 * declared as a secret and read from the environment (`SOURCES__GITHUB__ACCESS_TOKEN`) or from
 * `.dlt/secrets.toml` in the project folder or in `~/.dlt`:
 *
 * ```toml
 * [github_with_source_secrets]
 * access_token = "ghp_A...3aRY"
 * ```
 *
 * A token put in `config.toml` is refused; a missing one fails with every key that was tried.
 */
import { resolveConfig, secret, z } from "@tsdlt/core";
import * as dlt from "tsdlt";
import { GITHUB_SOURCE_SECTIONS, githubSource } from "./github-source.js";

/** The source's config: `access_token` is a secret (the tutorial's `dlt.secrets.value`). */
const githubSecretsSpec = z.object({
  accessToken: secret(z.string()),
  baseUrl: z.string().default("https://api.github.com"),
});

try {
  const pipeline = dlt.pipeline({
    pipelineName: "github_with_source_secrets",
    destination: "duckdb",
    datasetName: "github_data",
  });
  const { accessToken, baseUrl } = resolveConfig(githubSecretsSpec, {
    sections: GITHUB_SOURCE_SECTIONS,
    specName: "github_source",
    pipelineName: pipeline.pipelineName,
  });
  const loadInfo = await pipeline.run(githubSource({ repoName: "dlt-hub/dlt", accessToken, baseUrl }));
  console.log(String(loadInfo));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
