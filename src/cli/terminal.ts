/**
 * What the terminal allows: colour (NO_COLOR, FORCE_COLOR, TERM=dumb, --no-color), its width
 * (the stream's columns, else COLUMNS), and a progress line on stderr for long scans.
 */
import type { ScanProgress } from "../scan/run.js";

/** A variable that is set and not empty (no-color.org: "when present and not an empty string"). */
const given = (v: string | undefined): boolean => v !== undefined && v !== "";

/**
 * Whether a report on stdout may carry colour. `--no-color` wins; then NO_COLOR (a reader's
 * standing preference); then FORCE_COLOR (a CI log viewer that renders colour though stdout is
 * no terminal; `0` and `false` mean off); then TERM=dumb; then whether stdout is a terminal.
 */
export function colorAllowed(env: NodeJS.ProcessEnv, isTTY: boolean, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (given(env.NO_COLOR)) return false;
  if (given(env.FORCE_COLOR)) return !["0", "false"].includes((env.FORCE_COLOR ?? "").toLowerCase());
  if (env.TERM === "dumb") return false;
  return isTTY;
}

/** Narrowest table the layout is designed for; a smaller terminal still gets 40 columns' worth. */
const MIN_WIDTH = 40;

/**
 * The width to fit a table to: the terminal's columns, else a positive COLUMNS (set by the user,
 * or exported by a shell), else undefined (a file or a pipe: columns take their natural widths).
 */
export function terminalWidth(env: NodeJS.ProcessEnv, columns: number | undefined): number | undefined {
  if (columns !== undefined && Number.isInteger(columns) && columns > 0) return Math.max(MIN_WIDTH, columns);
  const c = Number(env.COLUMNS);
  if (Number.isInteger(c) && c > 0) return Math.max(MIN_WIDTH, c);
  return undefined;
}

/** A progress line on a terminal's stderr, drawn only once a scan has run for `delayMs`. */
export class Progress {
  private latest: ScanProgress = { records: 0, sources: 0, matches: 0 };
  private timer?: NodeJS.Timeout;
  private drawn = false;
  private readonly started = Date.now();

  /** Characters of the line last drawn (plain mode overwrites them with spaces). */
  private shown = 0;

  constructor(
    private readonly write: (s: string) => void,
    private readonly delayMs = 1000,
    private readonly everyMs = 250,
    /** No escape sequences at all (NO_COLOR, TERM=dumb, --no-color): redraw with \r and spaces. */
    private readonly plain = false,
  ) {}

  start(): void {
    this.timer = setTimeout(() => {
      this.draw();
      this.timer = setInterval(() => this.draw(), this.everyMs);
      this.timer.unref();
    }, this.delayMs);
    this.timer.unref();
  }

  update(p: ScanProgress): void {
    this.latest = p;
  }

  private draw(): void {
    const p = this.latest;
    const s = Math.round((Date.now() - this.started) / 1000);
    const text = `${p.records.toLocaleString("en-US")} records read from ${p.sources} source(s), ${p.matches.toLocaleString("en-US")} rule matches so far (${s}s)`;
    // \r and erase-line: the line is redrawn in place and never scrolls the terminal; plain, the
    // previous line is overwritten with the new one and spaces.
    this.write(this.plain ? `\r${text}${" ".repeat(Math.max(0, this.shown - text.length))}` : `\r\u001b[2K${text}`);
    this.shown = text.length;
    this.drawn = true;
  }

  /** Stops and erases the line, so what follows on stderr starts at the left margin. */
  stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      clearInterval(this.timer);
    }
    this.timer = undefined;
    if (this.drawn) this.write(this.plain ? `\r${" ".repeat(this.shown)}\r` : "\r\u001b[2K");
    this.drawn = false;
  }
}
