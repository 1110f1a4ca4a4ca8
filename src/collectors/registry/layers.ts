/**
 * Files from small image layers, for the payload rules (docs/payloads.md, "Image layer files").
 * A layer is read only when its media type is a gzip tar (OCI layer.md `…layer.v1.tar+gzip`,
 * Docker `…rootfs.diff.tar.gzip` as in GetManifest.json) and the manifest's `layers[].size` is
 * at most --max-layer-bytes. It is streamed through gunzip into the tar reader; only the files
 * below are kept (64 KiB each), uncompressed bytes are capped, nothing is written to disk, links
 * are never followed and nothing is run.
 *
 * Which files: those whose text the payload rules analyse and that run without anyone typing a
 * command — cron tables (cron-fetch-and-run, reverse-shell, cryptominer, download-and-execute
 * read the job lines), shell start-up files and rc.local (run at every login or boot), systemd
 * units (their Exec* lines), common entrypoint scripts, and authorized_keys (ssh-authorized-keys:
 * a key baked into an image). Not read: /etc/ld.so.preload (a list of library paths; no rule
 * analyses one), sudoers (the local-admin rule reads commands that write it, not the file), binaries.
 */
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { MAX_PAYLOAD_CHARS } from "../../model/records.js";
import type { LayerFileText } from "../../store/digest-cache.js";
import { TarError, TarReader } from "./tar.js";

export const LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
]);

/** Default of --max-layer-bytes: layers that add a few files are kilobytes; a package install is tens of megabytes. */
export const DEFAULT_MAX_LAYER_BYTES = 4 * 1024 * 1024;
/** Uncompressed bytes read from one layer before it is reported and left (a gzip bomb stops here). */
export const MAX_LAYER_UNCOMPRESSED = 64 * 1024 * 1024;
/** Wanted files kept from one layer. */
export const MAX_FILES_PER_LAYER = 256;

const HOME = "(?:/root|/home/[^/]+)";
const WANTED = new RegExp(
  [
    "^/etc/(?:crontab|anacrontab)$",
    String.raw`^/etc/cron\.(?:d|hourly|daily|weekly|monthly)/[^/]+$`,
    "^/var/spool/cron/(?:crontabs/)?[^/]+$",
    String.raw`^${HOME}/\.ssh/authorized_keys2?$`,
    String.raw`^/etc/(?:profile|bash\.bashrc|bashrc|zshrc|zsh/zshrc|rc\.local)$`,
    String.raw`^/etc/profile\.d/[^/]+$`,
    String.raw`^${HOME}/\.(?:bashrc|profile|bash_profile|bash_login|zshrc)$`,
    String.raw`^/(?:etc|lib|usr/lib)/systemd/system/(?:[^/]+/)?[^/]+\.(?:service|timer)$`,
    String.raw`^(?:/usr/local/bin)?/(?:docker-)?entrypoint\.sh$`,
    String.raw`^/docker-entrypoint\.d/[^/]+\.sh$`,
  ].join("|"),
);

/** Whether a path in a layer is one the payload rules can analyse (normalised, absolute). */
export function wantedFile(path: string): boolean {
  return WANTED.test(path);
}

/**
 * Names what a cached layer result was read with: a layer read under other caps or another file
 * list is read again. Change the version when the list above changes.
 */
export const LAYER_READER = `layer-files/1 ${MAX_LAYER_UNCOMPRESSED} ${MAX_PAYLOAD_CHARS} ${MAX_FILES_PER_LAYER}`;

/** What one layer gave: its wanted files, and why it was not read in full when it was not. */
export interface LayerRead {
  files: LayerFileText[];
  /** The layer is corrupt or too large; the files before that point are kept. */
  problem?: string;
}

class LayerProblem extends Error {}

/**
 * Reads a layer blob. A corrupt or oversized layer is an answer (`problem`), the same on every
 * read; a failed download (network, digest mismatch, abort) throws, so the caller reports it and
 * nothing is cached. When the archive ends early the rest is still read, so the SDK can check the
 * blob's sha256 against its digest.
 */
export async function readLayer(
  content: AsyncIterable<Buffer | Uint8Array> | NodeJS.ReadableStream,
  declaredSize: number,
  abortSignal?: AbortSignal,
): Promise<LayerRead> {
  const tar = new TarReader({ select: wantedFile, maxFileBytes: MAX_PAYLOAD_CHARS, maxFiles: MAX_FILES_PER_LAYER });
  let compressed = 0;
  let uncompressed = 0;
  let sourceError: unknown;
  let problem: string | undefined;
  async function* counted(): AsyncGenerator<Buffer> {
    try {
      for await (const c of content as AsyncIterable<Buffer | Uint8Array>) {
        compressed += c.length;
        if (compressed > declaredSize)
          throw new LayerProblem(`is larger than the ${declaredSize} bytes its manifest declares`);
        yield Buffer.from(c.buffer, c.byteOffset, c.length);
      }
    } catch (e) {
      if (!(e instanceof LayerProblem)) sourceError = e;
      throw e;
    }
  }
  try {
    await pipeline(
      counted(),
      createGunzip(),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          uncompressed += chunk.length;
          if (uncompressed > MAX_LAYER_UNCOMPRESSED)
            throw new LayerProblem(`expands to more than ${MAX_LAYER_UNCOMPRESSED} bytes`);
          if (!tar.done) tar.push(chunk);
        }
        tar.end();
      },
      ...(abortSignal ? [{ signal: abortSignal }] : []),
    );
  } catch (e) {
    if (sourceError !== undefined) throw sourceError;
    if (abortSignal?.aborted) throw e;
    const zlib = typeof (e as { code?: unknown }).code === "string" && (e as { code: string }).code.startsWith("Z_");
    if (e instanceof LayerProblem) problem = e.message;
    else if (e instanceof TarError) problem = `is not a readable tar archive (${e.message})`;
    else if (zlib) problem = `is not valid gzip (${(e as Error).message})`;
    else throw e;
  }
  if (!problem && tar.dropped > 0)
    problem = `has more than ${MAX_FILES_PER_LAYER} files to analyse; ${tar.dropped} were not read`;
  const files = tar.files.map((f) => ({ path: f.path, content: f.content.toString("utf8"), truncated: f.truncated }));
  return problem ? { files, problem } : { files };
}
