/** The built-in formats, registered in the order `--format` lists them. A new format is one line here. */

import { registerFormat } from "../registry.js";
import { jsonFormat } from "./json.js";
import { sarifFormat } from "./sarif.js";
import { tableFormat } from "./table.js";

export { jsonFormat, sarifFormat, tableFormat };

registerFormat(tableFormat);
registerFormat(jsonFormat);
registerFormat(sarifFormat);
