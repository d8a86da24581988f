// Azure Monitor -> Function: an action group with a common-schema webhook to /api/alerts, and
// an alert processing rule that routes the built-in alerts of the chosen Recovery Services
// vaults (Azure Backup job failures, Site Recovery health) to it. Built-in alerts have no
// alert rule of their own, so without this rule they notify nobody.
@description('Action group name.')
param actionGroupName string

@description('Display name shown in notifications (at most 12 characters).')
@maxLength(12)
param actionGroupShortName string

@description('Alert processing rule name.')
param processingRuleName string

@description('Host name of the Function App.')
param functionHostName string

@description('Function key appended as ?code= when the alerts route uses function-level auth; empty for none.')
@secure()
param alertsFunctionKey string = ''

@description('Resource ids of the Recovery Services vaults whose built-in alerts are routed; empty deploys no rule.')
param vaultIds array

@description('Tags applied to both resources.')
param tags object = {}

var webhookUrl = empty(alertsFunctionKey) ? 'https://${functionHostName}/api/alerts' : 'https://${functionHostName}/api/alerts?code=${alertsFunctionKey}'

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

resource processingRule 'Microsoft.AlertsManagement/actionRules@2021-08-08' = if (!empty(vaultIds)) {
  name: processingRuleName
  location: 'Global'
  tags: tags
  properties: {
    description: 'Send Azure Backup and Site Recovery built-in alerts of the listed vaults to the remediation Function.'
    enabled: true
    scopes: vaultIds
    conditions: [
      {
        field: 'TargetResourceType'
        operator: 'Equals'
        values: [
          'microsoft.recoveryservices/vaults'
        ]
      }
      {
        field: 'MonitorService'
        operator: 'Equals'
        values: [
          'Azure Backup'
          'Azure Site Recovery'
        ]
      }
    ]
    actions: [
      {
        actionType: 'AddActionGroups'
        actionGroupIds: [
          actionGroup.id
        ]
      }
    ]
  }
}

output actionGroupId string = actionGroup.id
output processingRuleName string = empty(vaultIds) ? '' : processingRule.name
