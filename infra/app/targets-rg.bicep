// The roles of targets.bicep, assigned on one existing resource group (a resource-group target scope).
// The role list, the constrained RBAC condition and the helper role's actions come from targets.bicep.
param principalId string
param environmentName string
param roles array
param rbacAdministratorRoleId string
param rbacAdministratorCondition string
param helperRoleActions array

resource helperRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'aksvend-target-helper', environmentName)
  properties: {
    roleName: 'aksvend target helper (${environmentName}, ${uniqueString(resourceGroup().id)})'
    description: 'aksvend: update its resource group for planned clusters.'
    type: 'CustomRole'
    permissions: [
      {
        actions: helperRoleActions
        notActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: {
  name: guid(resourceGroup().id, principalId, role.id)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: ${role.name}'
  }
}]

resource rbacAdministratorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, rbacAdministratorRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', rbacAdministratorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: may only assign Network Contributor to service principals'
    condition: rbacAdministratorCondition
    conditionVersion: '2.0'
  }
}

resource helperRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, 'aksvend-target-helper')
  properties: {
    roleDefinitionId: helperRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: resource group'
  }
}
