using System.Globalization;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Memory;
using Agentry.ServiceDefaults;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using MongoDB.Driver;

namespace Agentry.Cli;

/// `agentry keys ...`: the Gateway's API keys, written where the Gateway reads them (the embedded
/// SQLite file, or MongoDB when ConnectionStrings:mongodb is set). Whoever can write that store is
/// the operator: these need no key of their own.
public static class KeyCommands
{
    public static Task<int> CreateAsync(string tenant, string name, string roles, int? expiresInDays, TextWriter output, TextWriter error, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? settings = null) =>
        WithStoreAsync(settings, async (keys, audit, where) =>
        {
            if ((string.IsNullOrWhiteSpace(tenant) ? "Name the tenant the key acts for (--tenant)." : KeyRequests.Problem(name, roles, expiresInDays)) is { } problem)
            {
                await error.WriteLineAsync(problem);
                return ExitCodes.BadInput;
            }

            var now = DateTimeOffset.UtcNow;
            var issued = ApiKeys.Issue(tenant.Trim(), name.Trim(), GatewayRoles.Parse(roles).Roles, $"{Environment.UserName} (cli)", now,
                expiresInDays is { } days ? now.AddDays(days) : null);
            await keys.AddAsync(issued.Key, cancellationToken);
            await audit.AppendAsync(Entry(issued.Key.TenantId, "key.created", issued.Key.Id, KeyRequests.Describe(issued.Key)), cancellationToken);
            await output.WriteLineAsync(issued.Secret);
            await error.WriteLineAsync($"Created key {issued.Key.Id} '{issued.Key.Name}' for tenant {issued.Key.TenantId}, roles {string.Join(",", issued.Key.Roles)}"
                + (issued.Key.ExpiresAt is { } expires ? $", expires {expires.ToString("u", CultureInfo.InvariantCulture)}" : "") + $", in {where}.");
            await error.WriteLineAsync("The key is shown this once: store it now (send it as `Authorization: Bearer <key>`, or AGENTRY_API_KEY for the CLI).");
            return ExitCodes.Completed;
        });

    public static Task<int> ListAsync(string? tenant, TextWriter output, TextWriter error, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null) =>
        WithStoreAsync(settings, async (keys, _, where) =>
        {
            var list = await keys.ListAsync(tenant, cancellationToken);
            if (list.Count == 0)
            {
                await output.WriteLineAsync($"No API keys{(tenant is null ? "" : $" for tenant {tenant}")} in {where}. Create one with: agentry keys create --tenant NAME --name WHO --roles submit,read");
                return ExitCodes.Completed;
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var key in list)
            {
                var state = key.RevokedAt is { } revoked ? $"revoked {revoked.ToString("u", CultureInfo.InvariantCulture)}"
                    : !key.IsActive(now) ? $"expired {key.ExpiresAt!.Value.ToString("u", CultureInfo.InvariantCulture)}"
                    : key.ExpiresAt is { } expires ? $"active until {expires.ToString("u", CultureInfo.InvariantCulture)}" : "active";
                await output.WriteLineAsync($"{key.Id}  {key.TenantId}  {key.Name}  roles {string.Join(",", key.Roles)}  {state}  created {key.CreatedAt.ToString("u", CultureInfo.InvariantCulture)} by {key.CreatedBy}");
            }

            return ExitCodes.Completed;
        });

    public static Task<int> RevokeAsync(string id, TextWriter output, TextWriter error, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null) =>
        WithStoreAsync(settings, async (keys, audit, _) =>
        {
            if (await keys.FindAsync(id, cancellationToken) is not { } key || !await keys.RevokeAsync(id, tenantId: null, DateTimeOffset.UtcNow, cancellationToken))
            {
                await error.WriteLineAsync($"No active key {id}: `agentry keys list` shows the keys.");
                return ExitCodes.BadInput;
            }

            await audit.AppendAsync(Entry(key.TenantId, "key.revoked", id, null), cancellationToken);
            await output.WriteLineAsync($"Revoked key {id}: the Gateway refuses it from its next request.");
            return ExitCodes.Completed;
        });

    /// An admin action of the CLI for the audit trail: the operator is whoever runs it, from here.
    private static AuditRecorded Entry(string tenant, string action, string target, string? detail) =>
        new(Guid.NewGuid(), tenant, DateTimeOffset.UtcNow, $"{Environment.UserName} (cli)", action, "cli", Target: target, Detail: detail);

    /// The key store and Memory's audit trail of this configuration, as the services would choose them.
    private static async Task<int> WithStoreAsync(IReadOnlyDictionary<string, string?>? settings, Func<IApiKeyStore, IAuditStore, string, Task<int>> command)
    {
        var builder = Commands.CreateBuilder(agentsPath: null, verbose: false, settings);
        builder.Services.AddApiKeyStore(builder.Configuration).AddMemory(builder.Configuration);
        using var host = builder.Build();
        var where = StoreConnections.Mongo(builder.Configuration) is { } mongodb
            ? $"MongoDB {string.Join(",", MongoUrl.Create(mongodb).Servers)}"
            : new SqliteConnectionStringBuilder(StoreConnections.Sqlite(builder.Configuration)).DataSource;
        return await command(host.Services.GetRequiredService<IApiKeyStore>(), host.Services.GetRequiredService<IAuditStore>(), where);
    }
}
