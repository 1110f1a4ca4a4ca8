/**
 * A static check of ARM JSON templates (no Bicep compiler or Azure here): parameters and variables
 * referenced exist, resource types and apiVersions are real ones (API_VERSIONS, each with the
 * azure-rest-api-specs file that defines it), dependsOn targets are resources of the template,
 * outputs resolve (what they reference exists, a nested deployment's output is one it declares).
 * Nested deployments with `expressionEvaluationOptions.scope: inner` are checked as templates of
 * their own.
 */

/** Resource type → apiVersion → the Azure/azure-rest-api-specs file that defines it. */
export const API_VERSIONS: Record<string, Record<string, string>> = {
  "Microsoft.OperationalInsights/workspaces/tables": {
    "2022-10-01":
      "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/stable/2022-10-01/Tables.json",
  },
  "Microsoft.Insights/dataCollectionRules": {
    "2023-03-11":
      "specification/monitor/resource-manager/Microsoft.Insights/stable/2023-03-11/dataCollectionRules_API.json",
  },
  "Microsoft.Authorization/roleAssignments": {
    "2022-04-01":
      "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json",
  },
  "Microsoft.Authorization/roleDefinitions": {
    "2022-04-01":
      "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleDefinitionsCalls.json",
  },
  "Microsoft.ManagedIdentity/userAssignedIdentities": {
    "2023-01-31": "specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/ManagedIdentity.json",
  },
  "Microsoft.Resources/deployments": {
    "2024-03-01": "specification/resources/resource-manager/Microsoft.Resources/stable/2024-03-01/resources.json",
  },
  "Microsoft.SecurityInsights/alertRules": {
    "2025-07-01-preview":
      "specification/securityinsights/resource-manager/Microsoft.SecurityInsights/preview/2025-07-01-preview/AlertRules.json",
  },
  "Microsoft.App/jobs": {
    "2025-07-01": "specification/app/resource-manager/Microsoft.App/ContainerApps/stable/2025-07-01/Jobs.json",
  },
};

type Json = Record<string, unknown>;

interface Resource {
  type: string;
  name: string;
  raw: Json;
}

