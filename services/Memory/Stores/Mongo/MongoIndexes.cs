using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Agentry.Memory;

/// Creates the indexes when the service starts. A MongoDB that is not up yet does not stop the
/// service: readiness stays red and the first write creates them (the database's once-guard).
public sealed partial class MongoIndexes(MongoMemoryDatabase database, ILogger<MongoIndexes> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await database.EnsureIndexesAsync(stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // Whatever went wrong, the service stays up (readiness shows it) and the first write retries.
            IndexesNotCreated(logger, database.Database.DatabaseNamespace.DatabaseName, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "MongoDB indexes for database {Database} not created at start; the first write retries")]
    private static partial void IndexesNotCreated(ILogger logger, string database, Exception exception);
}
