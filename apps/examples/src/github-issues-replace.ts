/**
 * "Append or replace your data" of the getting-started tutorial: the first example with
 * `writeDisposition: "replace"`, so every run replaces the `issues` table instead of appending a
 * second copy of the same issues.
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
const loadInfo = await pipeline.run(response.json(), {
  tableName: "issues",
  writeDisposition: "replace", // <-- Add this line
});

console.log(String(loadInfo));
