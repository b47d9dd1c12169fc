// Roles for aksvend's identity on one target scope: a subscription, or a resource group in it
// (resourceGroupName set; then the assignments are made by targets-rg.bicep, deployed into that group).
// The least roles that let aksvend create what a plan contains (docs/design.md section 3):
//   resource group, user-assigned identity, VNet + subnets, private DNS zones + links, private endpoints + zone groups,
//   a Network Contributor assignment for the cluster identity on its node subnet, the managed cluster and its pools.
// EventGrid Contributor is for the per-cluster AKS system topic + subscription, which the plan does not create yet
// (docs/deploy.md, "Event Grid": an operator creates them today).
targetScope = 'subscription'

@description('Empty for a subscription scope; the name of an existing resource group for a resource-group scope.')
param resourceGroupName string = ''
param principalId string
param environmentName string

var networkContributorRoleId = '4d97b98b-1d4f-4787-a291-c67834d212e7' // Network Contributor

// Built-in roles assigned on the target scope, with why each is needed.
var roles = [
  {
    id: 'ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8' // Azure Kubernetes Service Contributor Role: managed clusters and agent pools
    name: 'Azure Kubernetes Service Contributor Role'
  }
  {
    id: networkContributorRoleId // Network Contributor: VNets, subnets (service endpoints), private endpoints, subnet join
    name: 'Network Contributor'
  }
  {
    id: 'b12aa53e-6015-4669-85d0-8515ebb3ae7f' // Private DNS Zone Contributor: zones, VNet links, zone-group records
    name: 'Private DNS Zone Contributor'
  }
  {
    id: 'e40ec5ca-96e0-45a2-b4ff-59039f2c2b59' // Managed Identity Contributor: create the cluster's control-plane identity
    name: 'Managed Identity Contributor'
  }
  {
    id: 'f1a07417-d97a-47ee-bab8-ce5e6fd2a4d0' // Managed Identity Operator: assign that identity to the cluster (assign/action)
    name: 'Managed Identity Operator'
  }
  {
    id: '1e241071-0855-49ea-94dc-649edcd759de' // EventGrid Contributor: per-cluster system topic and event subscription
    name: 'EventGrid Contributor'
  }
]

// Role Based Access Control Administrator, constrained: it may only create or delete assignments of Network Contributor,
// and only for service principals (the cluster's identity on its node subnet).
var rbacAdministratorRoleId = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168' // Role Based Access Control Administrator
var rbacAdministratorCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${networkContributorRoleId}} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${networkContributorRoleId}}))'

// No built-in role short of Contributor may write a resource group; a custom role grants just that.
var helperRoleActions = [
  'Microsoft.Resources/subscriptions/resourceGroups/read'
  'Microsoft.Resources/subscriptions/resourceGroups/write'
]

var isSubscriptionScope = empty(resourceGroupName)

resource helperRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (isSubscriptionScope) {
  name: guid(subscription().id, 'aksvend-target-helper', environmentName)
  properties: {
    roleName: 'aksvend target helper (${environmentName}, ${uniqueString(subscription().id)})'
    description: 'aksvend: create or update resource groups for planned clusters.'
    type: 'CustomRole'
    permissions: [
      {
        actions: helperRoleActions
        notActions: []
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
    description: 'aksvend: may only assign Network Contributor to service principals'
    condition: rbacAdministratorCondition
    conditionVersion: '2.0'
  }
}

resource helperRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (isSubscriptionScope) {
  name: guid(subscription().id, principalId, 'aksvend-target-helper')
  properties: {
    roleDefinitionId: helperRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'aksvend: resource groups'
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
    helperRoleActions: helperRoleActions
  }
}
