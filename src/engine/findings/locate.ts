/**
 * Time, author and resource of a record, as far as the Activity Log tells: an event carries its
 * own; configuration takes the latest write on exactly its resource id; an image takes the
 * import that brought it in.
 */
import type { Attribution, ImportSummary, WriteSummary } from "../../azure/enrich/attribution.js";
import type { EvidenceRecord } from "../../model/finding.js";
import type { AuditRecord, Principal } from "../../model/records.js";

export interface Located {
  time?: string;
  principal: Principal;
  resourceId: string;
  subscriptionId?: string;
  operation?: string;
  writer?: WriteSummary;
  /** For images: the import, and whether it was inferred from timing. */
  imported?: { imp: ImportSummary; inferred: boolean };
  /** For images: the image id. */
  image?: string;
}

const subscriptionOf = (scope: string) => /\/subscriptions\/([^/]+)/i.exec(scope)?.[1];

function locateImage(imageId: string, created: string | undefined, a: Attribution): Located {
  const imported = a.importFor(imageId);
  const l: Located = {
    time: imported?.imp.time ?? created ?? a.imageInfo(imageId)?.created,
    principal: imported?.imp.principal ?? {},
    resourceId: a.registryFor(imageId) ?? imageId,
    subscriptionId: imported?.imp.subscriptionId,
    writer: imported?.imp,
    image: imageId,
  };
  if (imported) l.imported = imported;
  return l;
}

function locateConfiguration(id: string, subscriptionId: string | undefined, a: Attribution): Located {
  const w = a.writerOf(id);
  return {
    time: w?.time,
    principal: w?.principal ?? {},
    resourceId: id,
    subscriptionId: subscriptionId ?? w?.subscriptionId,
    writer: w,
  };
}

export function locate(r: AuditRecord, a: Attribution): Located {
  switch (r.kind) {
    case "activity":
      return {
        time: r.time,
        principal: r.principal,
        resourceId: r.resourceId ?? "",
        subscriptionId: r.subscriptionId,
        operation: r.operationName,
      };
    case "containerImage":
      return locateImage(r.id, r.createdTime, a);
    case "payload":
      return r.source.kind === "containerImage"
        ? locateImage(r.source.id, undefined, a)
        : locateConfiguration(r.source.id, r.subscriptionId, a);
    case "functionApp":
    case "resource":
      return locateConfiguration(r.id, r.subscriptionId, a);
    case "roleAssignment":
      return {
        time: r.createdOn,
        principal: r.createdBy ? { id: r.createdBy } : {},
        resourceId: r.scope,
        subscriptionId: subscriptionOf(r.scope),
      };
    case "roleDefinition":
      return { principal: {}, resourceId: r.id };
    case "grant":
      return {
        time: r.assignment.createdOn,
        principal: r.assignment.createdBy ? { id: r.assignment.createdBy } : {},
        resourceId: r.scope,
        subscriptionId: subscriptionOf(r.scope),
      };
  }
}

export function writeEvidence(w: WriteSummary): EvidenceRecord {
  const e: EvidenceRecord = { kind: "activity", id: w.eventId, location: w.location };
  if (w.index !== undefined) e.index = w.index;
  return e;
}
