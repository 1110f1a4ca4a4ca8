/**
 * Azure Container Registry data plane for one registry of the snapshot (images/<registry>/…),
 * served on its own loopback listener (`loginServer` = `localhost:<port>`; docs/emulator.md).
 *
 * Shapes: Azure/azure-rest-api-specs specification/containerregistry/data-plane/Azure.ContainerRegistry/
 * stable/2021-07-01/examples/ (copies of the first four under /work/shared/reference/azure-rest-api-specs):
 *   GET  /acr/v1/_catalog ................... GetRepositoryList.json
 *   GET  /acr/v1/{repo} ..................... GetRepositoryAttributes.json
 *   GET  /acr/v1/{repo}/_tags ............... GetTagList.json
 *   GET  /acr/v1/{repo}/_tags/{tag} ......... GetTagAttributes.json
 *   GET  /acr/v1/{repo}/_manifests .......... GetManifestList.json
 *   GET  /acr/v1/{repo}/_manifests/{digest} . GetManifestAttributes.json
 *   GET  /v2/{repo}/manifests/{ref} ......... GetManifest.json (the envelope's manifest, compact JSON, as its digest was computed)
 *   GET  /v2/{repo}/blobs/{digest} .......... the config blob (compact JSON of the envelope's config), or a layer
 *                                             the snapshot holds (images/<registry>/blobs/sha256/<hex>); other layers 404 BLOB_UNKNOWN
 *   POST /oauth2/exchange ................... PostRefreshToken.json (AAD access token → ACR refresh token)
 *   POST /oauth2/token ...................... PostAccessToken.json (refresh token → access token)
 * The 401 challenge, its error body and the token flow follow the SDK's own recordings
 * (/work/shared/reference/recorded/azure-sdk-for-js/…/recording_should_list_repositories.json,
 * recording_can_download_docker_manifest.json). Paging: `n` and `last`, `Link: <…>; rel="next"`.
 */
import { randomBytes } from "node:crypto";
import type { TokenStore } from "./auth.ts";
import type { ImageEnvelope, RegistryInfo } from "./snapshot.ts";
import { type JsonObject, json, lc, type Reply } from "./util.ts";

export interface AcrState {
  registry: RegistryInfo;
  /** `localhost:PORT` */
  loginServer: string;
  aad: TokenStore;
  refreshTokens: Map<string, number>;
  accessTokens: Map<string, number>;
  tokenLifetime: number;
  pageSize: number;
  anonymousPull: boolean;
}

function acrErrors(
  status: number,
  code: string,
  message: string,
  detail?: unknown,
  headers: Record<string, string> = {},
): Reply {
  const err: JsonObject = { code, message };
  if (detail !== undefined) err.detail = detail as JsonObject;
  return json(status, { errors: [err] }, headers);
}

function challenge(st: AcrState, scope: string, type: string, name: string, action: string): Reply {
  return acrErrors(
    401,
    "UNAUTHORIZED",
    "authentication required, visit https://aka.ms/acr/authorization for more information.",
    [{ Type: type, Name: name, Action: action }],
    {
      "www-authenticate": `Bearer realm="https://${st.loginServer}/oauth2/token",service="${st.loginServer}",scope="${scope}"`,
      "docker-distribution-api-version": "registry/2.0",
    },
  );
}

function repos(st: AcrState): Map<string, ImageEnvelope[]> {
  const m = new Map<string, ImageEnvelope[]>();
  for (const i of st.registry.images) {
    const a = m.get(i.repository) ?? [];
    a.push(i);
    m.set(i.repository, a);
  }
  return new Map([...m.entries()].sort((a, b) => a[0].localeCompare(b[0])));
}

