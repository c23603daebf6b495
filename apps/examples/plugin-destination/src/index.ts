export type { JsonFilesDestination, JsonFilesOptions } from "./jsonfiles-destination.js";
export {
  DESTINATION_NAME,
  JSONFILES_CAPABILITIES,
  JsonFilesClient,
  jsonfiles,
} from "./jsonfiles-destination.js";
