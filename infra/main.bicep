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

@description('SDK that runs the bot\'s turns: agents (Microsoft 365 Agents SDK) or botbuilder (archived upstream).')
@allowed([
  'agents'
  'botbuilder'
])
param botSdk string = 'agents'

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

@description('Optional shared secret the ingestion routes require besides the function key; deployed as the ALERTS_SHARED_SECRET app setting and added to the action group\'s webhook URL. Empty for none.')
@secure()
param alertsSharedSecret string = ''

@description('Upper bound of Flex Consumption instances (the plan accepts 40 to 1000).')
@minValue(40)
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
  processingRule: 'apr-remediation-${resourceToken}'
  bot: 'bot-${resourceToken}'
}
var alertVaults = idList(alertVaultIds)
var alertVaultSubscriptions = map(alertVaults, id => split(id, '/')[2])
// One alert processing rule per subscription of the vaults: a rule's scopes must be in its own.
var alertSubscriptions = map(
  filter(range(0, length(alertVaultSubscriptions)), i => indexOf(alertVaultSubscriptions, alertVaultSubscriptions[i]) == i),
  i => alertVaultSubscriptions[i]
)
var ownWorkspaceId = '/subscriptions/${subscription().subscriptionId}/resourceGroups/${rgName}/providers/Microsoft.OperationalInsights/workspaces/${names.workspace}'
var workspaceId = empty(backupWorkspaceResourceId) ? ownWorkspaceId : backupWorkspaceResourceId

// Where each custom role is granted: the resource groups of its kind only (role-actions.json).
var groupGrants = flatten([
  map(idList(migrateResourceGroupIds), id => {
    scope: id
    kind: 'migrateGroups'
  })
  map(idList(backupVaultResourceGroupIds), id => {
    scope: id
    kind: 'vaultGroups'
  })
  map(idList(restorePointResourceGroupIds), id => {
    scope: id
    kind: 'restorePointGroups'
  })
  map(idList(vmResourceGroupIds), id => {
    scope: id
    kind: 'vmGroups'
  })
])
// The read-only role goes on the subscriptions of those groups: its lists are subscription-wide.
var grantSubscriptions = map(groupGrants, grant => split(grant.scope, '/')[2])
var grantedSubscriptions = map(
  filter(range(0, length(grantSubscriptions)), i => indexOf(grantSubscriptions, grantSubscriptions[i]) == i),
  i => grantSubscriptions[i]
)
var roleActions = loadJsonContent('role-actions.json')
var roleNames = toObject(items(roleActions.roles), role => role.key, role => guid(subscription().id, environmentName, 'remediation', role.key))

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
    principalId: identity.outputs.principalId
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
  ALERTS_SHARED_SECRET: alertsSharedSecret
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
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
    tags: tags
    serviceName: 'api'
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
    functionAppName: functionApp.outputs.name
    sharedSecret: alertsSharedSecret
    tags: tags
  }
}

module alertRouting 'modules/alert-processing-rule.bicep' = [
  for sub in alertSubscriptions: {
    name: take('alert-routing-${uniqueString(sub, environmentName)}', 64)
    scope: resourceGroup(sub, split(first(filter(alertVaults, id => split(id, '/')[2] == sub)), '/')[4])
    params: {
      name: names.processingRule
      vaultIds: filter(alertVaults, id => split(id, '/')[2] == sub)
      actionGroupId: alerting.outputs.actionGroupId
      tags: tags
    }
  }
]

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
  map(grantedSubscriptions, id => '/subscriptions/${id}')
)

// One role per kind of resource group, each with exactly the actions the code needs there.
resource remediationRoles 'Microsoft.Authorization/roleDefinitions@2022-04-01' = [
  for role in items(roleActions.roles): {
    name: roleNames[role.key]
    properties: {
      roleName: 'Remediation Bot ${role.key} (${environmentName}, ${resourceToken})'
      description: role.value.description
      type: 'customRole'
      permissions: [
        {
          actions: role.value.actions
          notActions: []
        }
      ]
      assignableScopes: roleAssignableScopes
    }
  }
]

module groupAssignments 'modules/role-assignment.bicep' = [
  for grant in groupGrants: {
    name: take('remediation-${grant.kind}-${uniqueString(grant.scope, environmentName)}', 64)
    scope: resourceGroup(split(grant.scope, '/')[2], split(grant.scope, '/')[4])
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleNames[grant.kind])
      assignmentDescription: 'Remediation bot, ${grant.kind} (${environmentName})'
    }
    dependsOn: [
      remediationRoles
    ]
  }
]

module subscriptionAssignments 'modules/subscription-role-assignment.bicep' = [
  for sub in grantedSubscriptions: {
    name: take('remediation-read-${uniqueString(sub, environmentName)}', 64)
    scope: subscription(sub)
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleNames['subscription'])
      assignmentDescription: 'Remediation bot, read-only lists of diagnose and cleanup (${environmentName})'
    }
    dependsOn: [
      remediationRoles
    ]
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
output ALERT_PROCESSING_RULE_IDS array = [for (sub, i) in alertSubscriptions: alertRouting[i].outputs.id]
output REMEDIATION_ROLE_IDS array = [for (role, i) in items(roleActions.roles): remediationRoles[i].id]
output SERVICEBUS_NAMESPACE string = serviceBus.outputs.name
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
