using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Security;

/// Once the server has bound its addresses: a Gateway without authentication on any address but
/// loopback does not start; one that nobody can call says so.
public sealed partial class GatewayStartCheck(IServer server, IOptions<GatewayOptions> options, IApiKeyStore keys, ILogger<GatewayStartCheck> logger) : IHostedLifecycleService
{
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        if (options.Value.AuthDisabled)
        {
            if (ExposedWithoutAuth(addresses) is { } refusal)
            {
                throw new GatewayConfigurationException(refusal);
            }

            LogAuthOff(logger, string.Join(", ", addresses));
        }
        else if (!options.Value.Jwt.Enabled && (await keys.ListAsync(null, cancellationToken)).All(key => key.RevokedAt is not null))
        {
            LogNobodyCanCall(logger);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// Why a Gateway without authentication must not listen on these addresses, or null when all are loopback.
    public static string? ExposedWithoutAuth(IEnumerable<string> addresses) =>
        addresses.Where(address => !IsLoopback(address)).ToList() is { Count: > 0 } exposed
            ? $"The Gateway refuses to start: authentication is off (Gateway:AuthDisabled, `agentry serve --no-auth`) and it would listen on {string.Join(", ", exposed)}, which is not loopback. "
              + "Listen on 127.0.0.1 only (--urls http://127.0.0.1:5080), or leave authentication on and create a key: agentry keys create --tenant <tenant> --name <who> --roles submit,read."
            : null;

    private static bool IsLoopback(string address)
    {
        var host = BindingAddress.Parse(address).Host;
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authentication is OFF: every request from this machine acts as the default tenant with every role. Listening on {Addresses} (loopback only).")]
    private static partial void LogAuthOff(ILogger logger, string addresses);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No active API key exists and bearer tokens are not configured (Gateway:Jwt): every request will be refused with 401. Create a key: agentry keys create --tenant <tenant> --name <who> --roles submit,read")]
    private static partial void LogNobodyCanCall(ILogger logger);
}
