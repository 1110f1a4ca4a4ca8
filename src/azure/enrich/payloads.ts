/**
 * Payload recovery: the Activity Log never carries the script, command, image or package URL
 * that ran; resource configuration does. Each extractor below knows where one resource type
 * keeps it (field names from the Azure REST API specs; docs/payloads.md lists them with their sources).
 * Payload text is attacker-controlled: it is capped and never executed or turned into a regex.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import {
  type ArmResource,
  type AuditRecord,
  type ContainerImage,
  type FunctionApp,
  MAX_PAYLOAD_CHARS,
  type Payload,
  type PayloadKind,
  type PayloadSource,
} from "../../model/records.js";
import { isObj, str, strArray } from "../normalize/util.js";

interface Found {
  payloadKind: PayloadKind;
  content: string;
  path: string;
  /** Already cut before it got here (a layer file read up to its cap). */
  truncated?: boolean;
}

interface Extractor {
  vector: string;
  techniques: string[];
  extract(props: Record<string, unknown>): Found[];
}

function push(out: Found[], payloadKind: PayloadKind, content: unknown, path: string): void {
  const s = str(content);
  if (s && s.trim() !== "") out.push({ payloadKind, content: s, path });
}

/** Linux CustomScript `settings.script` is base64 and may be gzip-compressed. */
function decodeScriptSetting(b64: string): string | undefined {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(b64)) return undefined;
  const buf = Buffer.from(b64, "base64");
  try {
    if (buf[0] === 0x1f && buf[1] === 0x8b)
      return gunzipSync(buf, { maxOutputLength: MAX_PAYLOAD_CHARS * 4 }).toString("utf8");
  } catch {
    return undefined;
  }
  return buf.toString("utf8");
}

const runCommand: Extractor = {
  vector: "Run Command (managed)",
  techniques: ["T1651"],
  extract(p) {
    const out: Found[] = [];
    const src = isObj(p.source) ? p.source : {};
    push(out, "script", src.script, "properties.source.script");
    push(out, "url", src.scriptUri, "properties.source.scriptUri");
    push(out, "command", src.commandId, "properties.source.commandId");
    return out;
  },
};

const extension: Extractor = {
  vector: "VM extension",
  techniques: ["T1651"],
  extract(p) {
    const out: Found[] = [];
    const settings = isObj(p.settings) ? p.settings : {};
    push(out, "command", settings.commandToExecute, "properties.settings.commandToExecute");
    for (const [i, u] of strArray(settings.fileUris).entries())
      push(out, "url", u, `properties.settings.fileUris[${i}]`);
    const script = str(settings.script);
    if (script) {
      const decoded = decodeScriptSetting(script);
      push(out, "script", decoded ?? script, "properties.settings.script");
    }
    return out;
  },
};

const containerGroup: Extractor = {
  vector: "Container Instances container group",
  techniques: ["T1610"],
  extract(p) {
    const out: Found[] = [];
    for (const listName of ["containers", "initContainers"] as const) {
      const list = Array.isArray(p[listName]) ? (p[listName] as unknown[]) : [];
      list.forEach((c, i) => {
        if (!isObj(c)) return;
        const cp = isObj(c.properties) ? c.properties : {};
        push(out, "image", cp.image, `properties.${listName}[${i}].properties.image`);
        const cmd = strArray(cp.command);
        if (cmd.length > 0) push(out, "command", cmd.join(" "), `properties.${listName}[${i}].properties.command`);
      });
    }
    return out;
  },
};

const containerApp: Extractor = {
  vector: "Container Apps app or job",
  techniques: ["T1610"],
  extract(p) {
    const out: Found[] = [];
    const template = isObj(p.template) ? p.template : {};
    for (const listName of ["containers", "initContainers"] as const) {
      const list = Array.isArray(template[listName]) ? (template[listName] as unknown[]) : [];
      list.forEach((c, i) => {
        if (!isObj(c)) return;
        push(out, "image", c.image, `properties.template.${listName}[${i}].image`);
        const cmd = [...strArray(c.command), ...strArray(c.args)];
        if (cmd.length > 0) push(out, "command", cmd.join(" "), `properties.template.${listName}[${i}].command`);
      });
    }
    return out;
  },
};

