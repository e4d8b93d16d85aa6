using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Mcp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Agentry.Tools;

/// One tool of an MCP server, run through the server's session. Permissions, argument validation
/// (against the server's own schema), the time limit, the breaker, the output cap and the
/// untrusted-data wrapping are the ones every tool gets in ExecuteStepConsumer and ToolCallGuard.
public sealed class McpTool(McpToolBinding binding, McpSessions sessions) : ITool
{
    public string Name => binding.Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var values = arguments.ValueKind == JsonValueKind.Object
            ? arguments.EnumerateObject().ToDictionary(p => p.Name, object? (p) => p.Value.Clone(), StringComparer.Ordinal)
            : [];
        var result = await sessions.CallAsync(binding.Server, binding.Tool, values, cancellationToken);
        var text = Text(result);
        return result.IsError is true
            // The server ran the tool and reported a failure of what was asked: the model should hear
            // it, and it says nothing about the server's health.
            ? throw new ToolException(ToolErrorKind.Failed, $"{binding.Server}/{binding.Tool} reported an error: {(text.Length > 0 ? text : "(no details)")}", causedByCaller: true)
            : text;
    }

    /// The text blocks in order; other content is named, not inlined; structured content when that is all there is.
    private static string Text(CallToolResult result)
    {
        var text = new StringBuilder();
        foreach (var block in result.Content)
        {
            if (text.Length > 0)
            {
                text.AppendLine();
            }

            text.Append(block switch
            {
                TextContentBlock t => t.Text,
                ImageContentBlock i => $"[image, {i.MimeType}]",
                AudioContentBlock a => $"[audio, {a.MimeType}]",
                EmbeddedResourceBlock r => r.Resource is TextResourceContents rt ? rt.Text : $"[resource {r.Resource.Uri}]",
                ResourceLinkBlock l => $"[resource link {l.Uri}]",
                _ => $"[{block.Type} content]",
            });
        }

        return text.Length == 0 && result.StructuredContent is { } structured ? structured.ToString() : text.ToString();
    }

    /// One implementation per MCP tool this process listed at start. The sessions are only created
    /// when there are MCP tools, so a process without them holds nothing to close.
    public static IEnumerable<ITool> All(IServiceProvider services) =>
        services.GetService<McpTools>() is { Bindings.Count: > 0 } tools
            ? tools.Bindings.Select(b => new McpTool(b, services.GetRequiredService<McpSessions>())).ToList()
            : [];
}

/// The ToolExecutor's sessions with the MCP servers: opened on first use, shared by all calls, and
/// opened again after the server went away, so a restarted server is used again without a restart here.
public sealed partial class McpSessions(IConfiguration configuration, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly McpOptions _options = McpTools.Options(configuration);
    private readonly ConcurrentDictionary<string, Lazy<Task<McpClient>>> _sessions = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggers.CreateLogger<McpSessions>();

    public async Task<CallToolResult> CallAsync(string server, string tool, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        var session = _sessions.GetOrAdd(server, name => new Lazy<Task<McpClient>>(() => ConnectAsync(name)));
        McpClient client;
        try
        {
            client = await session.Value.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Forget(server, session);
            throw Unavailable(server, e);
        }

        try
        {
            return await client.CallToolAsync(tool, arguments, cancellationToken: cancellationToken);
        }
        catch (McpProtocolException e)
        {
            // A JSON-RPC error: the server is up but refused the request (an unknown tool, bad arguments).
            throw new ToolException(ToolErrorKind.Failed, $"The MCP server '{server}' refused the call to {tool}: {e.Message}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The session broke (the process exited, the connection dropped): open a new one next time.
            Forget(server, session);
            throw Unavailable(server, e);
        }
    }

    private async Task<McpClient> ConnectAsync(string server)
    {
        if (!_options.Servers.TryGetValue(server, out var settings))
        {
            throw new InvalidOperationException($"no server named '{server}' is configured in {McpOptions.Section}:Servers");
        }

        // Not the caller's token: the session outlives the call that happened to open it.
        using var limit = new CancellationTokenSource(_options.ListTimeout);
        var client = await McpConnector.ConnectAsync(server, settings, loggers, limit.Token);
        LogConnected(_logger, server);
        return client;
    }

    private void Forget(string server, Lazy<Task<McpClient>> session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, Lazy<Task<McpClient>>>(server, session)) && session.IsValueCreated && session.Value.IsCompletedSuccessfully)
        {
            _ = session.Value.Result.DisposeAsync().AsTask();
        }
    }

    private ToolException Unavailable(string server, Exception e)
    {
        LogUnavailable(_logger, server, e);
        return new ToolException(ToolErrorKind.Failed, $"The MCP server '{server}' is unavailable: {e.Message}. The ToolExecutor connects to it again on the next call.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions.Values.Where(s => s.IsValueCreated))
        {
            try
            {
                await (await session.Value).DisposeAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A session that never opened has nothing to close.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to MCP server {Server}.")]
    private static partial void LogConnected(ILogger logger, string server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {Server} is unavailable.")]
    private static partial void LogUnavailable(ILogger logger, string server, Exception exception);
}