/** `n`/`last` paging over sorted keys; adds the `Link` header when more remain. */
function pageBy<T>(st: AcrState, url: URL, items: T[], key: (t: T) => string): { items: T[]; link?: string } {
  const n = Number(url.searchParams.get("n") ?? "") || st.pageSize;
  const last = url.searchParams.get("last");
  const sorted = [...items].sort((a, b) => key(a).localeCompare(key(b)));
  const start = last ? sorted.findIndex((x) => key(x) > last) : 0;
  const from = start < 0 ? sorted.length : start;
  const slice = sorted.slice(from, from + n);
  if (from + n >= sorted.length || slice.length === 0) return { items: slice };
  const next = new URLSearchParams();
  next.set("last", key(slice[slice.length - 1] as T));
  next.set("n", String(n));
  const orderby = url.searchParams.get("orderby");
  if (orderby) next.set("orderby", orderby);
  return { items: slice, link: `<${url.pathname}?${next.toString()}>; rel="next"` };
}

function tagsOf(list: ImageEnvelope[]): { name: string; image: ImageEnvelope }[] {
  return list.flatMap((image) => image.tags.map((name) => ({ name, image })));
}

function tagBody(t: { name: string; image: ImageEnvelope }): JsonObject {
  const a = t.image.attributes;
  return {
    name: t.name,
    digest: t.image.digest,
    createdTime: a.createdTime ?? null,
    lastUpdateTime: a.lastUpdateTime ?? null,
    changeableAttributes: a.changeableAttributes ?? null,
  };
}

/**
 * ACR tokens are JWTs: the SDK reads `exp` from the refresh token's payload
 * (containerRegistryTokenCredential.js: "Invalid JWT structure from ACR refresh token"), as the
 * recording's `sanitized.eyJleHAiOjg2NDAwMDAwMDAwMDB9.sanitized` shows. Unsigned (alg none): the
 * emulator keeps the tokens it issued and checks them by lookup.
 */
function issue(map: Map<string, number>, lifetime: number, service: string): string {
  const exp = Date.now() + lifetime * 1000;
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const t = `${b64({ alg: "none", typ: "JWT" })}.${b64({ jti: randomBytes(12).toString("hex"), aud: service, exp: Math.floor(exp / 1000) })}.${randomBytes(16).toString("base64url")}`;
  map.set(t, exp);
  return t;
}

function valid(map: Map<string, number>, t: string | null | undefined): boolean {
  if (!t) return false;
  const exp = map.get(t);
  return exp !== undefined && Date.now() < exp;
}

