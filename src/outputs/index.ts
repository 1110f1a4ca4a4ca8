/**
 * Entry point of the outputs: importing it registers the built-in formats, so code that lists
 * or renders formats (the CLI) imports this module rather than registry.ts.
 */

import "./formats/index.js";

export { jsonFormat, sarifFormat, tableFormat } from "./formats/index.js";
export * from "./registry.js";
