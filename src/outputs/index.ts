/**
 * Entry point of the outputs: importing it registers the built-in formats, so code that lists
 * or renders formats (the CLI) imports this module rather than registry.ts.
 */

import "./formats/index.js";

export {
  csvFormat,
  htmlFormat,
  jsonFormat,
  markdownFormat,
  navigatorFormat,
  sarifFormat,
  tableFormat,
} from "./formats/index.js";
export { type MarkdownOptions, renderMarkdown } from "./formats/markdown.js";
export * from "./registry.js";
