using System.Net;
using Agentry.McpTestServer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Agentry.Tests.ToolExecutor.Mcp;

public enum McpTransport
{
    Stdio,
    Http,
}

/// The MCP servers the tests talk to: tests/Agentry.McpTestServer started as a process over stdio,
/// or the same tools hosted over HTTP (streamable HTTP) in this process on a free loopback port.
public sealed class McpTestServer : IAsyncDisposable
{
    private WebApplication? _web;

    private McpTestServer(McpTransport transport, IDictionary<string, string?> settings, WebApplication? web)
    {
        Transport = transport;
        Settings = settings;
        _web = web;
    }

    public McpTransport Transport { get; }

    /// The Tools:Mcp:Servers:NAME settings that reach this server.
    public IDictionary<string, string?> Settings { get; }

    /// Port 0: any free port (HTTP only).
    public static async Task<McpTestServer> StartAsync(McpTransport transport, string name, int port = 0)
    {
        if (transport == McpTransport.Stdio)
        {
            return new McpTestServer(transport, StdioSettings(name, Path.Combine(AppContext.BaseDirectory, "Agentry.McpTestServer.dll")), null);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.AddMcpServer().WithHttpTransport().WithTools([typeof(TestTools)]);
        var web = builder.Build();
        web.MapMcp("/mcp");
        await web.StartAsync();
        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new McpTestServer(transport, HttpSettings(name, new Uri($"{address}/mcp")), web);
    }

    /// A stdio server: the dotnet host running the program.
    public static Dictionary<string, string?> StdioSettings(string name, string program) => new()
    {
        [$"Tools:Mcp:Servers:{name}:Command"] = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
        [$"Tools:Mcp:Servers:{name}:Args:0"] = program,
    };

    public static Dictionary<string, string?> HttpSettings(string name, Uri url) => new()
    {
        [$"Tools:Mcp:Servers:{name}:Url"] = url.ToString(),
    };

    /// Settings that reach nothing: a program that does not exist, or a loopback port nobody listens on.
    public static Dictionary<string, string?> DownSettings(McpTransport transport, string name) =>
        transport == McpTransport.Stdio
            ? new() { [$"Tools:Mcp:Servers:{name}:Command"] = Path.Combine(Path.GetTempPath(), $"agentry-no-such-mcp-server-{Guid.NewGuid():N}") }
            : HttpSettings(name, new Uri($"http://127.0.0.1:{FreePort()}/mcp"));

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_web is { } web)
        {
            _web = null;
            await web.StopAsync();
            await web.DisposeAsync();
        }
    }
}
