// Azure Bot registration whose identity is the app's user-assigned managed identity (no
// secret), with the Microsoft Teams channel enabled.
@description('Bot resource name (globally unique handle).')
param name string

@description('Name shown for the bot.')
param displayName string

@description('F0 (free, standard channels) or S1 (paid, premium channels).')
@allowed([
  'F0'
  'S1'
])
param sku string = 'F0'

@description('Client id of the user-assigned managed identity; also the Teams manifest botId.')
param identityClientId string

@description('Resource id of the user-assigned managed identity.')
param identityResourceId string

@description('Entra tenant of the identity.')
param tenantId string

@description('Host name of the Function App that serves /api/messages.')
param functionHostName string

@description('Tags applied to the bot.')
param tags object = {}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: name
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: {
    name: sku
  }
  properties: {
    displayName: displayName
    endpoint: 'https://${functionHostName}/api/messages'
    msaAppId: identityClientId
    msaAppType: 'UserAssignedMSI'
    msaAppTenantId: tenantId
    msaAppMSIResourceId: identityResourceId
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
      deploymentEnvironment: 'CommercialDeployment'
    }
  }
}

output name string = bot.name
output appId string = identityClientId
