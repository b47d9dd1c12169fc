// One Key Vault: RBAC only (no access policies), purge protection, public network access off (only its private
// endpoint) unless `devAllowedIpRanges` lists a developer's addresses, and every data-plane access (AuditEvent: who
// read or wrote which secret) logged to Log Analytics. main.bicep deploys it twice: the webhook secrets (the app
// reads them: Secrets User) and the generated secrets (Windows passwords, agent keys: the app writes them: Secrets
// Officer), so that a role that can write cannot touch the webhook secrets.
param name string
param location string = resourceGroup().location
param tags object = {}
param workspaceId string
param endpointSubnetId string
param privateDnsZoneId string
@description('Development only: public IPv4 addresses or ranges allowed in through the firewall; empty (the default): public network access is off.')
param devAllowedIpRanges array = []

var publicAccess = !empty(devAllowedIpRanges)
var publicNetworkAccess = publicAccess ? 'Enabled' : 'Disabled'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    // 'Disabled' unless devAllowedIpRanges is set: checkov's CKV_AZURE_189 crashes on the expression (infra/check.sh
    // skips it); infra/security_checks.py checks it.
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'None'
      ipRules: [for range in devAllowedIpRanges: {
        value: range
      }]
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'AuditEvent'
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
    resourceId: vault.id
    groupId: 'vault'
    privateDnsZoneId: privateDnsZoneId
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
