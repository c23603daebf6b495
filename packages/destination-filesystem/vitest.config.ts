import { defineProject } from "vitest/config";
import { projectConfig } from "../../tooling/vitest.shared.ts";

export default defineProject(projectConfig("destination-filesystem"));
