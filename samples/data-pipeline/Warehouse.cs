using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Samples.DataPipeline;

/// Where the data-pipeline sample keeps its warehouse (Tools:Warehouse): production and the staging
/// copy migrations are tried on. Without connection strings they are files next to the embedded
/// transcript store.
public sealed class WarehouseOptions
{
    public const string Section = "Tools:Warehouse";

    public string ProdConnectionString { get; set; } = $"Data Source={DefaultFile("warehouse.db")}";

    public string StagingConnectionString { get; set; } = $"Data Source={DefaultFile("warehouse-staging.db")}";

    private static string DefaultFile(string name) =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", name);
}

/// The sample warehouse: the shop's orders replicated from upstream (src_orders), the fact table the
/// nightly load fills (fact_orders), the load's column mapping, its runs and logs, the data-quality
/// checks and the record of promoted migrations, in SQLite. A new, empty production database gets
/// the demo history (WarehouseDemo): the upstream renamed a column and two loads wrote NULLs.
/// Staging is a copy of production, made afresh before every migration tried on it.
public sealed class Warehouse(IOptions<WarehouseOptions> options)
{
    private readonly Lazy<string> _prod = new(() => Prepare(options.Value.ProdConnectionString, seed: true));
    private readonly Lazy<string> _staging = new(() => Prepare(options.Value.StagingConnectionString, seed: false));

    public Task<SqliteConnection> OpenAsync(WarehouseDatabase database, CancellationToken cancellationToken) =>
        OpenAsync(database, readOnly: false, cancellationToken);

    /// A read-only connection refuses every write, whatever SQL is run on it.
    public async Task<SqliteConnection> OpenAsync(WarehouseDatabase database, bool readOnly, CancellationToken cancellationToken)
    {
        if (database == WarehouseDatabase.Staging && !await HasTablesAsync(_staging.Value, cancellationToken))
        {
            await ResetStagingAsync(cancellationToken);
        }

        var connectionString = database == WarehouseDatabase.Prod ? _prod.Value : _staging.Value;
        if (readOnly)
        {
            connectionString = new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadOnly }.ToString();
        }

        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// Staging becomes an exact copy of production (SQLite's online backup), so a migration that
    /// passes there meets the data it will meet in production.
    public async Task ResetStagingAsync(CancellationToken cancellationToken)
    {
        await using var prod = new SqliteConnection(_prod.Value);
        await using var staging = new SqliteConnection(_staging.Value);
        await prod.OpenAsync(cancellationToken);
        await staging.OpenAsync(cancellationToken);
        prod.BackupDatabase(staging);
    }

    private static async Task<bool> HasTablesAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'fact_orders'";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    private static string Prepare(string connectionString, bool seed)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = 30 };
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        if (seed)
        {
            using var connection = new SqliteConnection(builder.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = WarehouseDemo.Schema;
            command.ExecuteNonQuery();
            command.CommandText = "SELECT count(*) FROM src_orders";
            if ((long)command.ExecuteScalar()! == 0)
            {
                command.CommandText = WarehouseDemo.History;
                command.ExecuteNonQuery();
            }
        }

        return builder.ToString();
    }
}

public enum WarehouseDatabase
{
    Prod,
    Staging,
}
