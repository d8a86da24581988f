// Everything the remediation bot needs in Azure, deployed by `azd up` at subscription scope:
// the app's resource group and resources, the custom role (a subscription-level resource) and
// its assignments on the customer's resource groups.
targetScope = 'subscription'

// ---------------------------------------------------------------- parameters

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of the app resources; must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group of the app; empty gives rg-<environmentName>.')
param resourceGroupName string = ''

@description('Azure Bot pricing tier: F0 (free) or S1.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('SDK that runs the bot\'s turns: botbuilder (archived upstream) or agents (Microsoft 365 Agents SDK).')
@allowed([
  'botbuilder'
  'agents'
])
param botSdk string = 'botbuilder'

@description('Name users see for the bot in the Azure portal.')
param botDisplayName string = 'Remediation Bot'

@description('Comma-separated Recovery Services vault ids the poller reads (Azure Migrate replication vaults).')
param pollVaultIds string = ''

@description('Comma-separated Recovery Services vault ids whose built-in Azure Backup / Site Recovery alerts go to the Function; empty deploys no alert processing rule.')
param alertVaultIds string = ''

@description('Comma-separated resource group ids holding the Azure Migrate project and its replication vault.')
param migrateResourceGroupIds string = ''

@description('Comma-separated resource group ids holding the Azure Backup Recovery Services vaults.')
param backupVaultResourceGroupIds string = ''

@description('Comma-separated ids of the AzureBackupRG_<region>_<n> resource groups (restore point collections); they must already exist.')
param restorePointResourceGroupIds string = ''

@description('Comma-separated resource group ids holding the protected and replicated VMs.')
param vmResourceGroupIds string = ''

@description('Comma-separated resource group ids (networking, private DNS, key vaults) that diagnose only reads; they get the built-in Reader role.')
param readerResourceGroupIds string = ''

@description('Resource id of the Log Analytics workspace that receives Backup / Site Recovery diagnostics; empty uses the workspace deployed here.')
param backupWorkspaceResourceId string = ''

@description('Prefix of the store\'s table names (letters and digits only).')
param storeTablePrefix string = 'remediation'

@description('NCRONTAB schedule of the replication health poller.')
param pollerSchedule string = '0 */5 * * * *'

@description('Path of the remediation policy file inside the deployed package.')
param policyFile string = 'policy.yaml'

@description('Comma-separated Entra object ids allowed to approve fixes.')
param approverObjectIds string = ''

@description('Entra group object id whose members may approve fixes; empty for none.')
param approverGroupId string = ''

@description('Microsoft Graph endpoint asked for approver group membership (another cloud: its Graph).')
param graphEndpoint string = 'https://graph.microsoft.com'

@description('Start in dry-run: plan and report fixes without writing to Azure.')
param dryRun bool = true

@description('Global kill switch: no fix starts while true.')
param automationPaused bool = false

@description('Function key for the /api/alerts route when it uses function-level auth (set after the first deploy); empty for none.')
@secure()
param alertsFunctionKey string = ''

@description('Upper bound of Flex Consumption instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

// ---------------------------------------------------------------- names

func idList(csv string) array => filter(map(split(csv, ','), id => trim(id)), id => !empty(id))

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var rgName = empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
var names = {
  identity: 'id-${resourceToken}'
  storage: 'st${resourceToken}'
  deploymentContainer: 'deployment-package'
  serviceBus: 'sb-${resourceToken}'
  workspace: 'log-${resourceToken}'
  appInsights: 'appi-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-${resourceToken}'
  actionGroup: 'ag-remediation-${resourceToken}'
  processingRule: 'apr-backup-alerts-${resourceToken}'
  bot: 'bot-${resourceToken}'
}
var ownWorkspaceId = '/subscriptions/${subscription().subscriptionId}/resourceGroups/${rgName}/providers/Microsoft.OperationalInsights/workspaces/${names.workspace}'
var workspaceId = empty(backupWorkspaceResourceId) ? ownWorkspaceId : backupWorkspaceResourceId

// Where the custom role is granted: only the resource groups the playbooks act on.
var remediationScopes = union(
  idList(migrateResourceGroupIds),
  idList(backupVaultResourceGroupIds),
  idList(restorePointResourceGroupIds),
  idList(vmResourceGroupIds)
)
var readerScopes = idList(readerResourceGroupIds)
var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
var roleActions = loadJsonContent('role-actions.json')

// ---------------------------------------------------------------- app resources

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: rgName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    deploymentContainerName: names.deploymentContainer
    principalId: identity.outputs.principalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    queueName: 'remediation'
    principalId: identity.outputs.principalId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    tags: tags
  }
}

