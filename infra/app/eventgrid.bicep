// The custom topic aksvend publishes its lifecycle CloudEvents to (aksvend.operation.*, aksvend.cluster.*, ...).
// Entra-only: local (key) auth is off; the app's identity holds EventGrid Data Sender on it (rbac.bicep). Public
// network access off (only its private endpoint) unless `devAllowedIpRanges` lists a developer's addresses; failed
// publishes and deliveries are logged to Log Analytics.
param name string
param location string = resourceGroup().location
param tags object = {}
param workspaceId string
param endpointSubnetId string
param privateDnsZoneId string
@description('Development only: public IPv4 addresses or ranges allowed in; empty (the default): public network access is off.')
param devAllowedIpRanges array = []

var publicAccess = !empty(devAllowedIpRanges)
var publicNetworkAccess = publicAccess ? 'Enabled' : 'Disabled'

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned' // for deliveries with a managed identity; holds no role unless a subscriber grants one
  }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    minimumTlsVersionAllowed: '1.2'
    publicNetworkAccess: publicNetworkAccess
    inboundIpRules: [for range in devAllowedIpRanges: {
      ipMask: range
      action: 'Allow'
    }]
  }
  //checkov:skip=CKV_AZURE_193: publicNetworkAccess is 'Disabled' unless devAllowedIpRanges is set (development only); checkov cannot evaluate the expression, tests/unit/test_infra.py does
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: topic
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'DeliveryFailures'
        enabled: true
      }
      {
        category: 'PublishFailures'
        enabled: true
      }
      {
        category: 'DataPlaneRequests'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

module endpoint 'private-endpoint.bicep' = {
  name: 'pe-${name}'
  params: {
    name: 'pe-${name}'
    location: location
    tags: tags
    subnetId: endpointSubnetId
    resourceId: topic.id
    groupId: 'topic'
    privateDnsZoneId: privateDnsZoneId
  }
}

output name string = topic.name
output id string = topic.id
output endpoint string = topic.properties.endpoint
