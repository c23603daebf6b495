export type {
  FixtureRequest,
  FixtureResponder,
  FixtureResponse,
  FixtureRoute,
  FixtureServerOptions,
} from "./fixture-server.js";
export { exactPath, FixtureServer, startFixtureServer } from "./fixture-server.js";
export type { OctokitFixture, OctokitScenario } from "./octokit.js";
export { OCTOKIT_SCENARIOS, octokitScenario, readOctokitScenario } from "./octokit.js";
export type { PagedRouteOptions, PageStyle } from "./paged.js";
export { PAGE_STYLES, pagedRoute } from "./paged.js";
export type { RecordedExchange, Recording } from "./recording.js";
export { readRecording, recordingRoutes } from "./recording.js";
