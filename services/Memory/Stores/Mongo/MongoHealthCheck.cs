using Microsoft.Extensions.Diagnostics.HealthChecks;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Agentry.Memory;

/// Ready when MongoDB answers a ping and the indexes exist.
public sealed class MongoHealthCheck(MongoMemoryDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await database.Database.RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: cancellationToken);
            await database.EnsureIndexesAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is MongoException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"MongoDB database '{database.Database.DatabaseNamespace.DatabaseName}' does not answer: {e.Message}", e);
        }
    }
}
