/**
 * "Handle secrets" of the getting-started tutorial: the GitHub token is not in the code. The source
 * declares `accessToken` as a secret (the tutorial's `access_token = dlt.secrets.value`), so it is
 * read from the environment (`SOURCES__GITHUB__ACCESS_TOKEN`) or from `.dlt/secrets.toml` in the
 * project folder or in `~/.dlt`:
 *
 * ```toml
 * [github_with_source_secrets]
 * access_token = "ghp_A...3aRY"
 * ```
 *
 * The repository is given in code here; values passed to the source win over config. A token put in
 * `config.toml` is refused; a missing one fails with every key that was tried.
 */
import * as dlt from "tsdlt";
import { githubSource } from "./github-source.js";

try {
  const pipeline = dlt.pipeline({
    pipelineName: "github_with_source_secrets",
    destination: "duckdb",
    datasetName: "github_data",
  });
  const loadInfo = await pipeline.run(githubSource({ repoName: "dlt-hub/dlt" }));
  console.log(String(loadInfo));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
