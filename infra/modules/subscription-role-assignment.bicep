// Grants one role to one principal on the subscription this module is deployed to: the
// read-only role whose list calls are subscription-wide (see infra/role-actions.json).
targetScope = 'subscription'

@description('Object id of the principal (the managed identity) that receives the role.')
param principalId string

@description('Full resource id of the role definition.')
param roleDefinitionId string

@description('Why the assignment exists; shown in the portal.')
param assignmentDescription string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleDefinitionId)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: roleDefinitionId
    description: assignmentDescription
  }
}

output id string = assignment.id
