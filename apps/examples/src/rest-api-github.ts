/**
 * The declarative REST API source (dlt's `rest_api_source`, the tutorial's recommended way to read a
 * REST API): the GitHub issues of `dlt-hub/dlt` and, as a child resource, each issue's comments —
 * described as data and turned into a dlt source by one call of `dlt.restApiSource(config)` (which
 * uses `@tsdlt/rest-client`, installed beside tsdlt). A misspelled `{resources.<name>...}` reference
 * is a type error.
 *
 * Issues load incrementally: `{incremental.last_value}` sends the stored `updated_at` cursor as
 * `since`, and both tables merge on `id`. Comments are requested once per issue that came back
 * (`{resources.issues.number}`), and carry the id as `_issues_id`. A token, when configured
 * (`sources.github.access_token` in `.dlt/secrets.toml` or `SOURCES__GITHUB__ACCESS_TOKEN`), is sent
 * as a bearer token.
 */
import * as dlt from "tsdlt";

const API = dlt.config.get("sources.github.base_url", dlt.z.string()) ?? "https://api.github.com";
const token = dlt.secrets.get("sources.github.access_token", dlt.z.string());

const github = dlt.restApiSource(
  {
    client: {
      baseUrl: `${API}/repos/dlt-hub/dlt/`,
      ...(token ? { auth: { token } } : {}),
    },
    resourceDefaults: {
      primaryKey: "id",
      writeDisposition: "merge",
      endpoint: { params: { per_page: 100 } },
    },
    resources: [
      {
        name: "issues",
        endpoint: {
          path: "issues",
          params: {
            sort: "updated",
            direction: "desc",
            state: "open",
            since: "{incremental.last_value}",
          },
          incremental: { cursorPath: "updated_at", initialValue: "1970-01-01T00:00:00Z" },
        },
      },
      {
        name: "issue_comments",
        endpoint: { path: "issues/{resources.issues.number}/comments" },
        includeFromParent: ["id"],
      },
    ],
  },
  { name: "github" },
);

const pipeline = dlt.pipeline({
  pipelineName: "rest_api_github",
  destination: "duckdb",
  datasetName: "rest_api_data",
});
const loadInfo = await pipeline.run(github);
const rowCounts = pipeline.lastTrace?.lastNormalizeInfo?.row_counts;

console.log(rowCounts);
console.log("------");
console.log(String(loadInfo));
