using Microsoft.Extensions.Diagnostics.HealthChecks;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Agentry.Memory;

/// Ready when MongoDB answers a ping and the indexes exist.
public sealed class MongoHealthCheck(MongoStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.Database.RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: cancellationToken);
            await store.EnsureIndexesAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is MongoException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"MongoDB database '{store.Database.DatabaseNamespace.DatabaseName}' does not answer: {e.Message}", e);
        }
    }
}
