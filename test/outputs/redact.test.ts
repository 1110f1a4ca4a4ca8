import { describe, expect, it } from "vitest";
import { isSecretName, REDACTED, redactDeep, redactSettings, redactText } from "../../src/util/redact.js";
import { randomBase64, randomJwt, randomPem, randomToken } from "./fixtures.js";

interface Case {
  name: string;
  input: string;
  secret: string;
  /** Substrings that must survive redaction. */
  keep?: string[];
}

function cases(): Case[] {
  const sig = encodeURIComponent(randomBase64(32));
  const key = randomBase64(64);
  const pw = `Pw${randomToken(10)}`;
  const jwt = randomJwt();
  const { pem, body } = randomPem();
  const openssh = randomPem("OPENSSH");
  const bearer = randomToken(40);
  return [
    {
      name: "SAS signature in a URL",
      input: `Invoke-WebRequest "https://st.blob.core.windows.net/c/x.ps1?sv=2022-11-02&se=2030-01-01&sr=b&sp=r&sig=${sig}" -OutFile x.ps1`,
      secret: sig,
      keep: ["sv=2022-11-02", "se=2030-01-01", "sig=REDACTED", "https://st.blob.core.windows.net/c/x.ps1?"],
    },
    {
      name: "SAS signature URL-encoded inside another URL",
      input: `https://portal.example/?target=https%3A%2F%2Fst.blob.core.windows.net%2Fc%3Fsv%3D1%26sig%3D${sig}%26se%3D2`,
      secret: sig,
      keep: ["%26se%3D2"],
    },
    {
      name: "Azure Functions key in a URL",
      input: `https://func.azurewebsites.net/api/run?code=${key}&name=x`,
      secret: key,
      keep: ["&name=x"],
    },
    {
      name: "storage AccountKey in a connection string",
      input: `DefaultEndpointsProtocol=https;AccountName=st;AccountKey=${key};EndpointSuffix=core.windows.net`,
      secret: key,
      keep: ["AccountName=st;", "AccountKey=REDACTED;", "EndpointSuffix=core.windows.net"],
    },
    {
      name: "SharedAccessKey in a Service Bus connection string",
      input: `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${key}`,
      secret: key,
      keep: ["SharedAccessKeyName=RootManageSharedAccessKey"],
    },
    {
      name: "Password in a SQL connection string",
      input: `Server=tcp:sql.database.windows.net,1433;User ID=admin;Password=${pw};Encrypt=True`,
      secret: pw,
      keep: ["User ID=admin;", ";Encrypt=True"],
    },
    {
      name: "pwd in an ODBC connection string",
      input: `Driver={ODBC Driver 18};Server=db;Uid=sa;pwd=${pw};`,
      secret: pw,
      keep: ["Uid=sa;"],
    },
    {
      name: "quoted password with a semicolon",
      input: `Server=db;Password="${pw};x";Database=app`,
      secret: pw,
      keep: [";Database=app"],
    },
    {
      name: "Authorization: Bearer header",
      input: `curl -H "Authorization: Bearer ${bearer}" https://management.azure.com/`,
      secret: bearer,
      keep: ["Authorization: Bearer REDACTED"],
    },
    { name: "bare bearer token", input: `token_header=Bearer ${bearer}`, secret: bearer },
    {
      name: "JWT",
      input: `access token ${jwt} was used`,
      secret: jwt.split(".")[2] ?? jwt,
      keep: ["access token ", " was used"],
    },
    { name: "PEM private key block", input: `key:\n${pem}\nafter`, secret: body.slice(0, 40), keep: ["\nafter"] },
    { name: "OpenSSH private key block", input: openssh.pem, secret: openssh.body.slice(0, 40) },
    {
      name: "unterminated PEM private key",
      input: `x ${pem.slice(0, pem.indexOf("-----END"))}`,
      secret: body.slice(0, 40),
    },
    {
      name: "-p with sshpass",
      input: `sshpass -p '${pw}' ssh root@10.0.0.5 id`,
      secret: pw,
      keep: ["ssh root@10.0.0.5 id"],
    },
    {
      name: "-p on a login command",
      input: `az login -u bob@contoso.example -p ${pw} --tenant t`,
      secret: pw,
      keep: ["--tenant t"],
    },
    { name: "docker login -p", input: `docker login myreg.azurecr.io -u user -p ${pw}`, secret: pw },
    { name: "mysql -pSECRET", input: `mysql -uroot -p${pw} -h db appdb`, secret: pw, keep: ["-uroot", "-h db appdb"] },
    {
      name: "--password value",
      input: `az vm user update --username admin --password ${pw} -n vm1`,
      secret: pw,
      keep: ["-n vm1"],
    },
    { name: "--password=value", input: `sqlcmd --password=${pw} -S db`, secret: pw, keep: ["-S db"] },
    {
      name: "--admin-password",
      input: `az vm create -n vm1 --admin-password "${pw}" --image x`,
      secret: pw,
      keep: ["--image x"],
    },
    { name: "--account-key", input: `az storage blob upload --account-name st --account-key ${key} -f x`, secret: key },
    { name: "--sas-token", input: `azcopy copy x y --sas-token "sv=1&sig=${sig}"`, secret: sig },
    { name: "PowerShell -Password", input: `Set-Thing -Name x -Password ${pw} -Force`, secret: pw, keep: ["-Force"] },
    { name: "PowerShell -AdminPassword:", input: `New-Thing -AdminPassword:${pw}`, secret: pw },
    {
      name: "ConvertTo-SecureString literal",
      input: `$p = ConvertTo-SecureString "${pw}" -AsPlainText -Force`,
      secret: pw,
      keep: ["-AsPlainText -Force"],
    },
    {
      name: "ConvertTo-SecureString with its switches first, unquoted",
      input: `$c = ConvertTo-SecureString -AsPlainText -Force -String ${pw}`,
      secret: pw,
      keep: ["-AsPlainText -Force -String"],
    },
    {
      name: "sqlcmd -P",
      input: `sqlcmd -S tcp:db,1433 -U sa -P "${pw}" -Q "select 1"`,
      secret: pw,
      keep: ['-Q "select 1"'],
    },
    {
      name: "publishing profile userPWD (App Service)",
      input: `<publishProfile publishMethod="MSDeploy" userName="$app" userPWD="${pw}" />`,
      secret: pw,
      keep: ['userName="$app"'],
    },
    { name: "/p:", input: `sqlpackage /Action:Publish /p:${pw} /TargetUser:sa`, secret: pw, keep: ["/TargetUser:sa"] },
    { name: "/TargetPassword:", input: `sqlpackage /TargetPassword:${pw}`, secret: pw },
    {
      name: "schtasks /rp",
      input: `schtasks /create /tn t /ru admin /rp ${pw} /tr cmd.exe`,
      secret: pw,
      keep: ["/tr cmd.exe"],
    },
    { name: "PASS=x environment variable", input: `PASS=${pw} ./deploy.sh`, secret: pw, keep: ["./deploy.sh"] },
    { name: "MYSQL_ROOT_PASSWORD=x", input: `docker run -e MYSQL_ROOT_PASSWORD=${pw} mysql`, secret: pw },
    { name: "DB_PWD=x", input: `export DB_PWD='${pw}'`, secret: pw },
    {
      name: "JSON password property",
      input: `{"adminPassword": "${pw}", "user": "x"}`,
      secret: pw,
      keep: [`"user": "x"`],
    },
    { name: "escaped JSON password property", input: `"{\\"password\\":\\"${pw}\\"}"`, secret: pw },
    { name: "YAML password", input: `users:\n  - name: bob\n    password: ${pw}\n`, secret: pw, keep: ["name: bob"] },
    { name: "curl -u user:pass", input: `curl -u admin:${pw} https://x.example/`, secret: pw, keep: ["admin:"] },
    { name: "chpasswd", input: `echo 'root:${pw}' | chpasswd`, secret: pw, keep: ["root:"] },
    { name: "net user", input: `net user backdoor ${pw} /add`, secret: pw, keep: ["/add"] },
    {
      name: "basic auth in a URL",
      input: `git clone https://deploy:${pw}@dev.azure.com/org/repo`,
      secret: pw,
      keep: ["https://deploy:REDACTED@dev.azure.com/org/repo"],
    },
    // Found by the secrets end-to-end test (test/outputs/secrets-e2e.test.ts): a deployment's
    // logged request body carries template parameters one level down, under `value`.
    {
      name: "ARM template parameter (securestring) in a deployment body",
      input: `{"properties":{"parameters":{"adminPassword":{"value":"${pw}"},"location":{"value":"eastus"}}}}`,
      secret: pw,
      keep: ['"adminPassword":{"value":"REDACTED"}', '"location":{"value":"eastus"}'],
    },
    {
      name: "ARM template parameter, JSON-escaped inside a logged request body",
      input: JSON.stringify({ requestbody: JSON.stringify({ parameters: { publishingPassword: { value: pw } } }) }),
      secret: pw,
      keep: ['publishingPassword\\":{\\"value\\":\\"REDACTED'],
    },
    {
      name: "ARM template parameter with spaces (a parameters file)",
      input: `"vmAdminPassword": { "value": "${pw}" }`,
      secret: pw,
      keep: ['"vmAdminPassword": { "value": "REDACTED" }'],
    },
    {
      name: "token as URL user",
      input: `git clone https://${bearer}@github.com/org/repo`,
      secret: bearer,
      keep: ["@github.com/org/repo"],
    },
  ];
}

