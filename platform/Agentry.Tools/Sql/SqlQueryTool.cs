using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SQLitePCL;

namespace Agentry.Tools;

/// The database sql_query reads (Tools:SqlQuery). Only SQLite is supported: the connection string
/// names a database file, which is always opened read-only whatever the string says.
public sealed class SqlQueryToolOptions
{
    public const string Section = "Tools:SqlQuery";

    public string? ConnectionString { get; set; }

    public int MaxRows { get; set; } = 200;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// Three locks, any one of which stops a write: the file is opened read-only, the connection is
/// set to `PRAGMA query_only`, and the text must be one statement that SQLite itself reports as
/// read-only and that starts with SELECT or WITH (ATTACH also counts as read-only for SQLite).
public sealed partial class SqlQueryTool(IOptionsMonitor<SqlQueryToolOptions> options) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("sql_query", "Runs one read-only SQL query (a single SELECT or WITH statement, SQLite dialect) against the configured database, with named parameters such as :name, and returns the rows as JSON.", ToolSchema.ClosedObject("""
        "sql": { "type": "string", "minLength": 1, "maxLength": 10000, "description": "One SELECT or WITH statement; pass values as parameters (:name), not inside the text." },
        "parameters": { "type": "object", "additionalProperties": { "type": ["string", "number", "boolean", "null"] }, "description": "Values for the named parameters, by name without the colon." }
        """, "sql"));

    public static ToolPack Pack { get; } = ToolPack.Of([Descriptor], (services, _) =>
    {
        services.AddOptions<SqlQueryToolOptions>().BindConfiguration(SqlQueryToolOptions.Section);
        services.AddSingleton<ITool, SqlQueryTool>();
    });

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, "No database is configured for sql_query (set Tools:SqlQuery:ConnectionString).");
        }

        var sql = arguments.GetProperty("sql").GetString()!;
        if (!StartsAsQuery().IsMatch(sql))
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, "sql_query runs only a single SELECT or WITH statement.");
        }

        return Task.Run(() => Query(sql, arguments, settings, cancellationToken), cancellationToken);
    }

    private static string Query(string sql, JsonElement arguments, SqlQueryToolOptions settings, CancellationToken cancellationToken)
    {
        var connectionString = new SqliteConnectionStringBuilder(settings.ConnectionString) { Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        using var connection = new SqliteConnection(connectionString.ToString());
        try
        {
            connection.Open();
        }
        catch (SqliteException e)
        {
            throw new ToolException(ToolErrorKind.Failed, $"The sql_query database could not be opened: {e.Message}");
        }

        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA query_only = ON";
            pragma.ExecuteNonQuery();
        }

        EnsureOneReadOnlyStatement(connection, sql);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        // A runaway query (an endless recursive WITH) is stopped inside SQLite itself.
        using var interrupt = timeout.Token.Register(() => raw.sqlite3_interrupt(connection.Handle));
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (arguments.TryGetProperty("parameters", out var parameters))
        {
            foreach (var p in parameters.EnumerateObject())
            {
                command.Parameters.AddWithValue(":" + p.Name, p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.Number => p.Value.TryGetInt64(out var l) ? l : p.Value.GetDouble(),
                    JsonValueKind.True => 1,
                    JsonValueKind.False => 0,
                    _ => DBNull.Value,
                });
            }
        }

        try
        {
            using var reader = command.ExecuteReader();
            var rows = new List<Dictionary<string, object?>>();
            var truncated = false;
            while (reader.Read())
            {
                if (rows.Count == settings.MaxRows)
                {
                    truncated = true;
                    break;
                }

                var row = new Dictionary<string, object?>(reader.FieldCount);
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i) is byte[] blob ? Convert.ToBase64String(blob) : reader.GetValue(i);
                }

                rows.Add(row);
            }

            var json = JsonSerializer.Serialize(rows);
            return truncated ? $"{json}{Environment.NewLine}[only the first {settings.MaxRows} rows]" : json;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == raw.SQLITE_INTERRUPT && !cancellationToken.IsCancellationRequested)
        {
            throw new ToolException(ToolErrorKind.Timeout, $"The query ran longer than {settings.Timeout.TotalSeconds:0.#}s and was stopped.", causedByCaller: true);
        }
        catch (SqliteException e)
        {
            throw new ToolException(ToolErrorKind.Failed, $"The query failed: {e.Message}", causedByCaller: true);
        }
    }

    /// Compiles the text with SQLite's own parser: anything after the first statement, or a
    /// statement that would write, is refused before anything runs.
    private static void EnsureOneReadOnlyStatement(SqliteConnection connection, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement, out var tail);
        using (statement)
        {
            if (rc != raw.SQLITE_OK)
            {
                throw new ToolException(ToolErrorKind.InvalidArguments, $"The query is not valid SQL: {raw.sqlite3_errmsg(connection.Handle).utf8_to_string()}");
            }

            if (!string.IsNullOrWhiteSpace(StripComments(tail)))
            {
                throw new ToolException(ToolErrorKind.PermissionDenied, "sql_query runs only a single statement; remove everything after the first ';'.");
            }

            if (raw.sqlite3_stmt_readonly(statement) == 0)
            {
                throw new ToolException(ToolErrorKind.PermissionDenied, "sql_query is read-only: the statement would change the database.");
            }
        }
    }

    private static string StripComments(string? text) =>
        text is null ? "" : Comments().Replace(text, "").Trim().TrimEnd(';').Trim();

    [GeneratedRegex(@"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(?:SELECT|WITH)\b", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex StartsAsQuery();

    [GeneratedRegex(@"--[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();
}
