/**
 * "Configurable sources" of the getting-started tutorial: the repository is configuration and the
 * token a secret, so the same source loads any repository. With `.dlt/config.toml`
 *
 * ```toml
 * [github_with_source_secrets]
 * repo_name = "dlt-hub/dlt"
 * ```
 *
 * and the token in `.dlt/secrets.toml` (or `SOURCES__GITHUB__ACCESS_TOKEN`), `githubSource()` — called
 * without arguments, as the tutorial's `github_source()` — loads the issues, comments and clone counts
 * of `repo_name`. It then prints which provider and key each value came from (the token masked), as
 * `tsdlt config explain --module dist/github-source.js --pipeline github_with_source_secrets` does.
 */
import * as dlt from "tsdlt";
import { githubSource } from "./github-source.js";

try {
  const pipeline = dlt.pipeline({
    pipelineName: "github_with_source_secrets",
    destination: "duckdb",
    datasetName: "github_data",
  });
  const loadInfo = await pipeline.run(githubSource());
  console.log(String(loadInfo));
  console.log(String(githubSource.config.explain()));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
