/**
 * Secret redaction for everything the tool writes out (reports, terminal, logs).
 *
 * Design rules:
 * - Pure functions; every regular expression is a fixed literal (none is built from input).
 * - Linear time on hostile input: each pattern either has bounded quantifiers or is anchored by
 *   a one-character look-behind so that a long run of candidate characters is scanned from one
 *   start position only; alternatives inside quantifiers never overlap. PEM blocks are found
 *   with indexOf rather than a lazy `[\s\S]*?`, which would be quadratic on unterminated blocks.
 * - Over-redaction is preferred to leaks, but common non-secret idioms (`mkdir -p dir`,
 *   `ssh -p 22`, `docker run -u 1000:1000`, msbuild `/p:Name=Value`) are left alone so payload
 *   evidence stays readable.
 */

export const REDACTED = "REDACTED";

// ---------------------------------------------------------------------------------------------
// Building blocks (constants only).

/** A double-quoted value (JSON/shell escapes allowed), single-quoted value, or bare token. */
const DQ_VALUE = String.raw`"(?:[^"\\\r\n]|\\.){0,1024}"?`;
const SQ_VALUE = String.raw`'[^'\r\n]{0,1024}'?`;

/** Names that end in one of these words hold a secret (`DB_PASSWORD`, `AccountKey`, …). */
const LONG_SECRET_WORDS =
  "password|passwd|passphrase|secret|token|accountkey|accesskey|sharedaccesskey|sharedaccesssignature|apikey|api_key|privatekey|private_key|connectionstring|clientsecret|client_secret|userpwd";
/** Short words are secret names only on their own or after a separator (`PASS`, `MYSQL_PWD`). */
const SHORT_SECRET_WORDS = "pass|pwd|key|sas|sig";
const SECRET_NAME = `(?:[A-Za-z0-9_.-]{0,64}?(?:${LONG_SECRET_WORDS})|(?:[A-Za-z0-9_.-]{0,64}[_.-])?(?:${SHORT_SECRET_WORDS}))`;

// ---------------------------------------------------------------------------------------------
// 1. PEM private key blocks.

const PEM_BEGIN = "-----BEGIN ";
const PEM_END = "-----END ";
const PEM_BEGIN_LINE = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/y;
const PEM_END_LINE = /-----END ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/y;

function redactPem(s: string): string {
  let i = s.indexOf(PEM_BEGIN);
  if (i === -1) return s;
  let out = "";
  let copied = 0;
  while (i !== -1) {
    PEM_BEGIN_LINE.lastIndex = i;
    const begin = PEM_BEGIN_LINE.exec(s);
    if (!begin) {
      i = s.indexOf(PEM_BEGIN, i + 1);
      continue;
    }
    const bodyStart = i + begin[0].length;
    let j = s.indexOf(PEM_END, bodyStart);
    let end: RegExpExecArray | null = null;
    while (j !== -1) {
      PEM_END_LINE.lastIndex = j;
      end = PEM_END_LINE.exec(s);
      if (end) break;
      j = s.indexOf(PEM_END, j + 1);
    }
    out += `${s.slice(copied, i)}${begin[0]}${REDACTED}`;
    if (!end || j === -1) {
      // Unterminated block: everything after the header may be key material.
      return out;
    }
    out += end[0];
    copied = j + end[0].length;
    i = s.indexOf(PEM_BEGIN, copied);
  }
  return out + s.slice(copied);
}

// ---------------------------------------------------------------------------------------------
// 2. JWTs (header.payload.signature, header starts with `{"` → `eyJ`).

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

// ---------------------------------------------------------------------------------------------
// 3. Authorization headers and bearer tokens.

const AUTH_HEADER =
  /(\bAuthorization["']?[ \t]{0,8}[:=][ \t]{0,8}["']?(?:Bearer|Basic|Digest|SharedKey|SharedKeyLite|SharedAccessSignature|Token|Negotiate|NTLM)[ \t]{1,8})([^\s"',;{}[\]]+)/gi;
const BEARER = /(?<![A-Za-z0-9_-])(Bearer[ \t]{1,8})([A-Za-z0-9._~+/=-]{16,})/gi;

// ---------------------------------------------------------------------------------------------
// 4. Credentials in URLs.

const URL_USER_PASS = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/[^\s/?#@:]{1,256}:)([^\s/?#]{0,256})@/g;
const URL_TOKEN_USER = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/)([A-Za-z0-9_.~%+-]{20,256})@/g;

