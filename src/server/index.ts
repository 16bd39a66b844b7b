export { startHubServer, type HubServerOptions, type RunningHub } from "./hub-server.js";
export { addUser, readHubConfig, sha256Hex, type HubConfig, type HubUser } from "./users.js";
