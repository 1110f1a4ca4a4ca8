export { applySuppressions } from "./apply.js";
export { loadSuppressionFile, locateEntries, type SuppressionEntry } from "./load.js";
export { expiryTime, type SuppressionSpec, suppressionEntrySchema } from "./schema.js";