const deploymentScript: Extractor = {
  vector: "ARM deployment script",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    push(out, "script", p.scriptContent, "properties.scriptContent");
    push(out, "url", p.primaryScriptUri, "properties.primaryScriptUri");
    for (const [i, u] of strArray(p.supportingScriptUris).entries())
      push(out, "url", u, `properties.supportingScriptUris[${i}]`);
    return out;
  },
};

/**
 * Where a runbook's script reaches extraction. ARM keeps it out of the runbook's body: it is the
 * `text/powershell` answer of `GET …/runbooks/{name}/content` (published) and
 * `…/runbooks/{name}/draft/content` (Automation 2023-11-01, Runbook_GetContent and
 * RunbookDraft_GetContent). The live collector (and a snapshot file) puts the texts on the runbook's
 * body under this key, which no ARM property has (properties are camelCase, without hyphens), so
 * they go through this one extractor with the runbook as their source. docs/payloads.md.
 */
export const RUNBOOK_CONTENT_KEY = "x-azure-exec-audit-content";

const runbook: Extractor = {
  vector: "Automation runbook",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    const link = isObj(p.publishContentLink) ? p.publishContentLink : {};
    push(out, "url", link.uri, "properties.publishContentLink.uri");
    const content = isObj(p[RUNBOOK_CONTENT_KEY]) ? p[RUNBOOK_CONTENT_KEY] : {};
    for (const k of ["published", "draft"]) push(out, "script", content[k], `properties.${RUNBOOK_CONTENT_KEY}.${k}`);
    return out;
  },
};

/** base64 text → UTF-8, or undefined when it is not base64. */
function fromBase64(s: string): string | undefined {
  const t = s.trim();
  if (t === "" || !/^[A-Za-z0-9+/=\s]+$/.test(t)) return undefined;
  return Buffer.from(t, "base64").toString("utf8");
}

const galleryApplicationVersion: Extractor = {
  vector: "Compute Gallery VM Application",
  techniques: ["T1651"],
  extract(p) {
    const out: Found[] = [];
    const profile = isObj(p.publishingProfile) ? p.publishingProfile : {};
    const manage = isObj(profile.manageActions) ? profile.manageActions : {};
    for (const k of ["install", "update", "remove"])
      push(out, "command", manage[k], `properties.publishingProfile.manageActions.${k}`);
    const custom = Array.isArray(profile.customActions) ? profile.customActions : [];
    custom.forEach((a, i) => {
      if (isObj(a)) push(out, "command", a.script, `properties.publishingProfile.customActions[${i}].script`);
    });
    const source = isObj(profile.source) ? profile.source : {};
    push(out, "url", source.mediaLink, "properties.publishingProfile.source.mediaLink");
    push(out, "url", source.defaultConfigurationLink, "properties.publishingProfile.source.defaultConfigurationLink");
    return out;
  },
};

const avsScriptExecution: Extractor = {
  vector: "Azure VMware Solution script execution",
  techniques: ["T1651"],
  extract(p) {
    const cmdlet = str(p.scriptCmdletId);
    if (!cmdlet) return [];
    const params = (Array.isArray(p.parameters) ? p.parameters : [])
      .filter(isObj)
      .map((x) => `-${str(x.name) ?? "?"} ${str(x.value) ?? ""}`.trim());
    return [
      {
        payloadKind: "command",
        content: [cmdlet.slice(cmdlet.lastIndexOf("/") + 1), ...params].join(" "),
        path: "properties.scriptCmdletId+parameters",
      },
    ];
  },
};

const acrTask: Extractor = {
  vector: "ACR task",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    const step = isObj(p.step) ? p.step : isObj(p.runRequest) ? p.runRequest : {};
    const base = isObj(p.step) ? "properties.step" : "properties.runRequest";
    for (const k of ["encodedTaskContent", "encodedValuesContent"]) {
      const raw = str(step[k]);
      if (raw) push(out, "script", fromBase64(raw) ?? raw, `${base}.${k}`);
    }
    for (const k of ["contextPath", "sourceLocation"]) push(out, "url", step[k], `${base}.${k}`);
    const triggers = isObj(p.trigger) && Array.isArray(p.trigger.sourceTriggers) ? p.trigger.sourceTriggers : [];
    triggers.forEach((t, i) => {
      if (isObj(t) && isObj(t.sourceRepository)) {
        push(
          out,
          "url",
          t.sourceRepository.repositoryUrl,
          `properties.trigger.sourceTriggers[${i}].sourceRepository.repositoryUrl`,
        );
      }
    });
    return out;
  },
};

