// Health Resources events of one target subscription (spot evictions arrive as VirtualMachinePreempted annotations).
// A system topic for Microsoft.ResourceNotifications.HealthResources lives in the subscription it watches, so this
// creates a small resource group there to hold it.
targetScope = 'subscription'

param resourceGroupName string
param location string
param tags object = {}
param systemTopicName string
param eventSubscriptionsEnabled bool = false
param functionResourceId string
param workspaceId string

resource eventsResourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module healthTopic 'health-topic.bicep' = {
  name: 'aksvend-health-topic-${uniqueString(subscription().id, systemTopicName)}'
  scope: eventsResourceGroup
  params: {
    name: systemTopicName
    tags: tags
    eventSubscriptionsEnabled: eventSubscriptionsEnabled
    functionResourceId: functionResourceId
    workspaceId: workspaceId
  }
}

output systemTopicId string = healthTopic.outputs.resourceId
