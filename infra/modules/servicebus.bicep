// Remediation queue: one playbook step per message, sessions keyed by resource so that two
// fixes never run on the same VM at once, dead-lettering for poison steps.
@description('Service Bus namespace name (globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the namespace.')
param tags object = {}

@description('Name of the remediation queue; the app reads it from REMEDIATION_QUEUE_NAME.')
param queueName string = 'remediation'

@description('Deliveries before a step is dead-lettered.')
@minValue(1)
param maxDeliveryCount int = 5

@description('Peek-lock duration (ISO 8601); a step must finish or renew within it.')
param lockDuration string = 'PT5M'

@description('Object id of the managed identity that sends and receives steps.')
param principalId string

var roles = {
  dataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  dataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
}

// Standard tier: sessions and scheduled messages are not available on Basic.
resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    requiresSession: true
    deadLetteringOnMessageExpiration: true
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    defaultMessageTimeToLive: 'P7D'
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
  }
}

resource receiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, principalId, roles.dataReceiver)
  scope: queue
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.dataReceiver)
    description: 'Remediation worker receives playbook steps'
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, principalId, roles.dataSender)
  scope: queue
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.dataSender)
    description: 'Triggers and the worker enqueue (and schedule) playbook steps'
  }
}

output name string = namespace.name
// Host name only (no scheme, no port), as ServiceBusConnection__fullyQualifiedNamespace wants it.
output fullyQualifiedNamespace string = replace(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':443/', '')
output queueName string = queue.name
