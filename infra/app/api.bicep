// The aksvend function app on Flex Consumption (Python, Linux), running as a user-assigned identity, integrated with
// the home VNet (network.bicep), every resource log to Log Analytics.
// Every app setting the code reads (shared/config/names.py SETTINGS) is set in `aksvendSettings` below;
// tests/unit/test_infra.py fails when one is missing.
param name string
param location string = resourceGroup().location
param tags object = {}
param serviceName string = 'api'
param planName string
param runtimeVersion string = '3.11'
param maximumInstanceCount int = 100
param instanceMemoryMB int = 2048
param storageAccountName string
param deploymentStorageContainerName string
param identityId string
param identityClientId string
param applicationInsightsConnectionString string
@description('The vault of the webhook secrets, read through Key Vault references (Secrets User).')
param webhookVaultName string
@description('The vault aksvend writes generated secrets to (Windows passwords, agent keys; Secrets Officer).')
param generatedVaultUri string
@description('Subnet of the VNet integration (network.bicep, delegated to Microsoft.App/environments).')
param appSubnetId string
param workspaceId string
param eventTopicEndpoint string
param defaultSubscriptionId string
param callerPolicy string = ''
@description('Client id of the Entra app registration callers get tokens for (api://<client id>). Required: there is no deployment without authentication.')
@minLength(36)
@maxLength(36)
param authClientId string
@description('Optional: object ids of the users, service principals and managed identities App Service authentication lets through. Empty: whoever the app registration admits (set appRoleAssignmentRequired on it, docs/deploy.md).')
param authAllowedIdentities array = []
@description('Optional: object ids of the groups App Service authentication lets through (needs the groups claim). Empty: no group restriction.')
param authAllowedGroups array = []

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

// Webhook secrets live in Key Vault; the app sees them through Key Vault references resolved with the identity.
// A secret may hold several values during a rotation (see docs/deploy.md).
var webhookSecretReference = '@Microsoft.KeyVault(VaultName=${webhookVaultName};SecretName='

// What the Functions host needs: storage and telemetry by identity, and the identity DefaultAzureCredential picks.
// Flex Consumption sets FUNCTIONS_EXTENSION_VERSION and FUNCTIONS_WORKER_RUNTIME itself (they must not be set here).
// aksvend's own queue and table clients use the same connection (shared/config reads AzureWebJobsStorage; in Azure
// there is no connection string, only these identity-based settings).
var functionsSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageAccount.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storageAccount.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storageAccount.properties.primaryEndpoints.table
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  AZURE_CLIENT_ID: identityClientId
}

// What aksvend reads (shared/config/names.py SETTINGS). The ARM endpoint is the cloud's default, as when it is not set;
// the emulator's CA bundle is empty (= unset) in Azure; the engine timings are the code's defaults.
var aksvendSettings = {
  AKSVEND_DEFAULT_SUBSCRIPTION_ID: defaultSubscriptionId
  AKSVEND_ARM_ENDPOINT: environment().resourceManager
  AKSVEND_ARM_CA_CERT: ''
  AKSVEND_POLL_INTERVAL_SECONDS: '15'
  AKSVEND_LEASE_SECONDS: '300'
  AKSVEND_BACKOFF_BASE_SECONDS: '2'
  AKSVEND_STEP_DEADLINE_SECONDS: '10800'
  AKSVEND_SWEEP_SECONDS: '60'
  AKSVEND_DRIFT_INTERVAL_SECONDS: '1800'
  AKSVEND_QUEUE_LEASE_SECONDS: '600'
  AKSVEND_LOG_LEVEL: 'WARNING'
  AKSVEND_WEBHOOK_SERVICENOW_SIGNATURE_HEADER: 'X-Aksvend-Signature'
  AKSVEND_WEBHOOK_SERVICENOW_BASIC_USER: '' // set it (and the webhook-servicenow-basic secret) to use HTTP Basic
  AKSVEND_WEBHOOK_SERVICENOW_BASIC_PASSWORD: '${webhookSecretReference}webhook-servicenow-basic)'
  AKSVEND_TICKET_MAPPINGS_DIR: '' // the built-in mappings
  AKSVEND_EVENTS_TOPIC_KEY: '' // Entra ID: the topic has local auth off (eventgrid.bicep)
  AKSVEND_LOCAL_CALLER: '' // local mode only, which the app refuses in Azure
  // The app validates bearer tokens itself too (shared/config/auth.py): Entra's v2.0 tokens of this tenant for the
  // app registration. The authority ends in '/', which the app strips.
  AKSVEND_AUTH_TENANT_ID: tenant().tenantId
  AKSVEND_AUTH_AUDIENCES: 'api://${authClientId},${authClientId}'
  AKSVEND_AUTH_AUTHORITY: environment().authentication.loginEndpoint
  AKSVEND_EVENTS_TOPIC_ENDPOINT: eventTopicEndpoint
  AKSVEND_KEY_VAULT_URI: generatedVaultUri
  AKSVEND_CALLER_POLICY: callerPolicy
  AKSVEND_WEBHOOK_SECRET_JIRA: '${webhookSecretReference}webhook-jira)'
  AKSVEND_WEBHOOK_SECRET_SERVICENOW: '${webhookSecretReference}webhook-servicenow)'
  AKSVEND_WEBHOOK_SECRET_GITHUB: '${webhookSecretReference}webhook-github)'
  AKSVEND_WEBHOOK_SECRET_GENERIC: '${webhookSecretReference}webhook-generic)'
  // /api/events takes Event Grid's Entra tokens with this app role (an event subscription with
  // azureActiveDirectoryTenantId/ApplicationIdOrUri) and the agents' signatures; the shared secret is local-only.
  AKSVEND_EVENTS_GRID_ROLE: 'AzureEventGridSecureWebhookSubscriber'
}

