/**
 * The one catalogue of control-plane operations that run code or plant code to run, by
 * category. Everything that asks "does this execute?" reads it: grants (which roles can execute)
 * derive from it, and rules reference it as the placeholder `%execution_operations%` (filled by
 * the Azure processing pipeline), so a new vector added here reaches every rule and chain at once.
 * Operation names are the Activity Log's (detections/vectors.yml cites each vector's source).
 */

export type ExecutionCategory =
  | "compute"
  | "containers"
  | "serverless"
  | "automation"
  | "deployment"
  | "registry"
  | "data-and-ml";

export interface ExecutionOperation {
  /** As Azure writes it (compare lower-cased). */
  operation: string;
  category: ExecutionCategory;
  /**
   * Whether holding the permission makes a role execution-capable. False for deployments: a
   * deployment runs with the caller's own rights on what it deploys, and many reader-like roles
   * hold Microsoft.Resources/deployments/*; performing one is still execution (it can plant any
   * of the others), so rules and chains count it.
   */
  grants: boolean;
}

const op = (operation: string, category: ExecutionCategory, grants = true): ExecutionOperation => ({
  operation,
  category,
  grants,
});

export const EXECUTION_CATALOGUE: readonly ExecutionOperation[] = [
  op("Microsoft.Compute/virtualMachines/runCommand/action", "compute"),
  op("Microsoft.Compute/virtualMachines/runCommands/write", "compute"),
  op("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action", "compute"),
  op("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/write", "compute"),
  op("Microsoft.Compute/virtualMachines/extensions/write", "compute"),
  op("Microsoft.Compute/virtualMachineScaleSets/extensions/write", "compute"),
  op("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/extensions/write", "compute"),
  // userData / customData / OS profile scripts.
  op("Microsoft.Compute/virtualMachines/write", "compute"),
  op("Microsoft.Compute/galleries/applications/versions/write", "compute"),
  op("Microsoft.Compute/virtualMachines/diagnosticRunCommand/action", "compute"),
  op("Microsoft.Compute/virtualMachines/diagnosticRunCommands/write", "compute"),
  op("Microsoft.SerialConsole/serialPorts/connect/action", "compute"),
  op("Microsoft.HybridCompute/machines/runCommands/write", "compute"),
  op("Microsoft.HybridCompute/machines/extensions/write", "compute"),
  op("Microsoft.AVS/privateClouds/scriptExecutions/write", "compute"),
  op("Microsoft.DevTestLab/labs/virtualMachines/ApplyArtifacts/action", "compute"),
  op("Microsoft.VirtualMachineImages/imageTemplates/run/action", "compute"),
  op("Microsoft.ContainerService/managedClusters/runCommand/action", "containers"),
  op("Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action", "containers"),
  op("Microsoft.ContainerInstance/containerGroups/write", "containers"),
  op("Microsoft.ContainerInstance/containerGroups/containers/exec/action", "containers"),
  op("Microsoft.App/containerApps/write", "containers"),
  op("Microsoft.App/jobs/write", "containers"),
  op("Microsoft.App/jobs/start/action", "containers"),
  op("Microsoft.ContainerRegistry/registries/importImage/action", "registry"),
  op("Microsoft.ContainerRegistry/registries/scheduleRun/action", "registry"),
  op("Microsoft.ContainerRegistry/registries/tasks/write", "registry"),
  op("Microsoft.Web/sites/write", "serverless"),
  op("Microsoft.Web/sites/config/write", "serverless"),
  op("Microsoft.Web/sites/functions/write", "serverless"),
  op("Microsoft.Web/sites/extensions/write", "serverless"),
  op("Microsoft.Web/sites/sourcecontrols/write", "serverless"),
  op("Microsoft.Web/sites/publishxml/action", "serverless"),
  op("Microsoft.Web/sites/host/listkeys/action", "serverless"),
  op("Microsoft.Web/sites/sitecontainers/write", "serverless"),
  op("Microsoft.Logic/workflows/write", "serverless"),
  op("Microsoft.Logic/workflows/triggers/run/action", "serverless"),
  op("Microsoft.Automation/automationAccounts/runbooks/write", "automation"),
  op("Microsoft.Automation/automationAccounts/runbooks/draft/write", "automation"),
  op("Microsoft.Automation/automationAccounts/jobs/write", "automation"),
  op("Microsoft.Automation/automationAccounts/webhooks/write", "automation"),
  op("Microsoft.Automation/automationAccounts/hybridRunbookWorkerGroups/write", "automation"),
  op("Microsoft.Resources/deploymentScripts/write", "deployment"),
  op("Microsoft.Resources/deployments/write", "deployment", false),
  op("Microsoft.Batch/batchAccounts/pools/write", "data-and-ml"),
  op("Microsoft.DataFactory/factories/pipelines/createRun/action", "data-and-ml"),
  op("Microsoft.HDInsight/clusters/executeScriptActions/action", "data-and-ml"),
  op("Microsoft.MachineLearningServices/workspaces/jobs/write", "data-and-ml"),
];

/** Lower-cased operations whose permission makes a role execution-capable (grants). */
export const GRANTING_OPERATIONS: readonly string[] = EXECUTION_CATALOGUE.filter((o) => o.grants).map((o) =>
  o.operation.toLowerCase(),
);

/** Value lists rules can reference as `%name%` (with the `expand` modifier). */
export const PLACEHOLDER_LISTS: Readonly<Record<string, readonly string[]>> = {
  execution_operations: EXECUTION_CATALOGUE.map((o) => o.operation),
};