describe("redactText", () => {
  for (const c of cases()) {
    it(`redacts ${c.name}`, () => {
      const out = redactText(c.input);
      expect(out).not.toContain(c.secret);
      expect(out).toContain(REDACTED);
      for (const k of c.keep ?? []) expect(out).toContain(k);
    });
  }

  it("is idempotent", () => {
    for (const c of cases()) {
      const once = redactText(c.input);
      expect(redactText(once)).toBe(once);
    }
  });

  it("leaves ordinary text unchanged", () => {
    const ordinary = [
      "",
      "Run command executed on vm-web-01 by mallory@contoso.example at 2024-05-01T10:00:00Z.",
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
      "mkdir -p /opt/app && cd /opt/app && ssh -p 2222 admin@10.0.0.4 uptime",
      "docker run -u 1000:1000 --rm -v /data:/data img:1.2",
      "msbuild app.sln /p:Configuration=Release /m",
      "See https://learn.microsoft.com/azure/virtual-machines/run-command-overview?tabs=cli&view=1 for details.",
      "Get-AzAccessToken -ResourceUrl https://management.azure.com/ | Out-Null",
      "az keyvault secret show --vault-name kv-prod --name db-password-name",
      "powershell -ExecutionPolicy Bypass -File C:\\scripts\\install.ps1 -Verbose",
      "Set-Item -Path Env:KEYVAULT_NAME -Value kv-prod",
      "The monkey=3 and tokens=5 and passwordless login is enabled.",
      "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "Microsoft.Web/sites/host/listkeys/action",
      "curl -fsSL https://example.invalid/install.sh | sudo bash",
      "scp -P 2222 -u deploy build.tgz host:/srv",
      "$secure = ConvertTo-SecureString $plain -AsPlainText -Force",
    ];
    for (const s of ordinary) expect(redactText(s)).toBe(s);
  });

  it("finishes on 1 MB adversarial inputs (linear-time patterns)", () => {
    const units = [
      "a",
      "eyJ",
      "eyJaaaa.",
      "-----BEGIN ",
      "-----BEGIN RSA PRIVATE KEY-----",
      "a://a:",
      "https://u:p",
      "&sig=%",
      "?sig=a%2",
      "password=",
      "password",
      'PASSWORD="',
      '"password":"',
      '\\"password\\":\\"',
      "password: ",
      "-p ",
      "--password ",
      "-Password:",
      "/p:a",
      "-u a:",
      'ConvertTo-SecureString "',
      "net user a ",
      "Authorization: Bearer ",
      "Bearer ",
      "a_a_a_pass",
      'sshpass -p "',
      "root:a",
      "{",
      "\\",
      "%",
    ];
    const size = 1 << 20;
    for (const u of units) {
      const s = u.repeat(Math.ceil(size / u.length));
      for (const input of [s, `sshpass mysql ${s}!`]) {
        const out = redactText(input);
        expect(typeof out).toBe("string");
      }
    }
  });
});

