// aksvend: the service itself, deployed with `azd up`. See docs/deploy.md.
// Subscription scope because it creates its resource group and assigns roles on the target scopes
// (other subscriptions or resource groups) through modules scoped there.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to derive a short unique token for resource names.')
param environmentName string

@minLength(1)
@description('Region of the function app and its resources (must offer Flex Consumption).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Optional: name of the resource group to create; defaults to rg-<environmentName>.')
param resourceGroupName string = ''

@description('Development only: object id of a user given storage data access for debugging. Empty (the default): no one. azd\'s AZURE_PRINCIPAL_ID (whoever deploys) is deliberately not passed here.')
param devDataPrincipalId string = ''

@description('Development only: public IPv4 addresses or CIDR ranges let through the firewalls of storage, the Key Vaults and the topic. Empty (the default): their public network access is off, and only their private endpoints reach them.')
param devAllowedIpRanges array = []

@description('Days Log Analytics keeps the resource logs, the Key Vault audit events and the telemetry. Application Insights takes the same value, and accepts only these (docs/deploy.md, "Sources").')
@allowed([30, 60, 90, 120, 180, 270, 365, 550, 730])
param logRetentionDays int = 90

@description('Address space of the home VNet (the function app\'s integration subnet and the private endpoints).')
param vnetAddressPrefix string = '10.60.0.0/24'
@description('The function app\'s integration subnet (delegated to Microsoft.App/environments), inside vnetAddressPrefix.')
param appSubnetPrefix string = '10.60.0.0/26'
@description('The private endpoints\' subnet, inside vnetAddressPrefix.')
param endpointSubnetPrefix string = '10.60.0.64/26'

@description('ARM ids of the scopes aksvend may provision clusters into: /subscriptions/{id} or /subscriptions/{id}/resourceGroups/{name}. Resource groups must exist.')
param targetScopes array = []

@description('Subscription used when a request names none; defaults to the first target scope\'s subscription.')
param defaultSubscriptionId string = ''

@description('Caller policy as the app reads it (see docs/): which callers may use which subscriptions and resource groups. Empty allows no one.')
param callerPolicy string = ''

@description('Client id of the Entra app registration that API callers get tokens for (docs/deploy.md, Callers). Required: App Service authentication is always on, and the app validates bearer tokens for it.')
@minLength(36)
@maxLength(36)
param authClientId string

@description('Optional: object ids of the only users, service principals and managed identities App Service authentication lets through (empty: whoever the app registration admits).')
param authAllowedIdentities array = []

@description('Optional: object ids of the only groups App Service authentication lets through (empty: no group restriction).')
param authAllowedGroups array = []

@description('Create the Event Grid subscriptions that deliver to the function app. Turn on after the first `azd deploy` (the Event Grid trigger function must exist).')
param eventSubscriptionsEnabled bool = false

@description('Name of the Event Grid trigger function in function_app.py.')
param eventGridFunctionName string = 'events'

@description('Flex Consumption: most instances the app may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption: memory per instance.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
// Two vaults: the webhook secrets (the app only reads them) and what the app generates (it writes there).
var webhookVaultName = '${abbrs.keyVaultVaults}wh-${resourceToken}'
var generatedVaultName = '${abbrs.keyVaultVaults}gen-${resourceToken}'

// The queues and tables aksvend uses (docs/design.md section 4); a queue's poison queue is <queue>-poison.
var queueNames = [
  'cluster-requests'
  'cluster-requests-poison'
  'provisioning-steps'
  'provisioning-steps-poison'
]
var tableNames = [
  'operations'
  'clusters'
  'events'
  'outbox'
  'rejected'
]

// One subscription id per target scope, then de-duplicated (union drops duplicates) for the per-subscription topics.
var targetScopeSubscriptionIds = [for scopeId in targetScopes: split(scopeId, '/')[2]]
var targetSubscriptionIds = union(targetScopeSubscriptionIds, targetScopeSubscriptionIds)
var effectiveDefaultSubscriptionId = !empty(defaultSubscriptionId) ? defaultSubscriptionId : (empty(targetScopes) ? subscription().subscriptionId : split(first(targetScopes), '/')[2])

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The identity the function app runs as: storage, Key Vault, Event Grid and ARM on the target scopes.
module apiIdentity 'app/identity.bicep' = {
  name: 'apiUserAssignedIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

// Log Analytics (every resource log, retention logRetentionDays) and Application Insights (local auth off).
module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    appInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionDays
  }
}

// The VNet the app integrates with and the private endpoints live in, and their private DNS zones.
module network 'app/network.bicep' = {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    appSubnetPrefix: appSubnetPrefix
    endpointSubnetPrefix: endpointSubnetPrefix
    workspaceId: monitoring.outputs.workspaceId
  }
}

// Functions host storage and aksvend's state: queues, tables, the deployment package container. Identity only,
// private endpoints only.
module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentStorageContainerName
    queueNames: queueNames
    tableNames: tableNames
    workspaceId: monitoring.outputs.workspaceId
    endpointSubnetId: network.outputs.endpointSubnetId
    zoneIds: network.outputs.zoneIds
    devAllowedIpRanges: devAllowedIpRanges
  }
}

