/**
 * redactText skips the patterns for strings of a plain shape (ids, resource paths, UTC times).
 * That is only right if the full patterns would have left every such string as it is: these
 * tests generate strings from pieces chosen to come close to a pattern (flag dashes, JWT starts,
 * secret words, separators) and check, for every one the shape test lets through, that the full
 * redaction returns it unchanged.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { plainText, redactText, redactTextFully } from "../../src/util/redact.js";

/** Pieces near the patterns: secret words, flag starts, JWT heads, path and time punctuation. */
const PIECES = [
  "a",
  "Z",
  "0",
  "9",
  "_",
  ".",
  "/",
  "-",
  "--",
  ":",
  "-p",
  "-P",
  "-u",
  "--user",
  "--password",
  "-pass",
  "pwd",
  "password",
  "secret",
  "token",
  "key",
  "sig",
  "sas",
  "AccountKey",
  "eyJ",
  "eyJhbGciOiJIUzI1NiJ9",
  "eyJzdWIiOiIxIn0",
  "mysql",
  "login",
  "chpasswd",
  "net",
  "user",
  "Bearer",
  "Authorization",
  "ConvertTo-SecureString",
  "-----BEGIN",
  "PRIVATE",
  "KEY",
  "/p:",
  "/subscriptions/",
  "/providers/Microsoft.Compute/virtualMachines/",
  "2026-10-01T00:00:06",
  ".4930619Z",
  "Z",
  "T",
  " ",
  "=",
  "@",
  "?",
  "&",
  "%26",
  "'",
  '"',
  "\\",
];

const pieced = fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 14 }).map((a) => a.join(""));
/** Strings over the characters the plain shapes allow, with no bias. */
const plainAlphabet = fc
  .array(fc.constantFrom(..."aZ09_./-:TeyJpu".split("")), { minLength: 0, maxLength: 40 })
  .map((a) => a.join(""));

describe("redactText's plain-shape shortcut", () => {
  it("lets through only strings the full patterns leave unchanged", () => {
    let plain = 0;
    fc.assert(
      fc.property(fc.oneof(pieced, plainAlphabet), (s) => {
        if (!plainText(s)) return;
        plain++;
        expect(redactTextFully(s)).toBe(s);
      }),
      { numRuns: 20_000, seed: 7 },
    );
    // The property is not vacuous: many generated strings take the shortcut.
    expect(plain).toBeGreaterThan(2_000);
  });

  it("takes ids, resource paths and Azure times, and nothing that holds a secret", () => {
    for (const s of [
      "9316ce3b-1177-4732-9ff2-c1a92befa63f",
      "/SUBSCRIPTIONS/43EC3261-37EE-423A-AB76-A02C2DF9A436/RESOURCEGROUPS/RG-IDENTITY-PROD/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-01",
      "2026-10-01T00:00:06.4930619Z",
      "2026-10-01T00:00:06Z",
      "Microsoft.Compute/virtualMachines/runCommand/action",
      "e682b1c3768ef0d5949cd55cfddf7b90",
    ])
      expect(plainText(s), s).toBe(true);
    for (const s of [
      "-psecret",
      "/rg/mysql/-psecret",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
      "password=x",
      "--password x",
      "https://u:p@host/",
      "2026-10-01T00:00:06.4930619Z ",
      "a".repeat(5000),
    ])
      expect(plainText(s), s).toBe(false);
    // The shortcut is redactText's: a secret is still redacted through it.
    expect(redactText("/rg/mysql/-psecret")).not.toContain("secret");
  });
});
