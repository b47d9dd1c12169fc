// Where every resource log and the app's telemetry go: one Log Analytics workspace (retention a parameter) and a
// workspace-based Application Insights with local (key) auth off: the app sends telemetry with its identity.
param workspaceName string
param appInsightsName string
param location string = resourceGroup().location
param tags object = {}
@allowed([30, 60, 90, 120, 180, 270, 365, 550, 730]) // Application Insights' RetentionInDays accepts only these
@description('Days Log Analytics keeps every log (resource logs, audit events, telemetry) and Application Insights its telemetry.')
param retentionInDays int = 90

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    RetentionInDays: retentionInDays
  }
}

// The workspace's own audit trail: who queried the logs.
resource workspaceDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: workspace
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        category: 'Audit'
        enabled: true
      }
    ]
  }
}

output workspaceId string = workspace.id
output appInsightsName string = appInsights.name
output appInsightsConnectionString string = appInsights.properties.ConnectionString
