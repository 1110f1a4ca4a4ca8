/**
 * Text helpers for output formats. Everything shown to a reader may come from an attacker
 * (resource names, command lines, caller strings), so output code caps and neutralises it.
 */

function marker(cut: number): string {
  return `…[+${cut} chars]`;
}

/**
 * Cut `s` to at most `max` UTF-16 units, ending with a visible "…[+N chars]" marker that says
 * how much was cut. Never splits a surrogate pair. When `max` is too small for the marker, the
 * result ends with "…" alone.
 */
export function cap(s: string, max: number): string {
  const limit = Math.max(0, Math.floor(max));
  if (s.length <= limit) return s;
  let keep = limit - marker(s.length - limit).length;
  // The marker's length depends on the number cut; one refinement step settles it.
  keep = limit - marker(s.length - Math.max(0, keep)).length;
  if (keep < 1) return limit === 0 ? "" : `${safeSlice(s, limit - 1)}…`;
  const head = safeSlice(s, keep);
  return head + marker(s.length - head.length);
}

function safeSlice(s: string, n: number): string {
  let end = Math.max(0, n);
  const code = s.charCodeAt(end - 1);
  if (end > 0 && code >= 0xd800 && code <= 0xdbff) end -= 1;
  return s.slice(0, end);
}

/** CSI (ESC [ … or 8-bit CSI), OSC/DCS/PM/APC strings (ESC ] … BEL|ST), and 2-char escapes. */
const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /(?:\x1b\[|\x9b)[0-?]{0,64}[ -/]{0,16}[@-~]?|(?:\x1b[\]PX^_]|[\x90\x9d-\x9f])[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)?|\x1b[ -~]?/g;
/** Line breaks, including Unicode line/paragraph separators and NEL. */
const NEWLINE = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/g;
/** Remaining C0/C1 controls, DEL, and bidi/invisible formatting that can reorder or hide text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * Make attacker-controlled text safe for a one-line terminal cell: escape sequences and control
 * characters are replaced by "�" (so the reader sees that something was there, but nothing can
 * move the cursor, change colours, set the window title or reorder text), tabs become spaces and
 * line breaks become "⏎".
 */
export function sanitizeForTerminal(s: string): string {
  return s.replace(ESCAPE_SEQUENCE, "�").replace(NEWLINE, "⏎").replace(/\t/g, " ").replace(CONTROL, "�");
}

const MARKDOWN_SPECIAL = /[\\`*_{}[\]()<>#+\-.!|~&]/g;
/** Zero-width space: breaks what GitHub links on a text node (`@user`, `#12`, `www.`, `http://`) and stays invisible. */
const ZWSP = "\u200b";
/** Text GitHub turns into a mention, an issue reference or an autolink even when it is backslash-escaped. */
const MARKDOWN_LINKISH = /[@#]|:(?=\/\/)|\bwww(?=\\?\.)/gi;

/**
 * Escape text for inline Markdown (GitHub-flavoured, including table cells): special characters
 * get a backslash (so nothing becomes emphasis, a link, a heading or HTML; `&` too, so no entity
 * is decoded), line breaks become spaces, control characters are removed, and an invisible
 * zero-width space follows every `@`, `#`, `www` and scheme colon, so no mention, issue reference
 * or autolink is made from the text (GitHub links those on the rendered text, after escapes).
 */
export function escapeMarkdown(s: string): string {
  return s
    .replace(ESCAPE_SEQUENCE, "")
    .replace(NEWLINE, " ")
    .replace(CONTROL, "")
    .replace(MARKDOWN_SPECIAL, (c) => `\\${c}`)
    .replace(MARKDOWN_LINKISH, (m) => `${m}${ZWSP}`);
}

/**
 * Attacker-controlled text as one Markdown code span: nothing inside is Markdown, HTML, a mention
 * or an autolink. The fence is one backtick longer than the longest run inside; line breaks become
 * spaces and control characters are removed. In a GFM table cell (`inTable`) a pipe still ends the
 * cell even inside a code span, so it is escaped there (GitHub shows it as `|`).
 */
export function markdownCode(s: string, opts: { inTable?: boolean } = {}): string {
  let text = s.replace(ESCAPE_SEQUENCE, "").replace(NEWLINE, " ").replace(CONTROL, "");
  if (opts.inTable) text = text.replace(/\|/g, "\\|");
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  // A span that starts or ends with a backtick or a space needs one space of padding each side.
  const pad = text.length === 0 || /^[` ]|[` ]$/.test(text) ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * Multi-line attacker-controlled text (a script) made inert for display: escape sequences and
 * control characters become "�", every line break becomes "\n", tabs stay.
 */
export function sanitizeMultiline(s: string): string {
  return s.replace(ESCAPE_SEQUENCE, "�").replace(NEWLINE, "\n").replace(CONTROL, "�");
}

/**
 * A fenced Markdown code block holding `s` verbatim (after `sanitizeMultiline`): the fence is
 * longer than any backtick run inside, so the text cannot close it, and nothing in a code block
 * is Markdown, HTML or a link.
 */
export function markdownCodeBlock(s: string, info = ""): string {
  const text = sanitizeMultiline(s).replace(/\n$/, "");
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

/** Characters that make a spreadsheet read a cell as a formula (or, for tab and line breaks, shift it). */
const FORMULA_START = /^[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20]/;

/**
 * One CSV cell (RFC 4180), always quoted: quotes doubled, escape sequences and control characters
 * made visible, line breaks kept inside the quotes. A cell that a spreadsheet would read as a formula
 * (starting with = + - @, a tab or a line break, or their full-width forms) gets a leading apostrophe,
 * as OWASP's CSV-injection advice says.
 */
export function csvCell(s: string): string {
  let text = sanitizeMultiline(s);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}