describe("redactSettings", () => {
  it("redacts secret-named values and passes the rest through redactText", () => {
    const key = randomBase64(64);
    const sig = encodeURIComponent(randomBase64(32));
    const apiKey = randomToken(32);
    const out = redactSettings({
      MY_API_KEY: apiKey,
      DB_PASSWORD: "hunter2",
      APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=abc;IngestionEndpoint=https://x/",
      AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=st;AccountKey=${key}`,
      SAS_URL_SECRET: `https://st.blob.core.windows.net/c/pkg.zip?sv=2022-11-02&se=2030-01-01&sig=${sig}&extra=1#frag`,
      WEBSITE_RUN_FROM_PACKAGE: `https://st.blob.core.windows.net/c/pkg.zip?sv=2022-11-02&sig=${sig}`,
      STORAGE_KEY_VAULT_SECRET: "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/s/)",
      FUNCTIONS_WORKER_RUNTIME: "powershell",
      AzureWebJobsSecretStorageType: "files",
      KEY_VAULT_NAME: "kv-prod",
      EMPTY_SECRET: "",
    });
    expect(out.MY_API_KEY).toBe(REDACTED);
    expect(out.DB_PASSWORD).toBe(REDACTED);
    expect(out.APPLICATIONINSIGHTS_CONNECTION_STRING).toBe(REDACTED);
    expect(out.AzureWebJobsStorage).toBe("DefaultEndpointsProtocol=https;AccountName=st;AccountKey=REDACTED");
    expect(out.SAS_URL_SECRET).toBe(
      "https://st.blob.core.windows.net/c/pkg.zip?sv=2022-11-02&se=2030-01-01&sig=REDACTED&extra=REDACTED#REDACTED",
    );
    expect(out.WEBSITE_RUN_FROM_PACKAGE).toBe("https://st.blob.core.windows.net/c/pkg.zip?sv=2022-11-02&sig=REDACTED");
    expect(out.STORAGE_KEY_VAULT_SECRET).toBe("@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/s/)");
    expect(out.FUNCTIONS_WORKER_RUNTIME).toBe("powershell");
    expect(out.AzureWebJobsSecretStorageType).toBe("files");
    expect(out.KEY_VAULT_NAME).toBe("kv-prod");
    expect(out.EMPTY_SECRET).toBe("");
    expect(JSON.stringify(out)).not.toContain(key);
    expect(JSON.stringify(out)).not.toContain(apiKey);
  });

  it("redacts user info in a secret-named URL", () => {
    const out = redactSettings({ DEPLOY_TOKEN: "https://user:pw@host.example/path?x=1" });
    expect(out.DEPLOY_TOKEN).toBe("https://REDACTED@host.example/path?x=REDACTED");
  });

  it("classifies names", () => {
    for (const n of ["AccountKey", "clientSecret", "ADMIN_PASSWORD", "MYSQL_PWD", "accessToken", "sasUrlSecret"]) {
      expect(isSecretName(n), n).toBe(true);
    }
    for (const n of ["keyName", "KEY_VAULT_NAME", "tokenType", "keyVaultId", "location", "compass"]) {
      expect(isSecretName(n), n).toBe(false);
    }
  });
});

