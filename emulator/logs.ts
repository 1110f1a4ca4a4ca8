/** Log Analytics query front (stage 2); see logs routes below. */
import type { Route } from "./arm.ts";

export const logsRoutes: Route[] = [];
