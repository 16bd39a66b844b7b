// Every route of the hub, by area. A new area is a file beside these and one line here.
import { authRoutes } from "./auth.js";
import { cdnRoutes } from "./cdn.js";
import { datasetRoutes } from "./datasets.js";
import { fileRoutes } from "./files.js";
import { repoRoutes } from "./repos.js";
import type { Route } from "./route.js";
import { uploadRoutes } from "./uploads.js";

export const ROUTES: Route[] = [...authRoutes, ...repoRoutes, ...fileRoutes, ...datasetRoutes, ...cdnRoutes, ...uploadRoutes];
