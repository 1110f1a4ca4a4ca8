/**
 * `GET /subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values`
 * Shape and paging: azure-rest-api-specs …/Microsoft.Insights/stable/2015-04-01/examples/GetActivityLogsFiltered.json
 * (`value` + `nextLink`), newest first, `$filter` and `$select` as activity.ts parses them.
 */
import { FilterError, matchEvent, parseActivityFilter, selectFields } from "./activity.ts";
import { type Ctx, findSub, page, type Route, route, SUB, subscriptionNotFound } from "./arm.ts";
import { armError, lc } from "./util.ts";

export { FilterError as ActivityFilterError };

export const activityRoute: Route = route(
  "GET",
  `${SUB}/providers/Microsoft\\.Insights/eventtypes/management/values`,
  (ctx: Ctx, m) => {
    const sub = m[1] as string;
    if (!findSub(ctx, sub)) return subscriptionNotFound(sub);
    let f: ReturnType<typeof parseActivityFilter>;
    try {
      f = parseActivityFilter(ctx.url.searchParams.get("$filter"), ctx.env.now());
    } catch (e) {
      if (e instanceof FilterError) return armError(400, "BadRequest", e.message);
      throw e;
    }
    const select = ctx.url.searchParams.get("$select");
    const events = (ctx.snap.events.get(lc(sub)) ?? [])
      .filter((e) => matchEvent(e, f))
      .map((e) => selectFields(e, select));
    return page(ctx, events, ctx.env.activityPageSize);
  },
);