// App Service authentication (Easy Auth) is always on: it refuses requests without a valid Entra token for the app
// registration (Return401), strips client-sent X-MS-CLIENT-PRINCIPAL headers and sets them for signed-in callers;
// App Service then sets WEBSITE_AUTH_ENABLED=True, the only case in which the app trusts that header. Who gets past
// it: principals assigned to the app registration (appRoleAssignmentRequired, docs/deploy.md) and, when given,
// only the identities and groups listed below. Ticketing webhooks and Event Grid carry their own signatures or keys
// and stay reachable without a token; the app checks those itself.
var allowedPrincipals = union(empty(authAllowedIdentities) ? {} : { identities: authAllowedIdentities },
  empty(authAllowedGroups) ? {} : { groups: authAllowedGroups })
var authSettings = {
  platform: {
    enabled: true
  }
  globalValidation: {
    requireAuthentication: true
    unauthenticatedClientAction: 'Return401'
    excludedPaths: [
      '/api/health'
      '/api/events'
      '/api/webhooks/jira'
      '/api/webhooks/servicenow'
      '/api/webhooks/github'
      '/api/webhooks/generic'
      '/runtime/webhooks/EventGrid'
    ]
  }
  identityProviders: {
    azureActiveDirectory: {
      enabled: true
      registration: {
        clientId: authClientId
        openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
      }
      validation: {
        allowedAudiences: [
          'api://${authClientId}'
          authClientId
        ]
        defaultAuthorizationPolicy: {
          allowedPrincipals: allowedPrincipals
        }
      }
    }
  }
}

// Flex Consumption plan (Linux); the app is its only site.
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
  //checkov:skip=CKV_AZURE_225: availability, not a security property (zone redundancy of the Flex plan is a separate choice)
}

// The app stays reachable from the internet (its API and the ticketing webhooks are called from outside; App
// Service authentication and the app's own checks guard them) and reaches storage, the vaults and the topic only
// through its VNet integration and their private endpoints.
resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: appSubnetId
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
      detailedErrorLoggingEnabled: false
      cors: {
        allowedOrigins: []
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: runtimeVersion
      }
    }
  }
  //checkov:skip=CKV_AZURE_222: the API and the ticketing webhooks are called from the internet; Easy Auth (authsettingsV2 below) and the app's own token and signature checks guard them
  //checkov:skip=CKV_AZURE_212: Flex Consumption scales instances per function on demand; there is no fixed worker count
  //checkov:skip=CKV_AZURE_213: availability, not a security property; /api/health serves external probes
  //checkov:skip=CKV_AZURE_17: callers authenticate with Entra ID bearer tokens (authsettingsV2 below), not client certificates
}

// checkov applies its web-config checks (HTTP logging, request tracing, detailed errors, .NET, Azure Files, public
// access, V1 authsettings) to every Microsoft.Web/sites/config child; the two below are not the web config.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  //checkov:skip=CKV_AZURE_63: not the web config (HTTP logs reach Log Analytics as FunctionAppLogs)
  //checkov:skip=CKV_AZURE_66: not the web config
  //checkov:skip=CKV_AZURE_65: not the web config (siteConfig.detailedErrorLoggingEnabled is false)
  parent: functionApp
  //checkov:skip=CKV_AZURE_80: not the web config (Python, no .NET)
  //checkov:skip=CKV_AZURE_88: not the web config (Flex Consumption mounts no Azure Files share)
  //checkov:skip=CKV_AZURE_222: not the web config (public access: see the site)
  name: 'appsettings'
  //checkov:skip=CKV_AZURE_13: a V1 authsettings check; authsettingsV2 has platform.enabled true (tests/unit/test_infra.py)
  properties: union(functionsSettings, aksvendSettings)
}

resource authSettingsV2 'Microsoft.Web/sites/config@2024-04-01' = {
  //checkov:skip=CKV_AZURE_63: not the web config (HTTP logs reach Log Analytics as FunctionAppLogs)
  //checkov:skip=CKV_AZURE_66: not the web config
  //checkov:skip=CKV_AZURE_65: not the web config (siteConfig.detailedErrorLoggingEnabled is false)
  parent: functionApp
  //checkov:skip=CKV_AZURE_80: not the web config (Python, no .NET)
  //checkov:skip=CKV_AZURE_88: not the web config (Flex Consumption mounts no Azure Files share)
  //checkov:skip=CKV_AZURE_222: not the web config (public access: see the site)
  name: 'authsettingsV2'
  //checkov:skip=CKV_AZURE_13: a V1 authsettings check; authsettingsV2 has platform.enabled true (tests/unit/test_infra.py)
  properties: authSettings
}

// No publishing with a user name and password (FTP or the SCM site): deployments use Entra ID (azd).
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
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

output SERVICE_API_NAME string = functionApp.name
output name string = functionApp.name
output resourceId string = functionApp.id
output defaultHostname string = functionApp.properties.defaultHostName