const siteContainer: Extractor = {
  vector: "App Service sidecar container",
  techniques: ["T1610"],
  extract(p) {
    const out: Found[] = [];
    push(out, "image", p.image, "properties.image");
    push(out, "command", p.startUpCommand, "properties.startUpCommand");
    return out;
  },
};

/**
 * Where an App Service app pulls its code from: SiteSourceControl `properties.repoUrl` (Microsoft.Web
 * SiteSourceControl.tsp / models.tsp; the body of GET …/sites/{name}/sourcecontrols/web). The
 * platform clones and builds it with the app's identity, on every push unless manual integration.
 */
const siteSourceControl: Extractor = {
  vector: "App Service source control",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    push(out, "url", p.repoUrl, "properties.repoUrl");
    return out;
  },
};

/** Files per function, at most: a Function App with more is not one an attacker typed in. */
const MAX_FUNCTION_FILES = 50;

/**
 * A function's code when ARM carries it: FunctionEnvelope `properties.files` (file name → text;
 * FunctionEnvelope.tsp / models.tsp) is what createFunction accepts and what the body then holds.
 * Functions deployed as a package leave it null and their files behind the SCM host, out of reach
 * here. `script_href` and `config.bindings` are not payloads: the first is the app's own Kudu URL,
 * the second trigger metadata (rules read both on `service: resources`).
 */
const siteFunction: Extractor = {
  vector: "Function App function",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    if (!isObj(p.files)) return out;
    for (const [name, text] of Object.entries(p.files).slice(0, MAX_FUNCTION_FILES))
      push(out, "script", text, `properties.files.${name}`);
    return out;
  },
};

/**
 * A site extension's package: SiteExtensionInfo `properties.extension_url` (the NuGet package the
 * platform downloads and runs inside Kudu) and `installer_command_line_params` (SiteExtensionInfo.tsp
 * / models.tsp; the body of GET …/sites/{name}/siteextensions).
 */
const siteExtension: Extractor = {
  vector: "App Service site extension",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    push(out, "url", p.extension_url, "properties.extension_url");
    push(out, "command", p.installer_command_line_params, "properties.installer_command_line_params");
    return out;
  },
};

const scaleSetModel: Extractor = {
  vector: "VM scale set model extension",
  techniques: ["T1651"],
  extract(p) {
    const vmp = isObj(p.virtualMachineProfile) ? p.virtualMachineProfile : {};
    const ext =
      isObj(vmp.extensionProfile) && Array.isArray(vmp.extensionProfile.extensions)
        ? vmp.extensionProfile.extensions
        : [];
    const out: Found[] = [];
    ext.forEach((e, i) => {
      if (!isObj(e) || !isObj(e.properties)) return;
      for (const f of extension.extract(e.properties)) {
        out.push({
          ...f,
          path: f.path.replace(
            /^properties\./,
            `properties.virtualMachineProfile.extensionProfile.extensions[${i}].properties.`,
          ),
        });
      }
    });
    const userData = str(vmp.userData);
    if (userData) push(out, "script", fromBase64(userData) ?? userData, "properties.virtualMachineProfile.userData");
    return out;
  },
};

const virtualMachine: Extractor = {
  vector: "VM userData",
  techniques: ["T1651"],
  extract(p) {
    const out: Found[] = [];
    const userData = str(p.userData);
    if (userData) push(out, "script", fromBase64(userData) ?? userData, "properties.userData");
    return out;
  },
};

