/**
 * A throw-away certificate authority and one server certificate for the loopback (SAN
 * `localhost`, `127.0.0.1`, `::1`), made at start with the `selfsigned` devDependency.
 * Clients trust the CA through NODE_EXTRA_CA_CERTS=<caFile> (child processes) or
 * tls.setDefaultCACertificates (in-process tests; see docs/emulator.md).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import selfsigned from "selfsigned";

export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Where the CA certificate was written (PEM). */
  caFile: string;
}

export async function makeTls(dir?: string): Promise<TlsMaterial> {
  const notBeforeDate = new Date(Date.now() - 24 * 3600 * 1000);
  const notAfterDate = new Date(Date.now() + 30 * 24 * 3600 * 1000);
  const ca = await selfsigned.generate(
    [
      // A distinct subject per start: several emulators (and their CAs) may be trusted in one process.
      { name: "commonName", value: `azure-exec-audit emulator test CA ${randomBytes(6).toString("hex")}` },
    ],
    {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    },
  );
  const leaf = await selfsigned.generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  const out = dir ?? mkdtempSync(join(tmpdir(), "aea-emulator-"));
  const caFile = join(out, "ca.pem");
  writeFileSync(caFile, ca.cert);
  return { caPem: ca.cert, certPem: leaf.cert, keyPem: leaf.private, caFile };
}
