using Microsoft.Data.Sqlite;

namespace Agentry.Gateway.Stores.Sqlite;

/// The Gateway's embedded SQLite file, which its stores (keys, webhook inbox, schedules) share: how
/// each opens it and makes its commands.
internal static class SqliteFile
{
    /// The connection string a store keeps, after creating the file's folder and, in WAL mode so that
    /// readers never wait on the writer, the store's tables (the schema is idempotent DDL).
    public static string Open(string connectionString, string schema)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = 30 };
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        var prepared = builder.ToString();
        using var connection = new SqliteConnection(prepared);
        connection.Open();
        using var command = Command(connection, "PRAGMA journal_mode = WAL;\n" + schema);
        command.ExecuteNonQuery();
        return prepared;
    }

    public static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Command(connection, null, sql, parameters);

    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
