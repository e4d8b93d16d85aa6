using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

using Agentry.Agents.Tools;

namespace Agentry.Agents.Mcp;

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
                InheritEnvironmentVariables = server.InheritEnvironment,
                EnvironmentVariables = ServerEnvironment(server),
            }, loggers);
        return await McpClient.CreateAsync(transport, ClientOptions, loggers, cancellationToken);
    }

    /// A server program is someone else's code: it does not get this process's secrets unless asked.
    private static Dictionary<string, string?> ServerEnvironment(McpServerOptions server)
    {
        Dictionary<string, string?> variables = server.InheritEnvironment ? [] : StdioClientTransportOptions.GetDefaultEnvironmentVariables();
        foreach (var (name, value) in server.Env)
        {
            variables[name] = value;
        }

        return variables;
    }
}
