// Lets the identity query the workspace that receives Azure Backup and Site Recovery
// diagnostics (AddonAzureBackupJobs, ASRJobs, ASRReplicatedItems). Deployed in that
// workspace's resource group, which may be outside the app's resource group.
@description('Name of the Log Analytics workspace, in the resource group this module targets.')
param workspaceName string

@description('Object id of the managed identity that runs the queries.')
param principalId string

var logAnalyticsReader = '73c42c96-874c-492b-b04d-ab87d138a893'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, logAnalyticsReader)
  scope: workspace
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReader)
    description: 'Why did VM X fail: queries on Backup and ASR tables'
  }
}

// azure-monitor-query addresses a workspace by its customer id (a GUID), not its ARM id.
output customerId string = workspace.properties.customerId
