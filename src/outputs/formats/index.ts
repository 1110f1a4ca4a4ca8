/** The built-in formats, registered in the order `--format` lists them. A new format is one line here. */

import { registerFormat } from "../registry.js";
import { csvFormat } from "./csv.js";
import { htmlFormat } from "./html.js";
import { jsonFormat } from "./json.js";
import { markdownFormat } from "./markdown.js";
import { navigatorFormat } from "./navigator.js";
import { sarifFormat } from "./sarif.js";
import { tableFormat } from "./table.js";

export { csvFormat, htmlFormat, jsonFormat, markdownFormat, navigatorFormat, sarifFormat, tableFormat };

registerFormat(tableFormat);
registerFormat(jsonFormat);
registerFormat(sarifFormat);
registerFormat(markdownFormat);
registerFormat(csvFormat);
registerFormat(htmlFormat);
registerFormat(navigatorFormat);