export function acrHandle(
  st: AcrState,
  method: string,
  url: URL,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): Reply {
  const path = url.pathname;
  const form = () => new URLSearchParams(body.toString("utf8"));
  if (method === "POST" && path === "/oauth2/exchange") {
    const f = form();
    if (
      f.get("grant_type") !== "access_token" ||
      st.aad.check(`Bearer ${f.get("access_token") ?? ""}`).state !== "ok"
    ) {
      return acrErrors(401, "UNAUTHORIZED", "The Azure Active Directory access token is invalid or expired.");
    }
    return json(200, { refresh_token: issue(st.refreshTokens, st.tokenLifetime, st.loginServer) });
  }
  if (method === "POST" && path === "/oauth2/token") {
    const f = form();
    const grant = f.get("grant_type");
    const rt = f.get("refresh_token");
    const anonymous = grant === "password" && !rt;
    if (anonymous ? !st.anonymousPull : grant !== "refresh_token" || !valid(st.refreshTokens, rt)) {
      return acrErrors(
        401,
        "UNAUTHORIZED",
        "authentication required, visit https://aka.ms/acr/authorization for more information.",
      );
    }
    return json(200, { access_token: issue(st.accessTokens, st.tokenLifetime, st.loginServer) });
  }

  // Everything else needs an ACR access token.
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return acrErrors(400, "NAME_INVALID", "invalid repository name");
  }
  const auth = String(headers.authorization ?? "");
  const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
  const authed = valid(st.accessTokens, token);
  const all = repos(st);

  if (method !== "GET") return acrErrors(405, "UNSUPPORTED", "The operation is unsupported.");
  if (decoded === "/v2" || decoded === "/v2/") {
    return authed ? json(200, {}) : challenge(st, "", "registry", "catalog", "*");
  }
  if (decoded === "/acr/v1/_catalog") {
    if (!authed) return challenge(st, "registry:catalog:*", "registry", "catalog", "*");
    const p = pageBy(st, url, [...all.keys()], (x) => x);
    return json(200, { repositories: p.items }, p.link ? { link: p.link } : {});
  }
  let m = /^\/acr\/v1\/(.+?)(?:\/(_tags|_manifests)(?:\/([^/]+))?)?$/.exec(decoded);
  if (m) {
    const repo = m[1] as string;
    if (!authed) return challenge(st, `repository:${repo}:metadata_read`, "repository", repo, "metadata_read");
    const list = all.get(repo);
    if (!list) return acrErrors(404, "NAME_UNKNOWN", "repository name not known to registry", { name: repo });
    const kind = m[2];
    const ref = m[3];
    const base = { registry: st.loginServer, imageName: repo };
    if (!kind) {
      const times = list.map((i) => String(i.attributes.createdTime ?? "")).sort();
      const upd = list.map((i) => String(i.attributes.lastUpdateTime ?? "")).sort();
      return json(200, {
        ...base,
        createdTime: times[0] ?? null,
        lastUpdateTime: upd[upd.length - 1] ?? null,
        manifestCount: list.length,
        tagCount: tagsOf(list).length,
        changeableAttributes: { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true },
      });
    }
    if (kind === "_tags") {
      const tags = tagsOf(list);
      if (ref) {
        const t = tags.find((x) => x.name === ref);
        return t
          ? json(200, { ...base, tag: tagBody(t) })
          : acrErrors(404, "TAG_UNKNOWN", "the specified tag does not exist");
      }
      const digest = url.searchParams.get("digest");
      const p = pageBy(
        st,
        url,
        tags.filter((t) => !digest || t.image.digest === digest),
        (t) => t.name,
      );
      return json(200, { ...base, tags: p.items.map(tagBody) }, p.link ? { link: p.link } : {});
    }
    if (ref) {
      const i = list.find((x) => x.digest === ref);
      return i
        ? json(200, { ...base, manifest: i.attributes })
        : acrErrors(404, "MANIFEST_UNKNOWN", "manifest unknown", { Name: repo, Revision: ref });
    }
    const p = pageBy(st, url, list, (i) => i.digest);
    return json(200, { ...base, manifests: p.items.map((i) => i.attributes) }, p.link ? { link: p.link } : {});
  }
  m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(decoded);
  if (m) {
    const repo = m[1] as string;
    if (!authed) return challenge(st, `repository:${repo}:pull`, "repository", repo, "pull");
    const list = all.get(repo);
    if (!list) return acrErrors(404, "NAME_UNKNOWN", "repository name not known to registry", { name: repo });
    const ref = m[3] as string;
    if (m[2] === "manifests") {
      const i = ref.startsWith("sha256:") ? list.find((x) => x.digest === ref) : list.find((x) => x.tags.includes(ref));
      if (!i) return acrErrors(404, "MANIFEST_UNKNOWN", `manifest tagged by "${ref}" is not found`, { Tag: ref });
      return {
        status: 200,
        headers: {
          "content-type": i.mediaType,
          "docker-content-digest": i.digest,
          etag: `"${i.digest}"`,
          "docker-distribution-api-version": "registry/2.0",
        },
        body: i.manifestBytes,
      };
    }
    const i = list.find((x) => x.configDigest === ref);
    // A layer is served only in a repository whose manifests name it, as a registry scopes pulls.
    const layer = i
      ? undefined
      : list.some((x) => x.layerDigests.includes(ref))
        ? st.registry.blobs.get(ref)
        : undefined;
    if (!i && !layer) return acrErrors(404, "BLOB_UNKNOWN", "blob unknown to registry", ref);
    return {
      status: 200,
      headers: {
        "content-type": "application/octet-stream",
        "docker-content-digest": ref,
        "docker-distribution-api-version": "registry/2.0",
      },
      body: i ? i.configBytes : (layer as Buffer),
    };
  }
  return acrErrors(404, "NOT_FOUND", `No route for ${lc(method)} ${path}`);
}
