// The custom topic aksvend publishes its lifecycle CloudEvents to (aksvend.operation.*, aksvend.cluster.*, ...).
// Entra-only: local (key) auth is off; the app's identity holds EventGrid Data Sender (rbac.bicep).
param name string
param location string = resourceGroup().location
param tags object = {}

module topic 'br/public:avm/res/event-grid/topic:0.9.1' = {
  name: 'eventGridTopic'
  params: {
    name: name
    location: location
    tags: tags
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

// The topic's endpoint is not a module output; read it from the resource (outputs are evaluated after the module ran).
resource topicRef 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: name
}

output name string = topic.outputs.name
output resourceId string = topic.outputs.resourceId
output endpoint string = topicRef.properties.endpoint
