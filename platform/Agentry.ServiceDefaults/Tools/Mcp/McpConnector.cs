using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Agentry.ServiceDefaults.Tools.Mcp;

/// Opens a session with one configured MCP server: the transport follows the settings.
public static class McpConnector
{
    private static readonly McpClientOptions ClientOptions = new()
    {
        ClientInfo = new Implementation { Name = "agentry", Version = typeof(McpConnector).Assembly.GetName().Version?.ToString() ?? "1.0" },
    };

    public static async Task<McpClient> ConnectAsync(string name, McpServerOptions server, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        IClientTransport transport = server.Url is { } url
            ? new HttpClientTransport(new HttpClientTransportOptions
            {
                Name = name,
                Endpoint = url,
                TransportMode = HttpTransportMode.AutoDetect,
                AdditionalHeaders = server.HeadersFromEnvironment.ToDictionary(h => h.Key, h => Environment.GetEnvironmentVariable(h.Value) ?? ""),
            }, loggers)
            : new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = name,
                Command = server.Command!,
                Arguments = server.Args,
                WorkingDirectory = server.WorkingDirectory,
                EnvironmentVariables = server.Env.ToDictionary(e => e.Key, string? (e) => e.Value),
            }, loggers);
        return await McpClient.CreateAsync(transport, ClientOptions, loggers, cancellationToken);
    }
}
