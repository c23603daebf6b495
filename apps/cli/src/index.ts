export type { CliIO } from "./cli.js";
export { cliVersion, runCli } from "./cli.js";
