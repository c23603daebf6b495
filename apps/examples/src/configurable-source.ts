/**
 * "Configurable sources" of the getting-started tutorial: the repository is configuration and the
 * token a secret, so the same source loads any repository. With `.dlt/config.toml`
 *
 * ```toml
 * [github_with_source_secrets]
 * repo_name = "dlt-hub/dlt"
 * ```
 *
 * and the token in `.dlt/secrets.toml` (or `SOURCES__GITHUB__ACCESS_TOKEN`), it loads the issues,
 * comments and clone counts of `repo_name`, then prints which provider and key each value came from
 * (the token masked) — what `tsdlt config explain` will show.
 */
import { explainConfig, resolveConfig, secret, z } from "@tsdlt/core";
import * as dlt from "tsdlt";
import { GITHUB_SOURCE_SECTIONS, githubSource } from "./github-source.js";

/** The tutorial's `repo_name = dlt.config.value` and `access_token = dlt.secrets.value`. */
const githubSourceSpec = z.object({
  repoName: z.string(),
  accessToken: secret(z.string()),
  baseUrl: z.string().default("https://api.github.com"),
});

try {
  const pipeline = dlt.pipeline({
    pipelineName: "github_with_source_secrets",
    destination: "duckdb",
    datasetName: "github_data",
  });
  const options = {
    sections: GITHUB_SOURCE_SECTIONS,
    specName: "github_source",
    pipelineName: pipeline.pipelineName,
  };
  const config = resolveConfig(githubSourceSpec, options);
  const loadInfo = await pipeline.run(githubSource(config));
  console.log(String(loadInfo));
  console.log(String(explainConfig(githubSourceSpec, options)));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
