/**
 * "Use source decorator" of the getting-started tutorial: issues and their comments grouped into one
 * source, `github_source`, loaded in one run into dataset `github_data`. Comments are a transformer
 * fed by the issues resource: for every page of issues updated since the last run, it requests each
 * issue's comments (`/issues/{number}/comments`), so comments of changed issues are refreshed and
 * merged on `id` while untouched issues cost no request.
 */
import { paginate } from "@tsdlt/rest-client";
import * as dlt from "tsdlt";

const API = dlt.config.get("sources.github.base_url", dlt.z.string()) ?? "https://api.github.com";
const BASE_GITHUB_URL = `${API}/repos/dlt-hub/dlt`;

const getIssues = dlt.resource(
  async function* get_issues(
    updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
  ) {
    yield* paginate(`${BASE_GITHUB_URL}/issues`, {
      params: {
        since: updatedAt.lastValue,
        per_page: 100,
        sort: "updated",
        direction: "desc",
        state: "open",
      },
    });
  },
  { tableName: "issues", writeDisposition: "merge", primaryKey: "id" },
);

const getComments = dlt.transformer(
  async function* get_comments(issues: { number: number }[]) {
    for (const issue of issues) {
      yield* paginate(`${BASE_GITHUB_URL}/issues/${issue.number}/comments`, { params: { per_page: 100 } });
    }
  },
  { dataFrom: getIssues, tableName: "comments", writeDisposition: "merge", primaryKey: "id" },
);

const githubSource = dlt.source(function github_source() {
  return [getIssues, getComments];
});

const pipeline = dlt.pipeline({
  pipelineName: "github_with_source",
  destination: "duckdb",
  datasetName: "github_data",
});

const loadInfo = await pipeline.run(githubSource());
console.log(String(loadInfo));
