namespace Agentry.Memory;

public sealed class MemoryOptions
{
    public const string SqliteConnectionName = "sqlite";

    /// Where the embedded store keeps its file when no `sqlite` connection string is given.
    public static string DefaultSqliteConnectionString =>
        $"Data Source={Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", "agentry.db")}";

    public string SqliteConnectionString { get; set; } = DefaultSqliteConnectionString;
}
