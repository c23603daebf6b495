/**
 * "Create a pipeline" and "Run the pipeline" of the getting-started tutorial: one request to the
 * GitHub API with the `requests` helper (dlt's retry defaults), and the list of issues it returns
 * loaded into the `issues` table of dataset `github_data` (`github_issues.duckdb` in the current folder).
 *
 * Run it twice: the default write disposition is `append`, so the table then holds every issue twice
 * (see `github-issues-replace.ts` for the fix). The API root is `sources.github.base_url` in
 * `.dlt/config.toml` or `SOURCES__GITHUB__BASE_URL`, default `https://api.github.com`.
 */
import { requests } from "@tsdlt/rest-client";
import * as dlt from "tsdlt";

const API = dlt.config.get("sources.github.base_url", dlt.z.string()) ?? "https://api.github.com";
// Specify the URL of the API endpoint
const url = `${API}/repos/dlt-hub/dlt/issues`;
// Make a request and check if it was successful
const response = await requests.get(url);
response.raiseForStatus();

const pipeline = dlt.pipeline({
  pipelineName: "github_issues",
  destination: "duckdb",
  datasetName: "github_data",
});
// The response contains a list of issues
const loadInfo = await pipeline.run(response.json(), { tableName: "issues" });

console.log(String(loadInfo));
