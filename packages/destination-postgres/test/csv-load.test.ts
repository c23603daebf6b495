import type { TableSchema } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { csvCopySql, postgresDialect } from "../src/index.js";

function table(): TableSchema {
  return {
    name: "Events",
    columns: {
      id: { name: "id", data_type: "bigint", nullable: false },
      name: { name: "name", data_type: "text" },
      'odd, "one"': { name: 'odd, "one"', data_type: "text" },
      pending: { name: "pending" },
    },
  };
}

describe("csvCopySql", () => {
  it("should COPY the header's columns in file order, with the header skipped and NULL as an empty field", () => {
    expect(csvCopySql(postgresDialect, "My_Data", table(), ['odd, "one"', "name", "id"])).toBe(
      `COPY "my_data"."events" ("odd, ""one""", "name", "id") FROM STDIN WITH (FORMAT csv, HEADER true, NULL '', ENCODING 'UTF8')`,
    );
  });
});