describe("redactDeep", () => {
  it("walks objects and arrays, settings-style, without mutating the input", () => {
    const pw = randomToken(12);
    const sig = encodeURIComponent(randomBase64(32));
    const input = {
      records: [{ kind: "activity", id: "evt-1" }],
      parameters: { adminPassword: { value: pw }, vmName: { value: "vm1" } },
      protectedSecrets: [pw, { nested: pw }],
      pin: { secret: 1234 },
      urls: [`https://st.blob.core.windows.net/c/x?sv=1&sig=${sig}`],
      count: 3,
      ok: true,
      nothing: null,
    };
    const snapshot = JSON.stringify(input);
    const out = redactDeep(input);
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(JSON.stringify(out)).not.toContain(pw);
    expect(JSON.stringify(out)).not.toContain(sig);
    expect(out).toEqual({
      records: [{ kind: "activity", id: "evt-1" }],
      parameters: { adminPassword: { value: REDACTED }, vmName: { value: "vm1" } },
      protectedSecrets: [REDACTED, { nested: REDACTED }],
      pin: { secret: REDACTED },
      urls: ["https://st.blob.core.windows.net/c/x?sv=1&sig=REDACTED"],
      count: 3,
      ok: true,
      nothing: null,
    });
  });

  it("survives cycles and deep nesting", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    expect(redactDeep(a)).toEqual({ name: "a", self: "[Circular]" });
    let deep: unknown = "leaf";
    for (let i = 0; i < 500; i++) deep = [deep];
    expect(() => JSON.stringify(redactDeep(deep))).not.toThrow();
  });
});
