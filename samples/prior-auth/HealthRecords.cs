using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Samples.PriorAuth;

/// Where the prior-auth sample keeps its EHR and its payer (Tools:PriorAuth). Without a connection
/// string it is a file next to the embedded transcript store.
public sealed class HealthRecordsOptions
{
    public const string Section = "Tools:PriorAuth";

    public string ConnectionString { get; set; } =
        $"Data Source={Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", "prior-auth.db")}";
}

/// The sample's two systems in one SQLite file: the clinic's EHR (patients, diagnoses, medication
/// history, labs, documents, prescriptions) and the payer (coverage, formulary, the PA portal's
/// submissions and their attachments). A new, empty database gets the synthetic demo
/// (HealthRecordsDemo); a database with patients of its own is used as it is.
public sealed class HealthRecords(IOptions<HealthRecordsOptions> options)
{
    private readonly Lazy<string> _connectionString = new(() => Prepare(options.Value.ConnectionString));

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString.Value);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static string Prepare(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = 30 };
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = HealthRecordsDemo.Schema;
        command.ExecuteNonQuery();
        command.CommandText = "SELECT count(*) FROM patients";
        if ((long)command.ExecuteScalar()! == 0)
        {
            command.CommandText = HealthRecordsDemo.Records;
            command.ExecuteNonQuery();
        }

        return builder.ToString();
    }
}
