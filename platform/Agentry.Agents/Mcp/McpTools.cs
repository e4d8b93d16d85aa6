using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;

using Agentry.Agents.Tools;

namespace Agentry.Agents.Mcp;

/// An MCP server's tool under its Agentry name (mcp_SERVER_TOOL).
public sealed record McpToolBinding(string Server, string Tool, ToolDescriptor Descriptor);

/// The tools of the configured MCP servers, listed once when the process starts, so that the agent
/// loader, the Planner (which offers their schemas to the model) and the ToolExecutor (which calls
/// them) agree in every process. A server that cannot be listed is logged and left out: the process
/// still starts, but an agent that lists one of its tools does not load (see docs/tools.md).
public sealed partial class McpTools
{
    public const string Prefix = "mcp_";

    /// The longest name a model accepts for a function is 64 characters; the Planner's plugin prefix ("tools-") is part of it.
    public const int MaxNameLength = 58;

    private McpTools(IReadOnlyList<McpToolBinding> bindings, IReadOnlyDictionary<string, string> unavailable)
    {
        Bindings = bindings;
        Unavailable = unavailable;
    }

    public static McpTools None { get; } = new([], new Dictionary<string, string>());

    public IReadOnlyList<McpToolBinding> Bindings { get; }

    /// Servers that could not be listed, with the reason.
    public IReadOnlyDictionary<string, string> Unavailable { get; }

    public IEnumerable<ToolDescriptor> Descriptors => Bindings.Select(b => b.Descriptor);

    public McpToolBinding? Find(string name) => Bindings.FirstOrDefault(b => b.Descriptor.Name == name);

    /// The Agentry name of a server's tool: characters a model does not accept in a function name become underscores.
    public static string NameOf(string server, string tool) => $"{Prefix}{server}_{NotAllowed().Replace(tool, "_")}";

    /// Reads the servers from configuration; a bad setting stops the process with a sentence saying which and why.
    public static McpOptions Options(IConfiguration configuration)
    {
        var options = configuration.GetSection(McpOptions.Section).Get<McpOptions>() ?? new McpOptions();
        var problems = options.Servers.Select(s => s.Value.Problem(s.Key)).OfType<string>().ToList();
        return problems.Count > 0
            ? throw new InvalidOperationException($"The MCP server settings are not usable: {string.Join(" ", problems)}")
            : options;
    }

    /// Lists every configured server's tools, all servers at once. No servers, no work.
    public static async Task<McpTools> ListAsync(McpOptions options, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        if (options.Servers.Count == 0)
        {
            return None;
        }

        loggers ??= NullLoggerFactory.Instance;
        var logger = loggers.CreateLogger<McpTools>();
        var listed = await Task.WhenAll(options.Servers.OrderBy(s => s.Key, StringComparer.Ordinal).Select(async server =>
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(options.ListTimeout);
            try
            {
                await using var client = await McpConnector.ConnectAsync(server.Key, server.Value, loggers, limit.Token);
                var tools = await client.ListToolsAsync(cancellationToken: limit.Token);
                return (server.Key, Tools: tools.Select(t => Bind(server.Key, t)).ToList(), Error: (string?)null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var reason = e is OperationCanceledException ? $"it did not answer within {options.ListTimeout.TotalSeconds:0.#}s" : e.Message;
                LogServerUnavailable(logger, server.Key, reason, e);
                return (server.Key, Tools: new List<McpToolBinding>(), Error: reason);
            }
        }));

        var bindings = listed.SelectMany(l => l.Tools).ToList();
        var clashes = bindings.GroupBy(b => b.Descriptor.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"{g.Key} ({string.Join(", ", g.Select(b => $"{b.Server}/{b.Tool}"))})").ToList();
        if (clashes.Count > 0)
        {
            throw new InvalidOperationException($"Two MCP tools get the same Agentry name once their names are made acceptable to models: {string.Join("; ", clashes)}. Rename one of the tools on its server.");
        }

        var tooLong = bindings.Where(b => b.Descriptor.Name.Length > MaxNameLength).Select(b => b.Descriptor.Name).ToList();
        if (tooLong.Count > 0)
        {
            throw new InvalidOperationException($"These MCP tool names are longer than the {MaxNameLength} characters models accept: {string.Join(", ", tooLong)}. Give the server a shorter name in {McpOptions.Section}:Servers.");
        }

        foreach (var (server, tools, error) in listed.Where(l => l.Error is null))
        {
            LogServerListed(logger, server, tools.Count, string.Join(", ", tools.Select(t => t.Descriptor.Name)));
        }

        return new McpTools(bindings, listed.Where(l => l.Error is not null).ToDictionary(l => l.Key, l => l.Error!, StringComparer.Ordinal));
    }

    /// For a DI factory, which cannot await: runs the listing off the caller's context and waits once,
    /// at start, so every process has its MCP tools before its agents are loaded.
    public static McpTools ListAtStart(IConfiguration configuration, ILoggerFactory? loggers)
    {
        var options = Options(configuration);
        return options.Servers.Count == 0 ? None : Task.Run(() => ListAsync(options, loggers, CancellationToken.None)).GetAwaiter().GetResult();
    }

    private static McpToolBinding Bind(string server, McpClientTool tool)
    {
        var protocol = tool.ProtocolTool;
        var name = NameOf(server, protocol.Name);
        var description = new StringBuilder(protocol.Description ?? protocol.Title ?? protocol.Name);
        description.Append($" (tool '{protocol.Name}' of the MCP server '{server}')");
        // Read-only by the server's own word; anything else may change the world and is never run twice.
        var sideEffects = protocol.Annotations?.ReadOnlyHint is not true;
        return new McpToolBinding(server, protocol.Name, new ToolDescriptor(name, description.ToString(), Schema(protocol.InputSchema), sideEffects));
    }

    /// MCP servers send draft-07 or 2020-12 object schemas, sometimes without "type": the validator
    /// and the model both want an object schema.
    private static string Schema(JsonElement input) =>
        input.ValueKind == JsonValueKind.Object ? input.GetRawText() : """{ "type": "object" }""";

    [GeneratedRegex("[^A-Za-z0-9_]")]
    private static partial Regex NotAllowed();

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {Server} could not be listed at start ({Reason}): its tools are not offered, and an agent that lists one of them does not load.")]
    private static partial void LogServerUnavailable(ILogger logger, string server, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "MCP server {Server} offers {Count} tool(s): {Tools}.")]
    private static partial void LogServerListed(ILogger logger, string server, int count, string tools);
}
