namespace Agentry.Memory;

public sealed class MemoryOptions
{
    public const string SqliteConnectionName = ServiceDefaults.StoreConnections.SqliteName;

    public string SqliteConnectionString { get; set; } = ServiceDefaults.StoreConnections.DefaultSqlite;
}
