/**
 * Output format registry. To add a format, add a module in this folder and one entry here;
 * nothing outside src/outputs needs to change (the CLI lists and validates names via FORMATS).
 */

import type { ScanResult } from "../model/finding.js";
import type { FormatContext, Renderer } from "./common.js";
import { renderJson } from "./json.js";
import { renderSarif } from "./sarif.js";
import { renderTable } from "./table.js";

export type { FormatContext, Renderer } from "./common.js";

export const FORMATS = {
  table: (result, ctx) => renderTable(result, { color: ctx.color, width: ctx.width }),
  json: (result, ctx) => renderJson(result, { toolVersion: ctx.toolVersion }),
  sarif: (result, ctx) => renderSarif(result, { toolVersion: ctx.toolVersion, artifactUri: ctx.artifactUri }),
} as const satisfies Record<string, Renderer>;

export type FormatName = keyof typeof FORMATS;

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

export function isFormat(name: string): name is FormatName {
  return Object.hasOwn(FORMATS, name);
}

export function render(format: FormatName, result: ScanResult, ctx: FormatContext): string {
  return FORMATS[format](result, ctx);
}
