// Functions host storage and aksvend's state: queues, tables, the deployment package container. Entra ID only
// (shared keys off), HTTPS and TLS 1.2 only, no public blob access, reachable only through its private endpoints
// (unless `devAllowedIpRanges` lists a developer's addresses), and every read, write and delete of the blob, queue
// and table services logged to Log Analytics.
param name string
param location string = resourceGroup().location
param tags object = {}
param deploymentContainerName string
param queueNames array
param tableNames array
param workspaceId string
param endpointSubnetId string
@description('Private DNS zone ids by group: blob, queue, table (network.bicep zoneIds).')
param zoneIds object
@description('Development only: public IPv4 addresses or ranges allowed in through the firewall; empty (the default): public network access is off.')
param devAllowedIpRanges array = []

var publicAccess = !empty(devAllowedIpRanges)
var publicNetworkAccess = publicAccess ? 'Enabled' : 'Disabled'
var services = [
  'blob'
  'queue'
  'table'
]
// Resource logs of each data service: every read, write and delete (docs/deploy.md, "Sources").
var dataPlaneLogs = [
  {
    category: 'StorageRead'
    enabled: true
  }
  {
    category: 'StorageWrite'
    enabled: true
  }
  {
    category: 'StorageDelete'
    enabled: true
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
      ipRules: [for range in devAllowedIpRanges: {
        value: range
        action: 'Allow'
      }]
    }
  }
  //checkov:skip=CKV_AZURE_206: zone-redundant (ZRS) is the choice; geo-replication is not needed to rebuild aksvend's queues and tables elsewhere (docs/deploy.md)
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for tableName in tableNames: {
  parent: tableService
  name: tableName
}]

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: workspaceId
    logs: dataPlaneLogs
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: workspaceId
    logs: dataPlaneLogs
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: workspaceId
    logs: dataPlaneLogs
  }
}

// The account itself has metrics only (its logs are the services' above).
resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: workspaceId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

module endpoints 'private-endpoint.bicep' = [for service in services: {
  name: 'pe-${name}-${service}'
  params: {
    name: 'pe-${name}-${service}'
    location: location
    tags: tags
    subnetId: endpointSubnetId
    resourceId: storage.id
    groupId: service
    privateDnsZoneId: zoneIds[service]
  }
}]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
