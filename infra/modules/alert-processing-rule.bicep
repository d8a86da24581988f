// Routes the built-in alerts of some Recovery Services vaults (Azure Backup job failures,
// Site Recovery health) to the action group. Built-in alerts have no alert rule of their own,
// so without this rule they notify nobody. A rule's scopes must be in its own subscription:
// main.bicep deploys this module once per subscription of the vaults, in a vault's group.
@description('Alert processing rule name.')
param name string

@description('Resource ids of the vaults, all in the subscription this module is deployed to.')
@minLength(1)
param vaultIds array

@description('Resource id of the action group that calls the Function.')
param actionGroupId string

@description('Tags applied to the rule.')
param tags object = {}

resource processingRule 'Microsoft.AlertsManagement/actionRules@2021-08-08' = {
  name: name
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
          actionGroupId
        ]
      }
    ]
  }
}

output id string = processingRule.id