module workspaceReader 'modules/workspace-reader.bicep' = {
  name: 'workspace-reader'
  scope: resourceGroup(split(workspaceId, '/')[2], split(workspaceId, '/')[4])
  params: {
    workspaceName: last(split(workspaceId, '/'))
    principalId: identity.outputs.principalId
  }
  dependsOn: [
    monitoring
  ]
}

// The one list of app settings; tests/infra/bicep_settings.py reads it from here.
var functionAppSettings = {
  STORE_KIND: 'tables'
  STORE_TABLES_ENDPOINT: storage.outputs.tableEndpoint
  STORE_TABLE_PREFIX: storeTablePrefix
  QUEUE_KIND: 'servicebus'
  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identity.outputs.clientId
  REMEDIATION_QUEUE_NAME: serviceBus.outputs.queueName
  AZURE_CLIENT_ID: identity.outputs.clientId
  AZURE_TENANT_ID: tenant().tenantId
  POLLER_SCHEDULE: pollerSchedule
  POLL_VAULT_IDS: join(idList(pollVaultIds), ',')
  LOG_ANALYTICS_WORKSPACE_ID: workspaceReader.outputs.customerId
  BOT_APP_ID: identity.outputs.clientId
  BOT_APP_TYPE: 'UserAssignedMSI'
  BOT_TENANT_ID: tenant().tenantId
  BOT_SDK: botSdk
  POLICY_FILE: policyFile
  APPROVER_OBJECT_IDS: join(idList(approverObjectIds), ',')
  APPROVER_GROUP_ID: approverGroupId
  GRAPH_ENDPOINT: graphEndpoint
  DRY_RUN: dryRun ? 'true' : 'false'
  AUTOMATION_PAUSED: automationPaused ? 'true' : 'false'
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.appInsightsConnectionString
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: union(tags, {
      'azd-service-name': 'api'
    })
    identityId: identity.outputs.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appSettings: functionAppSettings
    maximumInstanceCount: maximumInstanceCount
  }
}

module alerting 'modules/alerting.bicep' = {
  name: 'alerting'
  scope: rg
  params: {
    actionGroupName: names.actionGroup
    actionGroupShortName: 'remediate'
    processingRuleName: names.processingRule
    functionHostName: functionApp.outputs.defaultHostName
    alertsFunctionKey: alertsFunctionKey
    vaultIds: idList(alertVaultIds)
    tags: tags
  }
}

module bot 'modules/bot.bicep' = {
  name: 'bot'
  scope: rg
  params: {
    name: names.bot
    displayName: botDisplayName
    sku: botSku
    identityClientId: identity.outputs.clientId
    identityResourceId: identity.outputs.id
    tenantId: tenant().tenantId
    functionHostName: functionApp.outputs.defaultHostName
    tags: tags
  }
}

// ---------------------------------------------------------------- least privilege on the estate

// Assignable in this subscription and in every subscription a granted resource group lives in.
var roleAssignableScopes = union(
  [
    subscription().id
  ],
  map(union(remediationScopes, readerScopes), id => '/subscriptions/${split(id, '/')[2]}')
)

resource remediationRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, environmentName, 'remediation-operator')
  properties: {
    roleName: 'Remediation Bot Operator (${environmentName}, ${resourceToken})'
    description: 'Exactly the reads and fixes of the remediation playbooks (infra/role-actions.json).'
    type: 'customRole'
    permissions: [
      {
        actions: roleActions.actions
        notActions: roleActions.notActions
      }
    ]
    assignableScopes: roleAssignableScopes
  }
}

module remediationAssignments 'modules/role-assignment.bicep' = [
  for rgId in remediationScopes: {
    name: take('remediation-role-${uniqueString(rgId, environmentName)}', 64)
    scope: resourceGroup(split(rgId, '/')[2], split(rgId, '/')[4])
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionId: remediationRole.id
      assignmentDescription: 'Remediation bot playbooks (${environmentName})'
    }
  }
]

module readerAssignments 'modules/role-assignment.bicep' = [
  for rgId in readerScopes: {
    name: take('reader-role-${uniqueString(rgId, environmentName)}', 64)
    scope: resourceGroup(split(rgId, '/')[2], split(rgId, '/')[4])
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId)
      assignmentDescription: 'Remediation bot read-only diagnose checks (${environmentName})'
    }
  }
]

// ---------------------------------------------------------------- outputs (azd stores them in .azure/<env>/.env)

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CLIENT_ID string = identity.outputs.clientId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = 'https://${functionApp.outputs.defaultHostName}'
output BOT_ID string = bot.outputs.appId
output BOT_RESOURCE_NAME string = bot.outputs.name
output ACTION_GROUP_ID string = alerting.outputs.actionGroupId
output ALERT_PROCESSING_RULE_NAME string = alerting.outputs.processingRuleName
output REMEDIATION_ROLE_ID string = remediationRole.id
output SERVICEBUS_NAMESPACE string = serviceBus.outputs.name
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