/** Logic App definitions nest actions in scopes, conditions and switches; walk them all. */
function walkLogicActions(actions: unknown, path: string, out: Found[], depth = 0): void {
  if (!isObj(actions) || depth > 20) return;
  for (const [name, a] of Object.entries(actions)) {
    if (!isObj(a)) continue;
    const here = `${path}.${name}`;
    const inputs = isObj(a.inputs) ? a.inputs : {};
    if (typeof a.type === "string" && /^http/i.test(a.type)) push(out, "url", inputs.uri, `${here}.inputs.uri`);
    walkLogicActions(a.actions, `${here}.actions`, out, depth + 1);
    if (isObj(a.else)) walkLogicActions(a.else.actions, `${here}.else.actions`, out, depth + 1);
    if (isObj(a.default)) walkLogicActions(a.default.actions, `${here}.default.actions`, out, depth + 1);
    if (isObj(a.cases)) {
      for (const [k, c] of Object.entries(a.cases))
        if (isObj(c)) walkLogicActions(c.actions, `${here}.cases.${k}.actions`, out, depth + 1);
    }
  }
}

const logicWorkflow: Extractor = {
  vector: "Logic App workflow",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    const def = isObj(p.definition) ? p.definition : {};
    walkLogicActions(def.actions, "properties.definition.actions", out);
    return out;
  },
};

const imageBuilderTemplate: Extractor = {
  vector: "VM Image Builder customizer",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    const customize = Array.isArray(p.customize) ? p.customize : [];
    customize.forEach((c, i) => {
      if (!isObj(c)) return;
      const inline = strArray(c.inline);
      if (inline.length > 0) push(out, "script", inline.join("\n"), `properties.customize[${i}].inline`);
      push(out, "url", c.scriptUri, `properties.customize[${i}].scriptUri`);
      push(out, "url", c.sourceUri, `properties.customize[${i}].sourceUri`);
    });
    return out;
  },
};

const batchPool: Extractor = {
  vector: "Batch pool start task",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    const start = isObj(p.startTask) ? p.startTask : {};
    push(out, "command", start.commandLine, "properties.startTask.commandLine");
    const files = Array.isArray(start.resourceFiles) ? start.resourceFiles : [];
    files.forEach((f, i) => {
      if (isObj(f)) push(out, "url", f.httpUrl, `properties.startTask.resourceFiles[${i}].httpUrl`);
    });
    return out;
  },
};

const hdinsightCluster: Extractor = {
  vector: "HDInsight script action",
  techniques: ["T1651"],
  extract(p) {
    const out: Found[] = [];
    const compute = isObj(p.computeProfile) ? p.computeProfile : {};
    const roles = Array.isArray(compute.roles) ? compute.roles : [];
    roles.forEach((r, i) => {
      const actions = isObj(r) && Array.isArray(r.scriptActions) ? r.scriptActions : [];
      actions.forEach((a, j) => {
        if (isObj(a)) push(out, "url", a.uri, `properties.computeProfile.roles[${i}].scriptActions[${j}].uri`);
      });
    });
    return out;
  },
};

const automationModule: Extractor = {
  vector: "Automation module or package",
  techniques: ["T1648"],
  extract(p) {
    const out: Found[] = [];
    const link = isObj(p.contentLink) ? p.contentLink : {};
    push(out, "url", link.uri, "properties.contentLink.uri");
    return out;
  },
};

/** Lower-cased ARM type → extractor. */
const EXTRACTORS: Record<string, Extractor> = {
  "microsoft.compute/virtualmachines/runcommands": runCommand,
  "microsoft.compute/virtualmachines/diagnosticruncommands": runCommand,
  "microsoft.compute/virtualmachinescalesets/virtualmachines/diagnosticruncommands": runCommand,
  "microsoft.compute/galleries/applications/versions": galleryApplicationVersion,
  "microsoft.avs/privateclouds/scriptexecutions": avsScriptExecution,
  "microsoft.containerregistry/registries/tasks": acrTask,
  "microsoft.containerregistry/registries/taskruns": acrTask,
  "microsoft.web/sites/sitecontainers": siteContainer,
  "microsoft.web/sites/slots/sitecontainers": siteContainer,
  "microsoft.web/sites/sourcecontrols": siteSourceControl,
  "microsoft.web/sites/slots/sourcecontrols": siteSourceControl,
  "microsoft.web/sites/functions": siteFunction,
  "microsoft.web/sites/slots/functions": siteFunction,
  "microsoft.web/sites/siteextensions": siteExtension,
  "microsoft.web/sites/slots/siteextensions": siteExtension,
  "microsoft.compute/virtualmachinescalesets": scaleSetModel,
  "microsoft.compute/virtualmachines": virtualMachine,
  "microsoft.logic/workflows": logicWorkflow,
  "microsoft.virtualmachineimages/imagetemplates": imageBuilderTemplate,
  "microsoft.batch/batchaccounts/pools": batchPool,
  "microsoft.hdinsight/clusters": hdinsightCluster,
  "microsoft.automation/automationaccounts/modules": automationModule,
  "microsoft.automation/automationaccounts/python2packages": automationModule,
  "microsoft.automation/automationaccounts/python3packages": automationModule,
  "microsoft.compute/virtualmachinescalesets/virtualmachines/runcommands": runCommand,
  "microsoft.hybridcompute/machines/runcommands": runCommand,
  "microsoft.compute/virtualmachines/extensions": extension,
  "microsoft.compute/virtualmachinescalesets/extensions": extension,
  "microsoft.compute/virtualmachinescalesets/virtualmachines/extensions": extension,
  "microsoft.hybridcompute/machines/extensions": extension,
  "microsoft.containerinstance/containergroups": containerGroup,
  "microsoft.app/containerapps": containerApp,
  "microsoft.app/jobs": containerApp,
  "microsoft.resources/deploymentscripts": deploymentScript,
  "microsoft.automation/automationaccounts/runbooks": runbook,
};

