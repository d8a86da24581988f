// Azure Monitor -> Function: an action group whose common-schema webhook calls /api/alerts
// with the Function App's key. The key is read here, at deployment (listKeys on the host's
// keys), so the first `azd up` wires alert authentication with no second provision and no
// key copied by hand; a key rotated in the portal is picked up by the next provision.
// The alert processing rules that route the vaults' built-in alerts to this action group
// are in alert-processing-rule.bicep, one per subscription of the vaults.
@description('Action group name.')
param actionGroupName string

@description('Display name shown in notifications (at most 12 characters).')
@maxLength(12)
param actionGroupShortName string

@description('Name of the Function App (in this resource group) that serves /api/alerts.')
param functionAppName string

@description('Optional shared secret added to the webhook URL as ?secret= (the app setting ALERTS_SHARED_SECRET holds the same); empty for none.')
@secure()
param sharedSecret string = ''

@description('Tags applied to the action group.')
param tags object = {}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// Anyone who can read the action group can read this URL: grant Monitoring Reader sparingly.
var secretQuery = empty(sharedSecret) ? '' : '&secret=${uriComponent(sharedSecret)}'
var webhookUrl = 'https://${site.properties.defaultHostName}/api/alerts?code=${listKeys('${site.id}/host/default', site.apiVersion).functionKeys.default}${secretQuery}'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: actionGroupShortName
    enabled: true
    webhookReceivers: [
      {
        name: 'remediation-function'
        serviceUri: webhookUrl
        useCommonAlertSchema: true
        useAadAuth: false
      }
    ]
  }
}

output actionGroupId string = actionGroup.id
