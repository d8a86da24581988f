// Grants one role to one principal on the resource group this module is deployed to, so that
// main.bicep can grant the narrowest scopes by deploying it once per resource group id.
@description('Object id of the principal (the managed identity) that receives the role.')
param principalId string

@description('Full resource id of the role definition (built-in or custom).')
param roleDefinitionId string

@description('Why the assignment exists; shown in the portal.')
param assignmentDescription string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleDefinitionId)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: roleDefinitionId
    description: assignmentDescription
  }
}

output id string = assignment.id