// Webhook secrets, set by operators and read by the app through Key Vault references (Secrets User).
module webhookVault 'app/keyvault.bicep' = {
  name: 'webhookVault'
  scope: rg
  params: {
    name: webhookVaultName
    location: location
    tags: tags
    workspaceId: monitoring.outputs.workspaceId
    endpointSubnetId: network.outputs.endpointSubnetId
    privateDnsZoneId: network.outputs.zoneIds.vault
    devAllowedIpRanges: devAllowedIpRanges
  }
}

// What aksvend generates at run time: Windows admin passwords, in-cluster agents' keys (Secrets Officer).
module generatedVault 'app/keyvault.bicep' = {
  name: 'generatedVault'
  scope: rg
  params: {
    name: generatedVaultName
    location: location
    tags: tags
    workspaceId: monitoring.outputs.workspaceId
    endpointSubnetId: network.outputs.endpointSubnetId
    privateDnsZoneId: network.outputs.zoneIds.vault
    devAllowedIpRanges: devAllowedIpRanges
  }
}

module eventGrid 'app/eventgrid.bicep' = {
  name: 'eventGrid'
  scope: rg
  params: {
    name: '${abbrs.eventGridDomainsTopics}${resourceToken}'
    location: location
    tags: tags
    workspaceId: monitoring.outputs.workspaceId
    endpointSubnetId: network.outputs.endpointSubnetId
    privateDnsZoneId: network.outputs.zoneIds.topic
    devAllowedIpRanges: devAllowedIpRanges
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    runtimeVersion: '3.11'
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    identityId: apiIdentity.outputs.id
    identityClientId: apiIdentity.outputs.clientId
    applicationInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    webhookVaultName: webhookVault.outputs.name
    generatedVaultUri: generatedVault.outputs.uri
    eventTopicEndpoint: eventGrid.outputs.endpoint
    appSubnetId: network.outputs.appSubnetId
    workspaceId: monitoring.outputs.workspaceId
    defaultSubscriptionId: effectiveDefaultSubscriptionId
    callerPolicy: callerPolicy
    authClientId: authClientId
    authAllowedIdentities: authAllowedIdentities
    authAllowedGroups: authAllowedGroups
  }
}

// Roles in aksvend's own resource group, each on its one resource: storage data, telemetry, the outbound topic,
// the two vaults. The deploying user gets none (devDataPrincipalId is for development only).
module rbac 'app/rbac.bicep' = {
  name: 'rbacAssignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    eventGridTopicName: eventGrid.outputs.name
    webhookVaultName: webhookVault.outputs.name
    generatedVaultName: generatedVault.outputs.name
    managedIdentityPrincipalId: apiIdentity.outputs.principalId
    devDataPrincipalId: devDataPrincipalId
  }
}

// Roles on every target scope, deployed into that scope's subscription (and resource group, when the scope is one).
module targets 'app/targets.bicep' = [for (scopeId, i) in targetScopes: {
  name: 'aksvend-target-${i}-${resourceToken}'
  scope: subscription(split(scopeId, '/')[2])
  params: {
    resourceGroupName: length(split(scopeId, '/')) > 4 ? split(scopeId, '/')[4] : ''
    principalId: apiIdentity.outputs.principalId
    environmentName: environmentName
  }
}]

// The quota pre-check's read (Microsoft.Compute/locations/usages/read) on each target subscription, once per
// subscription: it is a subscription-level read, which the roles of a resource-group target scope do not cover.
module quotaReaders 'app/quota-reader.bicep' = [for (subscriptionId, i) in targetSubscriptionIds: {
  name: 'aksvend-quota-${i}-${resourceToken}'
  scope: subscription(subscriptionId)
  params: {
    principalId: apiIdentity.outputs.principalId
    environmentName: environmentName
  }
}]

// Health Resources events (spot evictions: VirtualMachinePreempted annotations) of each target subscription.
module healthEvents 'app/health-events.bicep' = [for (subscriptionId, i) in targetSubscriptionIds: {
  name: 'aksvend-health-${i}-${resourceToken}'
  scope: subscription(subscriptionId)
  params: {
    resourceGroupName: '${abbrs.resourcesResourceGroups}aksvend-events-${environmentName}'
    location: location
    tags: tags
    systemTopicName: '${abbrs.eventGridSystemTopics}health-${resourceToken}'
    eventSubscriptionsEnabled: eventSubscriptionsEnabled
    functionResourceId: '${api.outputs.resourceId}/functions/${eventGridFunctionName}'
    workspaceId: monitoring.outputs.workspaceId
  }
}]

// Outputs for azd (UPPER_SNAKE, no secrets).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = 'https://${api.outputs.defaultHostname}'
output AZURE_FUNCTION_NAME string = api.outputs.name
output AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID string = apiIdentity.outputs.principalId
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = apiIdentity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_VAULT_NAME string = webhookVault.outputs.name
output AZURE_VAULT_URI string = webhookVault.outputs.uri
output AKSVEND_GENERATED_VAULT_NAME string = generatedVault.outputs.name
output AKSVEND_GENERATED_VAULT_URI string = generatedVault.outputs.uri
output AKSVEND_EVENTS_TOPIC_ENDPOINT string = eventGrid.outputs.endpoint
output AKSVEND_DEFAULT_SUBSCRIPTION_ID string = effectiveDefaultSubscriptionId
