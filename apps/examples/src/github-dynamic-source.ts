/**
 * "Dynamic resources" of the getting-started tutorial: one fetch function for every endpoint, and a
 * source that creates a resource per endpoint with `dlt.resource(...)` called as a function — no
 * copy of the resource code per endpoint. Both tables merge on `id`.
 */
import { paginate } from "@tsdlt/rest-client";
import * as dlt from "tsdlt";

const API = dlt.config.get("sources.github.base_url", dlt.z.string()) ?? "https://api.github.com";
const BASE_GITHUB_URL = `${API}/repos/dlt-hub/dlt`;

function fetchGithubData(endpoint: string, params: Record<string, string | number> = {}) {
  const url = `${BASE_GITHUB_URL}/${endpoint}`;
  return paginate(url, { params });
}

const githubSource = dlt.source(function* github_source() {
  for (const endpoint of ["issues", "comments"]) {
    const params = { per_page: 100 };
    yield dlt.resource(fetchGithubData(endpoint, params), {
      name: endpoint,
      writeDisposition: "merge",
      primaryKey: "id",
    });
  }
});

const pipeline = dlt.pipeline({
  pipelineName: "github_dynamic_source",
  destination: "duckdb",
  datasetName: "github_data",
});
const loadInfo = await pipeline.run(githubSource());
const rowCounts = pipeline.lastTrace?.lastNormalizeInfo?.row_counts;

console.log(rowCounts);
console.log("------");
console.log(String(loadInfo));
