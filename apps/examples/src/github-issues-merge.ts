/**
 * "Update and deduplicate your data" of the getting-started tutorial: the cursor follows `updated_at`,
 * its last value is sent to GitHub as `since` (only issues updated since the last run come back), and
 * `writeDisposition: "merge"` with `primaryKey: "id"` replaces the stored copy of each updated issue,
 * so `github_data_merge.issues` holds exactly one row per issue, always the latest.
 */
import { requests } from "@tsdlt/rest-client";
import * as dlt from "tsdlt";

const API = dlt.config.get("sources.github.base_url", dlt.z.string()) ?? "https://api.github.com";

const getIssues = dlt.resource(
  async function* get_issues(
    updatedAt = dlt.sources.incremental("updated_at", { initialValue: "1970-01-01T00:00:00Z" }),
  ) {
    // NOTE: we read only open issues to minimize the number of calls to the API.
    // There's a limit of ~60 calls an hour for unauthenticated GitHub users.
    let url: string | undefined =
      `${API}/repos/dlt-hub/dlt/issues?since=${updatedAt.lastValue}&per_page=100&sort=updated&direction=desc&state=open`;
    while (url !== undefined) {
      const response = await requests.get(url);
      response.raiseForStatus();
      yield response.json();
      // Get next page
      url = response.links.next;
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
