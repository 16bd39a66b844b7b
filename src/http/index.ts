export { HubClient, discardBody, readBodyText, readText, type HubBody, type HubFileResponse, type HubRequestOptions, type HubResponse } from "./hub-client.js";
export { DirectBody, type DirectTarget } from "./direct-get.js";
export { closeDispatchers } from "./dispatcher.js";
export { stripQuery } from "./error-mapping.js";
