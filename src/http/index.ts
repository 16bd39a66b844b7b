export { HubClient, readText, type HubRequestOptions, type HubResponse } from "./hub-client.js";
export { closeDispatchers } from "./dispatcher.js";
export { stripQuery } from "./error-mapping.js";