export const PAYLOAD_RESOURCE_TYPES: readonly string[] = Object.keys(EXTRACTORS);

function make(
  found: Found,
  src: {
    id: string;
    type: string;
    kind: PayloadSource["kind"];
    subscriptionId?: string;
    origin: AuditRecord["origin"];
  },
  vector: string,
  techniques: string[],
): Payload {
  const truncated = found.content.length > MAX_PAYLOAD_CHARS || found.truncated === true;
  const content = truncated ? found.content.slice(0, MAX_PAYLOAD_CHARS) : found.content;
  const id = createHash("sha256")
    .update(`${src.id.toLowerCase()}\u001f${found.path}\u001f${content}`)
    .digest("hex")
    .slice(0, 32);
  const p: Payload = {
    kind: "payload",
    id,
    source: { kind: src.kind, id: src.id },
    payloadKind: found.payloadKind,
    content,
    truncated,
    path: found.path,
    resourceId: src.id,
    resourceType: src.type,
    vector,
    vectorTechniques: techniques,
    origin: src.origin,
  };
  if (src.subscriptionId) p.subscriptionId = src.subscriptionId;
  return Object.freeze(p);
}

function fromResource(r: ArmResource): Payload[] {
  const ex = EXTRACTORS[r.typeLower];
  if (!ex) return [];
  return ex
    .extract(r.properties as Record<string, unknown>)
    .map((f) => make(f, { ...r, kind: "resource" }, ex.vector, ex.techniques));
}

