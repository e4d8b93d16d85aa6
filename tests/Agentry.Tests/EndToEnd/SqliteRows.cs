using Microsoft.Data.Sqlite;

namespace Agentry.Tests.EndToEnd;

/// What a run left in its SQLite file, read back for assertions: one string per row.
public static class SqliteRows
{
    /// The first column of every row the query returns, in the order returned.
    public static async Task<List<string>> Query(SqliteConnection db, string sql)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
