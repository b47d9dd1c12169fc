// The roles of targets.bicep, assigned on one existing resource group (a resource-group target scope): the role
// list, the custom cluster role's actions and the RBAC Administrator's condition come from targets.bicep.
param principalId string
param environmentName string
param roles array
param rbacAdministratorRoleId string
param rbacAdministratorCondition string
param clusterRoleActions array
param clusterRoleNotActions array

resource clusterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'aksvend-clusters', environmentName)
  properties: {
    roleName: 'aksvend clusters (${environmentName}, ${uniqueString(resourceGroup().id)})'
    description: 'aksvend: create, change, read and delete the clusters it vends in this resource group and their identities; no admin credentials, no run command, no federated credentials.'
    type: 'CustomRole'
    permissions: [
      {
        actions: clusterRoleActions
        notActions: clusterRoleNotActions
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
    description: 'aksvend: may only assign Network Contributor to service principals and AKS RBAC Cluster Admin to groups'
    condition: rbacAdministratorCondition
    conditionVersion: '2.0'
  }
}

resource clusterRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, 'aksvend-clusters')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', clusterRole.name)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: clusters'
  }
}