function fromFunctionApp(a: FunctionApp): Payload[] {
  const out: Found[] = [];
  const pkg = a.appSettings?.WEBSITE_RUN_FROM_PACKAGE;
  if (pkg && /^https?:\/\//i.test(pkg))
    out.push({ payloadKind: "url", content: pkg, path: "appSettings.WEBSITE_RUN_FROM_PACKAGE" });
  if (a.appCommandLine)
    out.push({ payloadKind: "command", content: a.appCommandLine, path: "properties.siteConfig.appCommandLine" });
  const fx = a.linuxFxVersion;
  if (fx && /^(docker|compose)\|/i.test(fx))
    out.push({
      payloadKind: "image",
      content: fx.slice(fx.indexOf("|") + 1),
      path: "properties.siteConfig.linuxFxVersion",
    });
  const vector = a.isFunctionApp ? "Function App" : "App Service web app";
  const type = "Microsoft.Web/sites";
  return out.map((f) =>
    make(f, { id: a.id, type, kind: "functionApp", subscriptionId: a.subscriptionId, origin: a.origin }, vector, [
      "T1648",
    ]),
  );
}

function fromImage(img: ContainerImage): Payload[] {
  const c = img.config;
  const out: Found[] = [];
  if (c) {
    const cmd = [...c.entrypoint, ...c.cmd].join(" ");
    if (cmd.trim() !== "") out.push({ payloadKind: "command", content: cmd, path: "config.Entrypoint+Cmd" });
    if (c.history.length > 0)
      out.push({ payloadKind: "script", content: c.history.join("\n"), path: "history[].created_by" });
  }
  // Files from small layers (cron tables, shell start-up files, units, authorized_keys): they run
  // in the container, unlike history[].created_by, which ran on the build machine.
  for (const f of img.files ?? []) {
    if (f.content.trim() === "") continue;
    const where = f.layerIndex !== undefined ? `layers[${f.layerIndex}]` : `layer ${f.layer}`;
    out.push({ payloadKind: "script", content: f.content, path: `${where}:${f.path}`, truncated: f.truncated });
  }
  return out.map((f) =>
    make(f, { id: img.id, type: "ContainerImage", kind: "containerImage", origin: img.origin }, "Container image", [
      "T1204.003",
    ]),
  );
}

/** Payload records recovered from one record (none for most records). */
export function derivePayloads(r: AuditRecord): Payload[] {
  let found: Payload[];
  switch (r.kind) {
    case "resource":
      found = fromResource(r);
      break;
    case "functionApp":
      found = fromFunctionApp(r);
      break;
    case "containerImage":
      found = fromImage(r);
      break;
    default:
      return [];
  }
  return [...found, ...found.flatMap(decodedLayers)];
}

/** Encoded text inside a payload is decoded at most this deep (encoded inside encoded). */
const MAX_DECODE_DEPTH = 2;
/** Base64 runs shorter than this are left alone (too little to be a command). */
const MIN_B64 = 16;

// `powershell -e|-ec|-enc…|-EncodedCommand <base64>` (any dash PowerShell accepts).
const PS_ENCODED =
  /(?:^|[\s"'`;|&(])(?:-|\/|\u2013|\u2014|\u2015)e(?:c|nc(?:o(?:d(?:e(?:d(?:c(?:o(?:m(?:m(?:a(?:n(?:d)?)?)?)?)?)?)?)?)?)?)?)?\s+["']?([A-Za-z0-9+/]{16,}={0,2})/gi;
// `echo <base64> | base64 -d` and `base64 --decode <<< <base64>`.
const SHELL_B64 =
  /\b(?:echo|printf)\s+(?:-n\s+)?["']?([A-Za-z0-9+/]{16,}={0,2})["']?\s*\|\s*base64\s+(?:-d|--decode|-D)\b|\bbase64\s+(?:-d|--decode|-D)\s*<<<\s*["']?([A-Za-z0-9+/]{16,}={0,2})/g;

function printable(s: string): boolean {
  if (s.length === 0) return false;
  let bad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 9 || (c > 13 && c < 32) || c === 0xfffd) bad++;
  }
  return bad / s.length < 0.05;
}

/**
 * What an encoded command in a payload says, as payloads of their own (path "… (decoded)"), so
 * every rule reads the plain text: PowerShell -EncodedCommand is UTF-16LE base64, shell pipes
 * into `base64 -d` are UTF-8. Only printable results count; the originals stay as they were.
 */
function decodedLayers(p: Payload, depth = 0): Payload[] {
  if (depth >= MAX_DECODE_DEPTH || (p.payloadKind !== "script" && p.payloadKind !== "command")) return [];
  const out: Payload[] = [];
  const add = (text: string, how: string) => {
    if (!printable(text) || text.length < 4) return;
    const content = text.length > MAX_PAYLOAD_CHARS ? text.slice(0, MAX_PAYLOAD_CHARS) : text;
    const path = `${p.path} (decoded ${how})`;
    const id = createHash("sha256").update(`${p.id}\u001f${path}\u001f${content}`).digest("hex").slice(0, 32);
    const d: Payload = { ...p, id, payloadKind: "script", content, truncated: text.length > MAX_PAYLOAD_CHARS, path };
    out.push(Object.freeze(d), ...decodedLayers(d, depth + 1));
  };
  for (const m of p.content.matchAll(PS_ENCODED)) {
    const b64 = m[1] as string;
    if (b64.length >= MIN_B64) add(Buffer.from(b64, "base64").toString("utf16le"), "-EncodedCommand");
  }
  for (const m of p.content.matchAll(SHELL_B64)) {
    const b64 = (m[1] ?? m[2]) as string;
    if (b64.length >= MIN_B64) add(Buffer.from(b64, "base64").toString("utf8"), "base64");
  }
  return out;
}
