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

@description('Optional: object id of the developer running azd, granted data access for debugging. Leave empty in production.')
param principalId string = ''

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
var keyVaultName = '${abbrs.keyVaultVaults}${resourceToken}'

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
module apiIdentity 'br/public:avm/res/managed-identity/user-assigned-identity:0.5.1' = {
  name: 'apiUserAssignedIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.15.1' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module monitoring 'br/public:avm/res/insights/component:0.7.1' = {
  name: 'applicationInsights'
  scope: rg
  params: {
    name: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
  }
}

// Functions host storage and aksvend's state: queues, tables, the deployment package container. Identity only.
module storage 'br/public:avm/res/storage/storage-account:0.32.0' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    skuName: 'Standard_LRS'
    kind: 'StorageV2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      containers: [
        {
          name: deploymentStorageContainerName
          publicAccess: 'None'
        }
      ]
    }
    queueServices: {
      queues: [for queueName in queueNames: {
        name: queueName
      }]
    }
    tableServices: {
      tables: [for tableName in tableNames: {
        name: tableName
      }]
    }
  }
}

// Webhook secrets (set by operators, read through Key Vault references) and the generated Windows admin passwords
// (written by aksvend at run time). RBAC only, purge protection on.
module keyVault 'br/public:avm/res/key-vault/vault:0.13.3' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
    sku: 'standard'
    enableRbacAuthorization: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

module eventGrid 'app/eventgrid.bicep' = {
  name: 'eventGrid'
  scope: rg
  params: {
    name: '${abbrs.eventGridDomainsTopics}${resourceToken}'
    location: location
    tags: tags
  }
}

module appServicePlan 'br/public:avm/res/web/serverfarm:0.7.0' = {
  name: 'appServicePlan'
  scope: rg
  params: {
    name: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    skuName: 'FC1'
    kind: 'functionapp'
    reserved: true
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    appServicePlanId: appServicePlan.outputs.resourceId
    runtimeVersion: '3.11'
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    identityId: apiIdentity.outputs.resourceId
    identityClientId: apiIdentity.outputs.clientId
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    keyVaultName: keyVault.outputs.name
    keyVaultUri: keyVault.outputs.uri
    eventTopicEndpoint: eventGrid.outputs.endpoint
    defaultSubscriptionId: effectiveDefaultSubscriptionId
    callerPolicy: callerPolicy
    authClientId: authClientId
    authAllowedIdentities: authAllowedIdentities
    authAllowedGroups: authAllowedGroups
  }
}

// Roles in aksvend's own resource group: storage data, telemetry, the outbound topic, Key Vault secrets.
module rbac 'app/rbac.bicep' = {
  name: 'rbacAssignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.name
    eventGridTopicName: eventGrid.outputs.name
    keyVaultName: keyVault.outputs.name
    managedIdentityPrincipalId: apiIdentity.outputs.principalId
    userIdentityPrincipalId: principalId
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
output AZURE_VAULT_NAME string = keyVault.outputs.name
output AZURE_VAULT_URI string = keyVault.outputs.uri
output AKSVEND_EVENTS_TOPIC_ENDPOINT string = eventGrid.outputs.endpoint
output AKSVEND_DEFAULT_SUBSCRIPTION_ID string = effectiveDefaultSubscriptionId