/** Every template expression (strings `[...]`, not the escaped `[[...`) in a value, keys included. */
function expressions(v: unknown, skip?: (o: Json, k: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (x: unknown) => {
    if (typeof x === "string") {
      if (x.startsWith("[") && !x.startsWith("[[") && x.endsWith("]")) out.push(x);
    } else if (Array.isArray(x)) for (const y of x) visit(y);
    else if (x && typeof x === "object") {
      for (const [k, y] of Object.entries(x as Json)) {
        if (skip?.(x as Json, k)) continue;
        visit(k);
        visit(y);
      }
    }
  };
  visit(v);
  return out;
}

const calls = (expr: string, fn: string): string[] =>
  [...expr.matchAll(new RegExp(`(?<![A-Za-z])${fn}\\('([^']*)'\\)`, "g"))].map((m) => m[1] as string);

/** `resourceId(...)` / `subscriptionResourceId(...)` calls: the type (first quoted arg with a slash) and all args. */
function resourceIdCalls(expr: string): { fn: string; type: string; args: string[]; text: string }[] {
  const out: { fn: string; type: string; args: string[]; text: string }[] = [];
  const re = /(?<![A-Za-z])(resourceId|subscriptionResourceId|extensionResourceId)\(/g;
  for (let m = re.exec(expr); m; m = re.exec(expr)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    const args: string[] = [];
    let argStart = i;
    let inStr = false;
    for (; i < expr.length && depth > 0; i++) {
      const c = expr[i];
      if (c === "'") inStr = !inStr;
      else if (!inStr && c === "(") depth++;
      else if (!inStr && c === ")") depth--;
      else if (!inStr && c === "," && depth === 1) {
        args.push(expr.slice(argStart, i).trim());
        argStart = i + 1;
      }
    }
    args.push(expr.slice(argStart, i - 1).trim());
    const type = args.find((a) => /^'[^']*\/[^']*'$/.test(a));
    if (type) out.push({ fn: m[1] as string, type: type.slice(1, -1), args, text: expr.slice(m.index, i) });
    void start;
  }
  return out;
}

export function checkTemplate(t: Json, where = "template"): string[] {
  const problems: string[] = [];
  const say = (p: string) => problems.push(`${where}: ${p}`);
  if (typeof t.$schema !== "string" || !/(subscription)?[dD]eploymentTemplate\.json#$/.test(t.$schema))
    say("no deployment template $schema");
  if (typeof t.contentVersion !== "string") say("no contentVersion");
  const params = (t.parameters ?? {}) as Json;
  const vars = (t.variables ?? {}) as Json;
  const resources = (Array.isArray(t.resources) ? t.resources : []) as Json[];
  if (resources.length === 0) say("no resources");
  const res: Resource[] = resources.map((r) => ({ type: String(r.type), name: String(r.name), raw: r }));
  const isInner = (r: Json) =>
    r.type === "Microsoft.Resources/deployments" &&
    ((r.properties as Json | undefined)?.expressionEvaluationOptions as Json | undefined)?.scope === "inner";
  // Nested inner templates have their own parameters: not this template's references.
  const skipInner = (o: Json, k: string) => k === "template" && o.expressionEvaluationOptions !== undefined;
  const all = [...expressions(vars), ...expressions(resources, skipInner), ...expressions(t.outputs ?? {})];
  for (const e of all) {
    for (const p of calls(e, "parameters")) if (!(p in params)) say(`parameters('${p}') is not declared (${e})`);
    for (const v of calls(e, "variables")) if (!(v in vars)) say(`variables('${v}') is not declared (${e})`);
  }
  for (const [name, p] of Object.entries(params)) {
    if (!p || typeof (p as Json).type !== "string") say(`parameter ${name} has no type`);
  }
  for (const r of res) {
    const known = API_VERSIONS[r.type];
    if (!known) say(`resource type ${r.type} is not in the list of known types`);
    else if (!known[String(r.raw.apiVersion)])
      say(`${r.type} apiVersion ${String(r.raw.apiVersion)} is not a known one`);
    if (isInner(r.raw)) {
      const inner = (r.raw.properties as Json).template as Json;
      problems.push(...checkTemplate(inner, `${where} → ${r.name}`));
      const innerParams = (inner.parameters ?? {}) as Json;
      const given = ((r.raw.properties as Json).parameters ?? {}) as Json;
      for (const p of Object.keys(given))
        if (!(p in innerParams)) say(`nested ${r.name} passes undeclared parameter ${p}`);
      for (const [p, d] of Object.entries(innerParams)) {
        if (!(p in given) && (d as Json).defaultValue === undefined) say(`nested ${r.name} does not pass ${p}`);
      }
    }
  }
  // A resourceId(...) names a resource of this template when the type is one and every name part
  // (the arguments after the type) appears in that resource's name expression.
  const target = (call: { type: string; args: string[] }): Resource | undefined => {
    const nameArgs = call.args.slice(call.args.indexOf(`'${call.type}'`) + 1);
    return res.find(
      (r) =>
        r.type === call.type &&
        nameArgs.every((a) => (a.startsWith("'") ? r.name.includes(a.slice(1, -1)) : r.name.includes(a))),
    );
  };
  for (const r of res) {
    for (const d of (r.raw.dependsOn ?? []) as string[]) {
      const ids = resourceIdCalls(d);
      if (ids.length === 0) {
        if (!res.some((x) => x.name === d)) say(`${r.type} ${r.name} depends on ${d}, which is not in the template`);
        continue;
      }
      for (const id of ids)
        if (!target(id)) say(`${r.type} ${r.name} depends on ${id.text}, which is not in the template`);
    }
  }
  // reference(resourceId(...)) anywhere (outputs, properties): the resource is in the template,
  // and `.outputs.x.value` of a nested deployment is an output it declares.
  const references = (what: string, value: unknown) => {
    for (const e of expressions(value, skipInner)) {
      for (const m of e.matchAll(/reference\((resourceId\((?:[^()]|\([^()]*\))*\))[^)]*\)((?:\.[A-Za-z_]+)*)/g)) {
        const [id] = resourceIdCalls(m[1] as string);
        const hit = id && target(id);
        if (!hit) {
          say(`${what} references ${m[1]}, which is not in the template`);
          continue;
        }
        const path = (m[2] ?? "").split(".").filter(Boolean);
        if (hit.type === "Microsoft.Resources/deployments" && path[0] === "outputs") {
          const innerOut = (((hit.raw.properties as Json).template as Json).outputs ?? {}) as Json;
          if (!(String(path[1]) in innerOut))
            say(`${what} reads ${hit.name}.outputs.${path[1]}, which it does not declare`);
        }
      }
    }
  };
  for (const r of res) references(`${r.type} ${r.name}`, r.raw);
  const outputs = (t.outputs ?? {}) as Json;
  for (const [name, o] of Object.entries(outputs)) {
    const out = o as Json;
    if (typeof out.type !== "string") say(`output ${name} has no type`);
    if (out.value === undefined) say(`output ${name} has no value`);
    else references(`output ${name}`, out.value);
  }
  return problems;
}
