/** SARIF 2.1.0 schema validation (OASIS schema, draft-04) with the formats the schema uses. */
import { readFileSync } from "node:fs";
import Ajv from "ajv-draft-04";

const schema = JSON.parse(
  readFileSync(new URL("./fixtures/reference/sarif-schema-2.1.0.json", import.meta.url), "utf8"),
);

// ajv-draft-04 is CommonJS: under nodenext typing the class is the module's `default` export.
const ajv = new Ajv.default({ strict: false, allErrors: true });
// Ajv ships no format validators; define the three the SARIF schema uses so they are checked.
ajv.addFormat("uri", (s: string) => URL.canParse(s));
ajv.addFormat("uri-reference", (s: string) => URL.canParse(s, "https://base.invalid/") && !/\s/.test(s));
ajv.addFormat(
  "date-time",
  (s: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i.test(s) && !Number.isNaN(Date.parse(s)),
);
export const validateSarif = ajv.compile(schema);

export function sarifErrors(): string {
  return ajv.errorsText(validateSarif.errors, { separator: "\n" });
}
