using Microsoft.Extensions.Configuration;

namespace Agentry.ServiceDefaults;

/// Where a service keeps what it stores: MongoDB when the `mongodb` connection string is set, else
/// the embedded SQLite file. Memory and the Gateway (its keys) make the same choice, so that one
/// deployment keeps its data in one place.
public static class StoreConnections
{
    public const string SqliteName = "sqlite";
    public const string MongoName = "mongodb";
    public const string DefaultMongoDatabase = "agentry";

    /// The embedded file when no `sqlite` connection string is given.
    public static string DefaultSqlite =>
        $"Data Source={Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", "agentry.db")}";

    public static string? Mongo(IConfiguration configuration) =>
        configuration.GetConnectionString(MongoName) is { Length: > 0 } mongodb ? mongodb : null;

    public static string Sqlite(IConfiguration configuration) =>
        configuration.GetConnectionString(SqliteName) is { Length: > 0 } sqlite ? sqlite : DefaultSqlite;
}
