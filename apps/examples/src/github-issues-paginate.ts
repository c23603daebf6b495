/**
 * "Using pagination helper" of the getting-started tutorial: the incremental merge of
 * `github-issues-merge.ts`, with the hand-written `Link` loop replaced by `paginate()`, which detects
 * how the API pages its results (here: the `Link` header) and yields one page at a time.
 */
import { paginate } from "@tsdlt/rest-client";
import * as dlt from "tsdlt";

const API = dlt.config.get("sources.github.base_url", dlt.z.string()) ?? "https://api.github.com";

const getIssues = dlt.resource(
  async function* get_issues(
    updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
  ) {
    for await (const page of paginate(`${API}/repos/dlt-hub/dlt/issues`, {
      params: {
        since: updatedAt.lastValue,
        per_page: 100,
        sort: "updated",
        direction: "desc",
        state: "open",
      },
    })) {
      yield page;
    }
  },
  { tableName: "issues", writeDisposition: "merge", primaryKey: "id" },
);

const pipeline = dlt.pipeline({
  pipelineName: "github_issues_merge",
  destination: "duckdb",
  datasetName: "github_data_merge",
});

const loadInfo = await pipeline.run(getIssues);
const rowCounts = pipeline.lastTrace?.lastNormalizeInfo?.row_counts;

console.log(rowCounts);
console.log("------");
console.log(String(loadInfo));
