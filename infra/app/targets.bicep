// Roles for aksvend's identity on one target scope: a subscription, or a resource group in it
// (resourceGroupName set; then the assignments are made by targets-rg.bicep, deployed into that group).
// Prefer resource-group target scopes: every role below then holds on that group only (docs/deploy.md, "Roles").
// The least roles that let aksvend create and run what a plan contains (docs/design.md section 3):
//   resource group, user-assigned identity, VNet + subnets, private DNS zones + links, private endpoints + zone groups,
//   role assignments (the cluster identity's Network Contributor on its node subnet; the owner group's
//   Azure Kubernetes Service RBAC Cluster Admin on its cluster), the managed cluster and its pools.
targetScope = 'subscription'

@description('Empty for a subscription scope; the name of an existing resource group for a resource-group scope.')
param resourceGroupName string = ''
param principalId string
param environmentName string

var networkContributorRoleId = '4d97b98b-1d4f-4787-a291-c67834d212e7' // Network Contributor
var aksRbacClusterAdminRoleId = 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b' // Azure Kubernetes Service RBAC Cluster Admin

// Built-in roles assigned on the target scope, with why each is needed. No Azure Kubernetes Service Contributor
// (managedClusters/*: admin credentials and run command on every cluster of the scope), no EventGrid
// Contributor (nothing uses it) and no Managed Identity Contributor (federatedIdentityCredentials/write: trust an
// outside token issuer on any user-assigned identity of the scope, and sign in as it from anywhere, for good): the
// custom role below has exactly the cluster and identity actions aksvend calls.
var roles = [
  {
    id: networkContributorRoleId // Network Contributor: VNets, subnets, private endpoints and zone groups; subnets/join
    name: 'Network Contributor'
  }
  {
    id: 'b12aa53e-6015-4669-85d0-8515ebb3ae7f' // Private DNS Zone Contributor: zones, VNet links, zone-group records
    name: 'Private DNS Zone Contributor'
  }
  {
    id: 'f1a07417-d97a-45cb-824c-7a7467783830' // Managed Identity Operator: assign that identity to the cluster (assign/action)
    name: 'Managed Identity Operator'
  }
]

// The custom role: exactly the ARM actions aksvend calls on clusters (shared/domain/arm, shared/services), plus the
// resource group it creates them in and the cluster's control-plane identity (create, read, delete; no federated
// credentials). The quota pre-check's compute usages are a subscription-level read: quota-reader.bicep has it. The notActions name what Azure Kubernetes Service Contributor would have
// given and aksvend must never have; with explicit actions they take nothing away today, and they keep a future
// wildcard from granting them (tests/unit/test_infra.py checks that no action matches a notAction).
var clusterRoleActions = [
  'Microsoft.Resources/subscriptions/resourceGroups/read'
  'Microsoft.Resources/subscriptions/resourceGroups/write'
  'Microsoft.ContainerService/managedClusters/read'
  'Microsoft.ContainerService/managedClusters/write'
  'Microsoft.ContainerService/managedClusters/delete'
  'Microsoft.ContainerService/managedClusters/agentPools/read'
  'Microsoft.ContainerService/managedClusters/agentPools/write'
  'Microsoft.ContainerService/managedClusters/agentPools/delete'
  'Microsoft.ContainerService/managedClusters/upgradeProfiles/read'
  'Microsoft.ContainerService/managedClusters/maintenanceConfigurations/read'
  'Microsoft.ContainerService/managedClusters/maintenanceConfigurations/write'
  'Microsoft.ContainerService/managedClusters/maintenanceConfigurations/delete'
  'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'
  'Microsoft.ContainerService/locations/operations/read'
  'Microsoft.ContainerService/locations/operationresults/read'
  'Microsoft.ManagedIdentity/userAssignedIdentities/read'
  'Microsoft.ManagedIdentity/userAssignedIdentities/write'
  'Microsoft.ManagedIdentity/userAssignedIdentities/delete'
]
var clusterRoleNotActions = [
  'Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action'
  'Microsoft.ContainerService/managedClusters/listClusterMonitoringUserCredential/action'
  'Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action'
  'Microsoft.ContainerService/managedClusters/runCommand/action'
  'Microsoft.ContainerService/managedClusters/commandResults/read'
  'Microsoft.ContainerService/managedClusters/abort/action'
  'Microsoft.ContainerService/managedClusters/agentPools/abort/action'
  'Microsoft.ContainerService/managedClusters/resetServicePrincipalProfile/action'
  'Microsoft.ContainerService/managedClusters/resetAADProfile/action'
  'Microsoft.ContainerService/managedClusters/rotateClusterCertificates/action'
  'Microsoft.ContainerService/managedClusters/privateEndpointConnectionsApproval/action'
  'Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/write'
  'Microsoft.Resources/subscriptions/resourceGroups/delete'
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write'
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete'
  'Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action'
]

// Role Based Access Control Administrator, constrained by condition to the two kinds of assignment aksvend makes:
// Network Contributor to a service principal (the cluster identity, on its node subnet) and Azure Kubernetes Service
// RBAC Cluster Admin to a group (the owner group, on its cluster); deleting only those. A condition can name the
// role and the principal type, not the scope (docs/deploy.md, "Sources"): the scope is the assignment's own, the
// target scope.
var rbacAdministratorRoleId = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168' // Role Based Access Control Administrator
var writeAllowed = '(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${networkContributorRoleId}} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'}) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${aksRbacClusterAdminRoleId}} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'Group\'})'
var deleteAllowed = '(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${networkContributorRoleId}} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'}) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${aksRbacClusterAdminRoleId}} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'Group\'})'
var rbacAdministratorCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (${writeAllowed})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (${deleteAllowed}))'

var isSubscriptionScope = empty(resourceGroupName)

resource clusterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (isSubscriptionScope) {
  name: guid(subscription().id, 'aksvend-clusters', environmentName)
  properties: {
    roleName: 'aksvend clusters (${environmentName}, ${uniqueString(subscription().id)})'
    description: 'aksvend: create, change, read and delete the clusters it vends, their resource groups and identities; no admin credentials, no run command, no federated credentials.'
    type: 'CustomRole'
    permissions: [
      {
        actions: clusterRoleActions
        notActions: clusterRoleNotActions
      }
    ]
    assignableScopes: [
      subscription().id
    ]
  }
}

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: if (isSubscriptionScope) {
  name: guid(subscription().id, principalId, role.id)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: ${role.name}'
  }
}]

resource rbacAdministratorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (isSubscriptionScope) {
  name: guid(subscription().id, principalId, rbacAdministratorRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', rbacAdministratorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: may only assign Network Contributor to service principals and AKS RBAC Cluster Admin to groups'
    condition: rbacAdministratorCondition
    conditionVersion: '2.0'
  }
}

resource clusterRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (isSubscriptionScope) {
  name: guid(subscription().id, principalId, 'aksvend-clusters')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', clusterRole.name)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: clusters'
  }
}

module resourceGroupTarget 'targets-rg.bicep' = if (!isSubscriptionScope) {
  name: 'aksvend-target-rg-${uniqueString(resourceGroupName, environmentName)}'
  // A placeholder name keeps the skipped deployment's scope valid when this target is a subscription.
  scope: resourceGroup(isSubscriptionScope ? 'unused' : resourceGroupName)
  params: {
    principalId: principalId
    environmentName: environmentName
    roles: roles
    rbacAdministratorRoleId: rbacAdministratorRoleId
    rbacAdministratorCondition: rbacAdministratorCondition
    clusterRoleActions: clusterRoleActions
    clusterRoleNotActions: clusterRoleNotActions
  }
}
