/**
 * Type-level checks of `dlt.destination` with and without a declared config, verified by
 * `tsc -p tsconfig.test.json` (an unused `@ts-expect-error` fails the build). Never executed.
 */
import * as dlt from "../src/index.js";

const spec = dlt.z.object({ apiUrl: dlt.z.string(), apiKey: dlt.secret(dlt.z.string()) });

export function typeChecks(values: { apiUrl?: string }): void {
  // The third parameter is the resolved config, typed from the spec; values in code are checked too.
  dlt.destination((_items, _table, config) => console.log(config.apiUrl), { name: "x", config: spec });
  dlt.destination((_items, _table, { apiKey }) => console.log(apiKey), {
    config: spec,
    configValues: values,
  });
  // @ts-expect-error `nope` is not a field of the spec
  dlt.destination((_items, _table, config) => console.log(config.nope), { config: spec });
  // @ts-expect-error `apiUrl` is a string
  dlt.destination(async () => {}, { config: spec, configValues: { apiUrl: 1 } });
  // Without a config: items and table only.
  dlt.destination((items, table) => console.log(items.length, table.name), { batchSize: 5 });
  dlt.destination(async function my_sink(items) {
    console.log(items.length);
  });
}
