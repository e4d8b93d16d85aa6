using System.Globalization;
using Agentry.Gateway.Security;
using Microsoft.Data.Sqlite;
using static Agentry.Gateway.Stores.Sqlite.SqliteFile;

namespace Agentry.Gateway.Stores.Sqlite;

/// Keys in the embedded SQLite file, in a table of their own beside Memory's. Key lookups are by
/// primary key and keys are written rarely, so a connection per call is enough.
public sealed class SqliteApiKeyStore : IApiKeyStore
{
    private const string Columns = "id, tenant_id, name, roles, salt, hash, created_at, created_by, expires_at, revoked_at";

    private readonly string _connectionString;

    public SqliteApiKeyStore(string connectionString)
    {
        _connectionString = SqliteFile.Open(connectionString,
            """
                CREATE TABLE IF NOT EXISTS api_keys (
                  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, roles TEXT NOT NULL,
                  salt BLOB NOT NULL, hash BLOB NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
                  expires_at TEXT, revoked_at TEXT);
                CREATE INDEX IF NOT EXISTS api_keys_by_tenant ON api_keys (tenant_id, created_at);
                """);
    }

    public async Task AddAsync(ApiKey key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"INSERT INTO api_keys ({Columns}) VALUES ($id, $tenant, $name, $roles, $salt, $hash, $created, $by, $expires, $revoked)",
            ("$id", key.Id), ("$tenant", key.TenantId), ("$name", key.Name), ("$roles", string.Join(',', key.Roles)),
            ("$salt", key.Salt), ("$hash", key.Hash), ("$created", Timestamp(key.CreatedAt)), ("$by", key.CreatedBy),
            ("$expires", key.ExpiresAt is { } expires ? Timestamp(expires) : null), ("$revoked", key.RevokedAt is { } revoked ? Timestamp(revoked) : null));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<ApiKey?> FindAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {Columns} FROM api_keys WHERE id = $id", cancellationToken, ("$id", id))).SingleOrDefault();

    public Task<IReadOnlyList<ApiKey>> ListAsync(string? tenantId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM api_keys WHERE $tenant IS NULL OR tenant_id = $tenant ORDER BY created_at DESC, id", cancellationToken, ("$tenant", tenantId));

    public async Task<bool> RevokeAsync(string id, string? tenantId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "UPDATE api_keys SET revoked_at = $at WHERE id = $id AND revoked_at IS NULL AND ($tenant IS NULL OR tenant_id = $tenant)",
            ("$id", id), ("$tenant", tenantId), ("$at", Timestamp(at)));
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private async Task<IReadOnlyList<ApiKey>> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new ApiKey(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries),
                (byte[])reader[4], (byte[])reader[5], ParseTime(reader.GetString(6)), reader.GetString(7),
                reader.IsDBNull(8) ? null : ParseTime(reader.GetString(8)), reader.IsDBNull(9) ? null : ParseTime(reader.GetString(9))));
        }

        return keys;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
