// The pull-through mirror (`serve --upstream`).
export { Mirror, type MirrorOptions } from "./mirror.js";
