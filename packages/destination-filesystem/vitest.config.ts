import { defineProject } from "vitest/config";
import { projectConfig } from "../../tooling/vitest.shared.ts";

const shared = projectConfig("destination-filesystem");
// The shared `module` condition makes the AWS SDK resolve to its bundler-only `dist-es` build (imports
// without file extensions), which Node cannot load; resolve as Node does (`node` before `import`).
const conditions = ["@tsdlt/source", "node", "import", "default"];

export default defineProject({
  ...shared,
  resolve: { ...shared.resolve, conditions },
  ssr: { ...shared.ssr, resolve: { ...shared.ssr?.resolve, conditions } },
});