/** Query (or fragment) parameters whose value is a secret: SAS `sig`, function `code`, tokens. */
const QUERY_SECRET =
  /((?:[?&;#]|%26|%3F)(?:sig|signature|code|token|access_token|id_token|refresh_token|client_secret|password|pwd|passwd|secret|apikey|api_key|api-key|key|sas|x-functions-key|subscription-key|sharedaccesssignature)(?:=|%3D))((?:[^%&\s"'<>\\#)\]},;|`]|%(?!26))+)/gi;

// ---------------------------------------------------------------------------------------------
// 5. name=value pairs (connection strings, env vars, JSON, YAML).

const KV_VALUE = String.raw`${DQ_VALUE}|${SQ_VALUE}|\{[^}\r\n]{0,1024}\}?|[^\s;&"'<>]+`;
const KEY_VALUE = new RegExp(String.raw`(?<![A-Za-z0-9_.-])(${SECRET_NAME}[ \t]{0,8}=[ \t]{0,8})(${KV_VALUE})`, "gi");
/** `"password": "x"` and `'password': 'x'` (JSON / Python / JS literals). */
const JSON_VALUE = String.raw`"(?:[^"\\\r\n]|\\.){0,4096}"?|'[^'\r\n]{0,4096}'?|[^\s,{}[\]"']+`;
const QUOTED_KEY_VALUE = new RegExp(String.raw`(["'])(${SECRET_NAME})\1([ \t]{0,8}:[ \t]{0,8})(${JSON_VALUE})`, "gi");
/** The same inside a JSON string: `\"password\":\"x\"`. */
const ESCAPED_KEY_VALUE = new RegExp(
  String.raw`(\\")(${SECRET_NAME})(\\"[ \t]{0,8}:[ \t]{0,8})(\\"(?:[^"\\\r\n]|\\[^"\r\n]){0,4096}(?:\\")?|[^\s,{}[\]"'\\]+)`,
  "gi",
);
/**
 * ARM template parameters (`"adminPassword": {"value": "x"}`, in deployment request bodies and
 * parameter files): the secret is one level down, under `value`. Also JSON-escaped (`\"…\"`)
 * inside a logged request body.
 */
const PARAM_KEY_VALUE = new RegExp(
  String.raw`(["'])(${SECRET_NAME})\1([ \t]{0,8}:[ \t]{0,8}\{[ \t]{0,8}(["'])value\4[ \t]{0,8}:[ \t]{0,8})(${JSON_VALUE})`,
  "gi",
);
const ESCAPED_PARAM_KEY_VALUE = new RegExp(
  String.raw`(\\")(${SECRET_NAME})(\\"[ \t]{0,8}:[ \t]{0,8}\{[ \t]{0,8}\\"value\\"[ \t]{0,8}:[ \t]{0,8})(\\"(?:[^"\\\r\n]|\\[^"\r\n]){0,4096}(?:\\")?|[^\s,{}[\]"'\\]+)`,
  "gi",
);
/** YAML `password: x` at the start of a line (cloud-init, compose files, custom data). */
const YAML_KEY_VALUE = new RegExp(
  String.raw`^([ \t]{0,64}(?:-[ \t]{1,8})?${SECRET_NAME}[ \t]{0,8}:[ \t]{1,8})(${DQ_VALUE}|${SQ_VALUE}|[^\s#|>&*!{[][^\r\n]*)`,
  "gim",
);

// ---------------------------------------------------------------------------------------------
// 6. Command-line flags.

const FLAG_VALUE = String.raw`${DQ_VALUE}|${SQ_VALUE}|[^\s"'\-|;&()][^\s"';|&)]*`;
const FLAG_WORDS =
  "password|passwd|passphrase|secret|token|accountkey|account-key|accesskey|access-key|sastoken|sas-token|connectionstring|connection-string|apikey|api-key|clientsecret|client-secret";
/** `--password x`, `--password=x`, `-Password x`, `-AdminPassword:x`, `--account-key x`. */
const SECRET_FLAG = new RegExp(
  String.raw`(?<![A-Za-z0-9_-])(-{1,2}(?:[A-Za-z0-9-]{0,40}?(?:${FLAG_WORDS})|(?:[A-Za-z0-9-]{0,40}-)?(?:pass|pwd))(?:[ \t]{1,8}|[=:]))(${FLAG_VALUE})`,
  "gi",
);
/** Windows `/p:x`, `/pass:x`, `/password:x`; `/p:Name=Value` (msbuild property) is left alone. */
const SLASH_FLAG =
  /(?<![A-Za-z0-9_/])(\/(?:p|pass|pwd|password|rp|tp|sp|targetpassword|sourcepassword):)("[^"\r\n]{0,1024}"?|[^\s"=;|&]+(?=[\s"|;&]|$))/gi;
/** `curl -u user:pass`, `--user user:pass` (not `-u 1000:1000`, a uid:gid). */
const USER_COLON_PASS =
  /(?<![A-Za-z0-9_-])((?:-u|--user)(?:[ \t]{1,8}|=)["']?)(?![0-9]{1,10}:[0-9]{1,10}(?![^\s"']))([^\s:"']{1,256}:)([^\s"']+)/g;
/**
 * PowerShell `ConvertTo-SecureString "x" -AsPlainText`, and with its switches first
 * (`ConvertTo-SecureString -AsPlainText -Force -String x`); a `$variable` is left alone.
 */
const SECURE_STRING =
  /(ConvertTo-SecureString(?:[ \t]{1,8}-(?:AsPlainText|Force)\b){0,2}[ \t]{1,8}(?:-String[ \t]{1,8})?)("(?:[^"`\r\n]|`.){0,1024}"?|'[^'\r\n]{0,1024}'?|[^\s"'$(-][^\s;|)]{0,1024})/gi;
/** `net user bob P@ss /add`. */
const NET_USER =
  /(\bnet(?:\.exe)?[ \t]{1,8}user[ \t]{1,8}[^\s"'/]{1,256}[ \t]{1,8})("[^"\r\n]{0,1024}"?|[^\s"'/*][^\s"']*)/gi;

/**
 * `-p x` is a password only for some tools (sshpass, mysql, psexec, `… login -u u -p p`); for
 * `mkdir -p` or `ssh -p 22` it is not. `-P x` likewise (`sqlcmd -U sa -P x`), unless x is a port
 * (`scp -P 2222`). These rules run per line, only on lines that look like
 * an authentication command.
 */
const LINE = /[^\r\n]+/g;
const AUTH_LINE =
  /\b(?:sshpass|mysql|mysqldump|mysqladmin|mariadb|psexec|psexec64|paexec|schtasks|wmic|login|useradd|usermod|cmdkey|runas)\b|(?:^|[ \t])(?:-u|-U|--user|--username|\/u|\/user|\/ru)(?=[ \t=:]|$)/i;
const MYSQL_LINE = /\b(?:mysql|mysqldump|mysqladmin|mariadb)\b/i;
const DASH_P = new RegExp(
  String.raw`(?<![A-Za-z0-9_-])(-p[ \t]{1,8}|-P[ \t]{1,8}(?![0-9]{1,5}(?![^\s]))|\/[pP][ \t]{1,8}|\/[rR][pP][ \t]{1,8})(${FLAG_VALUE})`,
  "g",
);
const DASH_P_ATTACHED = /(?<![A-Za-z0-9_-])(-p)("[^"\r\n]{0,1024}"?|'[^'\r\n]{0,1024}'?|[^\s"'-][^\s"';|&)]*)/g;
const CHPASSWD = /\bchpasswd\b/;
const CHPASSWD_PAIR = /(\b[A-Za-z0-9_.-]{1,64}:)([^\s"':|]+)/g;

function redactLine(line: string): string {
  let out = line;
  if (AUTH_LINE.test(out)) {
    out = out.replace(DASH_P, (_m, flag: string, value: string) => flag + quotedRedacted(value));
    if (MYSQL_LINE.test(out)) {
      out = out.replace(DASH_P_ATTACHED, (_m, flag: string, value: string) => flag + quotedRedacted(value));
    }
  }
  const c = out.search(CHPASSWD);
  if (c > 0) out = out.slice(0, c).replace(CHPASSWD_PAIR, `$1${REDACTED}`) + out.slice(c);
  return out;
}

/** Replace the value but keep the quote style, so redacted scripts still read naturally. */
function quotedRedacted(value: string): string {
  const q = value[0];
  if (q === '"' || q === "'") return `${q}${REDACTED}${q}`;
  if (value.startsWith('\\"')) return `\\"${REDACTED}\\"`;
  return REDACTED;
}

/**
 * Results for short strings, which repeat across findings (resource ids, principals, operation
 * names): redaction is a pure function, so a repeated string costs one lookup, not twenty regular
 * expressions. Bounded: cleared when full.
 */
function memoized(fn: (s: string) => string, maxLength: number, limit: number): (s: string) => string {
  const memo = new Map<string, string>();
  return (s) => {
    if (s.length > maxLength) return fn(s);
    let out = memo.get(s);
    if (out === undefined) {
      if (memo.size >= limit) memo.clear();
      out = fn(s);
      memo.set(s, out);
    }
    return out;
  };
}

const MEMO_MAX_LENGTH = 512;
const MEMO_ENTRIES = 20_000;

/**
 * Shapes that no pattern above can match, so redaction would return them as they are: ids,
 * resource paths and names made of letters, digits, `_`, `.`, `/` and `-` (a `-` only after a
 * letter, digit, `_` or `-`: every flag pattern looks behind for exactly those), without `eyJ`
 * (a JWT's start); and UTC times as Azure writes them. Every other pattern needs whitespace, a
 * quote, a backslash, `=`, `:`, `?`, `&`, `;`, `#`, `%` or `@`. A scan's strings are mostly these
 * (event ids, times, resource ids), so most skip the twenty expressions; a test checks the
 * claim against the full redaction over generated strings.
 */
const PLAIN_TOKEN = /^(?:[A-Za-z0-9_./]|(?<=[A-Za-z0-9_-])-)*$/;
const UTC_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z$/;

/** Longer strings are scripts and documents: the full patterns, not the shape test. */
const PLAIN_MAX_LENGTH = 4096;

/** Whether redaction leaves `s` as it is without looking further (see PLAIN_TOKEN). */
export function plainText(s: string): boolean {
  return s.length <= PLAIN_MAX_LENGTH && ((PLAIN_TOKEN.test(s) && !s.includes("eyJ")) || UTC_TIME.test(s));
}

const redactMemoized = memoized(redactTextOnce, MEMO_MAX_LENGTH, MEMO_ENTRIES);

/** Remove secrets from free text. Idempotent; ordinary text is returned unchanged. */
export function redactText(s: string): string {
  return plainText(s) ? s : redactMemoized(s);
}

/** The full patterns, bypassing the shape test and the memo (for tests of both). */
export const redactTextFully: (s: string) => string = (s) => redactTextOnce(s);

function redactTextOnce(s: string): string {
  if (s.length === 0) return s;
  let out = redactPem(s);
  out = out.replace(JWT, REDACTED);
  out = out.replace(AUTH_HEADER, `$1${REDACTED}`);
  out = out.replace(BEARER, `$1${REDACTED}`);
  out = out.replace(URL_USER_PASS, `$1${REDACTED}@`);
  out = out.replace(URL_TOKEN_USER, `$1${REDACTED}@`);
  out = out.replace(QUERY_SECRET, `$1${REDACTED}`);
  out = out.replace(KEY_VALUE, (_m, name: string, value: string) => name + quotedRedacted(value));
  out = out.replace(
    QUOTED_KEY_VALUE,
    (_m, q: string, name: string, sep: string, value: string) => q + name + q + sep + quotedRedacted(value),
  );
  out = out.replace(
    ESCAPED_KEY_VALUE,
    (_m, q: string, name: string, sep: string, value: string) => q + name + sep + quotedRedacted(value),
  );
  out = out.replace(
    PARAM_KEY_VALUE,
    (_m, q: string, name: string, sep: string, _q2: string, value: string) =>
      q + name + q + sep + quotedRedacted(value),
  );
  out = out.replace(
    ESCAPED_PARAM_KEY_VALUE,
    (_m, q: string, name: string, sep: string, value: string) => q + name + sep + quotedRedacted(value),
  );
  out = out.replace(YAML_KEY_VALUE, (_m, name: string, value: string) => name + quotedRedacted(value));
  out = out.replace(SECRET_FLAG, (_m, flag: string, value: string) => flag + quotedRedacted(value));
  out = out.replace(SLASH_FLAG, (_m, flag: string, value: string) => flag + quotedRedacted(value));
  out = out.replace(USER_COLON_PASS, `$1$2${REDACTED}`);
  out = out.replace(SECURE_STRING, (_m, cmd: string, value: string) => cmd + quotedRedacted(value));
  out = out.replace(NET_USER, (_m, cmd: string, value: string) => cmd + quotedRedacted(value));
  out = out.replace(LINE, redactLine);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Settings and structured values.

const SECRET_KEY_NAME =
  /KEY|SECRET|PASSWORD|PASSWD|PWD|TOKEN|CONNECTION|CONNSTR|SAS|CREDENTIAL|(?:^|[_.-])PASS(?:$|[_.-])/i;
/** Names that describe a secret rather than hold one (`keyName`, `TOKEN_TYPE`, `keyVaultId`). */
const DESCRIPTIVE_SUFFIX = /(?:^|[_.-])(?:name|names|id|ids|type|types|kind|count|version|uri|url|enabled)$/i;
const DESCRIPTIVE_CAMEL_SUFFIX =
  /[a-z0-9](?:Name|Names|Id|ID|Ids|IDs|Type|Types|Kind|Count|Version|Uri|URI|Url|URL|Enabled)$/;

/** Whether a setting or property name suggests that its value is a secret. */
export function isSecretName(name: string): boolean {
  return secretNames(name) === "1";
}
const secretNames = memoized(
  (name) =>
    SECRET_KEY_NAME.test(name) && !DESCRIPTIVE_SUFFIX.test(name) && !DESCRIPTIVE_CAMEL_SUFFIX.test(name) ? "1" : "",
  MEMO_MAX_LENGTH,
  MEMO_ENTRIES,
);

/** SAS and API parameters that are not secret and help a reader (expiry, permissions, …). */
const SAFE_QUERY_PARAMS = new Set([
  "sv",
  "ss",
  "srt",
  "sp",
  "se",
  "st",
  "spr",
  "sr",
  "si",
  "sdd",
  "skoid",
  "sktid",
  "skt",
  "ske",
  "sks",
  "skv",
  "api-version",
]);
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/)([^/?#\s]*@)?([^/?#\s]*)([^?#\s]*)(\?[^#\s]*)?(#\S*)?$/;
const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(/i;

/** A URL keeps scheme, host and path; user info, fragment and non-SAS-metadata query values go. */
function redactUrlValue(url: string): string | undefined {
  // No whitespace means URL_PARTS can only succeed or fail at the scheme: linear.
  if (/\s/.test(url)) return undefined;
  const m = URL_PARTS.exec(url);
  if (!m) return undefined;
  const [, scheme = "", userinfo, host = "", path = "", query, fragment] = m;
  let out = scheme + (userinfo ? `${REDACTED}@` : "") + host + path;
  if (query) {
    const params = query
      .slice(1)
      .split("&")
      .map((p) => {
        const eq = p.indexOf("=");
        if (eq === -1) return p;
        const name = p.slice(0, eq);
        return SAFE_QUERY_PARAMS.has(name.toLowerCase()) ? p : `${name}=${REDACTED}`;
      });
    out += `?${params.join("&")}`;
  }
  if (fragment) out += `#${REDACTED}`;
  return redactText(out);
}

/** The value of a secret-named setting: REDACTED, except URLs and Key Vault references. */
function redactSecretValue(value: string): string {
  if (value.length === 0) return value;
  if (KEY_VAULT_REFERENCE.test(value)) return redactText(value);
  return redactUrlValue(value.trim()) ?? REDACTED;
}

/**
 * Redact an app-settings-style map: values of secret-named keys become REDACTED (a URL keeps
 * its scheme/host/path, with query secrets redacted); every other value goes through redactText.
 */
export function redactSettings(settings: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    out[key] = isSecretName(key) ? redactSecretValue(value) : redactText(value);
  }
  return out;
}

const MAX_DEPTH = 100;

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function walk(value: unknown, secret: boolean, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return secret ? redactSecretValue(value) : redactText(value);
  if (secret && (typeof value === "number" || typeof value === "bigint")) return REDACTED;
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return `${REDACTED} (nested too deeply)`;
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, secret, depth + 1, seen));
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = walk(v, secret || isSecretName(key), depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * Redact a JSON-like value: object properties are treated like settings (secret-named keys
 * are redacted, with everything nested under them), other strings go through redactText.
 * Returns a new value; the input is not modified.
 */
export function redactDeep(value: unknown): unknown {
  return walk(value, false, 0, new WeakSet());
}
