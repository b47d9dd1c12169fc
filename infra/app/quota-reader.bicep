// The quota pre-check's one read (shared/engine/quota.py): GET /subscriptions/{id}/providers/Microsoft.Compute/
// locations/{location}/usages is a subscription-level read, which a role assigned on a resource-group target scope
// does not cover (the pre-check would be skipped, silently but for a warning). So each target subscription, once
// (main.bicep deploys this per distinct subscription of targetScopes), gets a custom role with that one action and
// nothing else, assigned at the subscription: the compute usages and limits of its regions, no resource at all.
targetScope = 'subscription'

param principalId string
param environmentName string

// Verified in "Azure permissions for Compute" (docs/deploy.md, "Sources").
var quotaReaderActions = [
  'Microsoft.Compute/locations/usages/read'
]

resource quotaReaderRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, 'aksvend-quota-reader', environmentName)
  properties: {
    roleName: 'aksvend quota reader (${environmentName}, ${uniqueString(subscription().id)})'
    description: 'aksvend: read the compute usages and limits of the subscription\'s regions (the quota pre-check); nothing else.'
    type: 'CustomRole'
    permissions: [
      {
        actions: quotaReaderActions
        notActions: []
      }
    ]
    assignableScopes: [
      subscription().id
    ]
  }
}

resource quotaReaderAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, 'aksvend-quota-reader')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', quotaReaderRole.name)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: quota reader (the quota pre-check)'
  }
}
