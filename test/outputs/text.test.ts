import { describe, expect, it } from "vitest";
import {
  cap,
  csvCell,
  escapeHtml,
  escapeMarkdown,
  markdownCode,
  markdownCodeBlock,
  sanitizeForTerminal,
  sanitizeMultiline,
} from "../../src/util/text.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

describe("cap", () => {
  it("returns short strings unchanged", () => {
    expect(cap("hello", 5)).toBe("hello");
    expect(cap("", 0)).toBe("");
  });

  it("cuts with a visible marker and stays within max", () => {
    const s = "x".repeat(10_000);
    const out = cap(s, 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).toMatch(/…\[\+\d+ chars\]$/);
    const kept = out.indexOf("…");
    expect(out).toBe(`${"x".repeat(kept)}…[+${10_000 - kept} chars]`);
  });

  it("never splits a surrogate pair", () => {
    const s = "😀".repeat(50);
    const out = cap(s, 21);
    expect(out.length).toBeLessThanOrEqual(21);
    expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it("degrades to an ellipsis when max is tiny", () => {
    expect(cap("abcdef", 3)).toBe("ab…");
    expect(cap("abcdef", 0)).toBe("");
  });
});

describe("sanitizeForTerminal", () => {
  it("neutralises ANSI escapes in a resource name", () => {
    const name = "vm1\u001b[2J\u001b[H\u001b[31mred\u001b[0m\u001b]0;pwned\u0007tail";
    const out = sanitizeForTerminal(name);
    expect(out).not.toMatch(CONTROL_CHARS);
    expect(out).not.toContain("[2J");
    expect(out).not.toContain("pwned");
    expect(out.startsWith("vm1")).toBe(true);
    expect(out).toContain("red");
    expect(out.endsWith("tail")).toBe(true);
  });

  it("handles 8-bit C1 controls, bidi overrides and line breaks", () => {
    const out = sanitizeForTerminal("a\u009b31mb\u202eevil\u202c\r\nc\u2028d\te\u0000f\u007f");
    expect(out).not.toMatch(CONTROL_CHARS);
    expect(out).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(out).toContain("⏎c⏎d e");
  });

  it("leaves ordinary text alone", () => {
    const s = "Run command on vm-web-01 (rg-prod) — ok ✓ 日本";
    expect(sanitizeForTerminal(s)).toBe(s);
  });
});

describe("escapeMarkdown / escapeHtml", () => {
  it("escapes Markdown syntax and removes line breaks", () => {
    expect(escapeMarkdown("a|b *c* [x](y)\n`z`")).toBe("a\\|b \\*c\\* \\[x\\]\\(y\\) \\`z\\`");
    expect(escapeMarkdown("x\u001b[31my")).toBe("xy");
  });

  it("breaks mentions, issue references, autolinks and entities with an invisible space", () => {
    const z = "\u200b";
    expect(escapeMarkdown("@octocat")).toBe(`@${z}octocat`);
    expect(escapeMarkdown("#12")).toBe(`\\#${z}12`);
    expect(escapeMarkdown("https://evil.example")).toBe(`https:${z}//evil\\.example`);
    expect(escapeMarkdown("WWW.evil.example")).toBe(`WWW${z}\\.evil\\.example`);
    expect(escapeMarkdown("a@b.example")).toBe(`a@${z}b\\.example`);
    expect(escapeMarkdown("&lt;b&gt;")).toBe("\\&lt;b\\&gt;");
  });

  it("escapes HTML", () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&`)).toBe(
      "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;",
    );
  });
});

describe("markdownCode / markdownCodeBlock", () => {
  it("makes a code span the text cannot close, one line, pipes escaped in a table", () => {
    expect(markdownCode("vm-1")).toBe("`vm-1`");
    expect(markdownCode("a`b")).toBe("``a`b``");
    expect(markdownCode("`x`")).toBe("`` `x` ``");
    expect(markdownCode("")).toBe("`  `");
    expect(markdownCode("a|b\nc")).toBe("`a|b c`");
    expect(markdownCode("a|b", { inTable: true })).toBe("`a\\|b`");
    expect(markdownCode("x\u001b[2Jy\u202e")).toBe("`xy`");
  });

  it("fences a block with more backticks than the text holds", () => {
    expect(markdownCodeBlock("echo hi\n")).toBe("```\necho hi\n```");
    expect(markdownCodeBlock("a\n```\nb")).toBe("````\na\n```\nb\n````");
    expect(markdownCodeBlock("a\r\nb\u001b[31m")).toBe("```\na\nb�\n```");
  });

  it("sanitizeMultiline keeps lines and tabs, shows controls", () => {
    expect(sanitizeMultiline("a\r\nb\tc\u0007\u2028d")).toBe("a\nb\tc�\nd");
  });
});

describe("csvCell", () => {
  it("quotes every cell and doubles quotes (RFC 4180)", () => {
    expect(csvCell("plain")).toBe('"plain"');
    expect(csvCell('say "hi", ok')).toBe('"say ""hi"", ok"');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
  });

  it("defuses cells a spreadsheet would run as a formula", () => {
    for (const s of ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\uff1d1"])
      expect(csvCell(s).startsWith(`"'`), s).toBe(true);
    expect(csvCell("a=1")).toBe('"a=1"');
    expect(csvCell("\u001b[31m=1")).toBe('"�=1"');
  });
});
