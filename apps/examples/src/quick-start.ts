/**
 * The quick start of the getting-started tutorial: load a list of objects into DuckDB.
 * Creates `quick_start.duckdb` in the current folder with a `users` table in dataset `mydata`.
 */
import * as dlt from "tsdlt";

const data = [
  { id: 1, name: "Alice" },
  { id: 2, name: "Bob" },
];

const pipeline = dlt.pipeline({ pipelineName: "quick_start", destination: "duckdb", datasetName: "mydata" });
const loadInfo = await pipeline.run(data, { tableName: "users" });

console.log(String(loadInfo));
