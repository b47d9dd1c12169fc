// The Health Resources system topic of this subscription and, once the app's Event Grid trigger exists,
// the event subscription that delivers to it (AzureFunction destination: no secret, no webhook handshake).
param name string
param tags object = {}
param eventSubscriptionsEnabled bool = false
@description('ARM id of the Event Grid trigger function: <function app id>/functions/<name>.')
param functionResourceId string
@description('Log Analytics workspace (in aksvend\'s own subscription) that receives the topic\'s delivery failures.')
param workspaceId string

resource healthTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: 'global'
  tags: tags
  properties: {
    source: subscription().id
    topicType: 'Microsoft.ResourceNotifications.HealthResources'
  }
}

resource toAksvend 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (eventSubscriptionsEnabled) {
  parent: healthTopic
  name: 'aksvend'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: functionResourceId
        maxEventsPerBatch: 10
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.ResourceNotifications.HealthResources.AvailabilityStatusChanged'
        'Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated'
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

// Failed deliveries to the app (a dropped spot-eviction notice) are logged with the rest.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: healthTopic
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'DeliveryFailures'
        enabled: true
      }
    ]
  }
}

output resourceId string = healthTopic.id
