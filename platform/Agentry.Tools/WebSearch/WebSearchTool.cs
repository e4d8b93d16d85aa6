using System.Text;
using System.Text.Json;
using Agentry.Agents.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tools;

/// A web search service. None ships with Agentry: register an implementation in the ToolExecutor
/// (services.AddSingleton&lt;IWebSearchProvider, MyProvider&gt;()) and name it in
/// Tools:WebSearch:Provider; only then is web_search offered to agents.
public interface IWebSearchProvider
{
    string Name { get; }

    Task<IReadOnlyList<WebSearchResult>> SearchAsync(string query, int count, CancellationToken cancellationToken);
}

public sealed record WebSearchResult(string Title, Uri Url, string Snippet);

public sealed class WebSearchTool : ITool
{
    /// Offered only when a search provider is configured (ProviderKey).
    public static readonly ToolDescriptor Descriptor = new("web_search", "Searches the web and returns the top results (title, address and snippet).", ToolSchema.ClosedObject("""
        "query": { "type": "string", "minLength": 1, "maxLength": 400, "description": "What to search for." },
        "count": { "type": "integer", "minimum": 1, "maximum": 10, "description": "How many results, 5 when absent." }
        """, "query"));

    private readonly IWebSearchProvider _provider;

    public WebSearchTool(IEnumerable<IWebSearchProvider> providers, IConfiguration configuration)
    {
        var name = configuration[ProviderKey];
        var registered = providers.ToList();
        _provider = registered.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException(
                $"{ProviderKey} names the web search provider '{name}', but no IWebSearchProvider of that name is registered in the ToolExecutor (registered: [{string.Join(", ", registered.Select(p => p.Name))}]). Register one, or remove the setting to go without web_search.");
    }

    /// The setting that names the web search provider; web_search exists only when it is set.
    public const string ProviderKey = "Tools:WebSearch:Provider";

    public static ToolPack Pack { get; } = ToolPack.Of(
        [Descriptor], (services, _) => services.AddSingleton<ITool, WebSearchTool>(), offered: configuration => !string.IsNullOrWhiteSpace(configuration?[ProviderKey]));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var query = arguments.GetProperty("query").GetString()!;
        var count = arguments.TryGetProperty("count", out var c) ? c.GetInt32() : 5;
        var results = await _provider.SearchAsync(query, count, cancellationToken);
        if (results.Count == 0)
        {
            return $"No results for \"{query}\".";
        }

        var text = new StringBuilder();
        foreach (var (result, i) in results.Take(count).Select((r, i) => (r, i + 1)))
        {
            text.AppendLine($"{i}. {result.Title}").AppendLine($"   {result.Url}").AppendLine($"   {result.Snippet}");
        }

        return text.ToString().TrimEnd();
    }
}
