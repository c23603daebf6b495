import { defineProject } from "vitest/config";
import { projectConfig } from "../../tooling/vitest.shared.ts";

const base = projectConfig("destination-postgres");

// Vitest hands `ssr.resolve.conditions` to the test workers as Node `--conditions`. With `import` (or
// `module`) among them, Node (>= 20.19, where `require()` loads ES modules) makes the CommonJS `pg`
// `require("pg-pool")` its ESM build and fails at load ("Class extends value [object Module]"). Vite
// adds `import`/`require`/`default` by itself, so this project passes only the source condition.
export default defineProject({
  ...base,
  ssr: { resolve: { conditions: ["@tsdlt/source", "node"], externalConditions: ["@tsdlt/source"] } },
});
