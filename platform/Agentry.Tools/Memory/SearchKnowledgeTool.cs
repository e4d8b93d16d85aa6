using System.Globalization;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;

namespace Agentry.Tools;

/// Searches the agent's knowledge collections. The store belongs to Memory, so the search is a
/// request to it over the bus (SearchKnowledge, answered with KnowledgeFound), in one process or
/// across a deployment alike. Only the collections the agent lists under memory.knowledge are read.
/// The passages come back as data with "[source, passage N]" to cite; the context wraps them as
/// untrusted tool output like any other. Refusals and missing collections are the agent's or the
/// deployment's doing, not the tool's health, so they do not count towards its circuit breaker;
/// Memory not answering in time does.
public sealed class SearchKnowledgeTool(IServiceProvider services) : ITool
{
    /// Reads only the collections the agent lists under memory.knowledge.
    public static readonly ToolDescriptor Descriptor = new("search_knowledge", "Searches the agent's knowledge base (documents ingested with agentry kb ingest) and returns the passages that best answer the query, each with its source and passage number to cite.", ToolSchema.ClosedObject("""
        "query": { "type": "string", "minLength": 1, "maxLength": 1000, "description": "What to look for: a question or keywords." },
        "collection": { "type": "string", "minLength": 1, "maxLength": 64, "description": "One of the agent's knowledge collections; all of them when absent." },
        "limit": { "type": "integer", "minimum": 1, "maximum": 10, "description": "How many passages, 5 when absent." }
        """, "query"));

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var allowed = MemoryTools.AgentOf(services, invocation)?.Memory.Knowledge ?? [];
        if (allowed.Count == 0)
        {
            throw new ToolException(ToolErrorKind.PermissionDenied,
                $"Agent '{invocation.Agent}' has no knowledge collections: list them in its definition under memory: knowledge: [NAME].", causedByCaller: true);
        }

        IReadOnlyList<string> collections = allowed;
        if (arguments.TryGetProperty("collection", out var named) && named.GetString() is { } collection)
        {
            if (!allowed.Contains(collection, StringComparer.Ordinal))
            {
                throw new ToolException(ToolErrorKind.PermissionDenied,
                    $"Agent '{invocation.Agent}' may not read the knowledge collection '{collection}'; it may read: {string.Join(", ", allowed)}.", causedByCaller: true);
            }

            collections = [collection];
        }

        var query = arguments.GetProperty("query").GetString()!;
        var limit = arguments.TryGetProperty("limit", out var l) ? l.GetInt32() : 5;
        var found = await MemoryTools.AskAsync<SearchKnowledge, KnowledgeFound>(
            services, new SearchKnowledge(invocation.RunId, invocation.TenantId, invocation.Agent, query, collections, limit), Timeout, cancellationToken);
        if (found.Error is { } error)
        {
            throw new ToolException(ToolErrorKind.Failed, error, causedByCaller: true);
        }

        if (found.MissingCollections.Count == collections.Count)
        {
            throw new ToolException(ToolErrorKind.Failed,
                $"The knowledge collection{(collections.Count == 1 ? "" : "s")} {string.Join(", ", collections.Select(c => $"'{c}'"))} {(collections.Count == 1 ? "has" : "have")} no documents for this tenant: ingest some with agentry kb ingest {collections[0]} PATH.", causedByCaller: true);
        }

        return Format(query, found);
    }

    /// One passage per block, best first, each opened by its citation.
    public static string Format(string query, KnowledgeFound found)
    {
        var text = new StringBuilder();
        if (found.Passages.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"No passage of the knowledge base matches \"{query}\".");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"{found.Passages.Count} passage{(found.Passages.Count == 1 ? "" : "s")} for \"{query}\", best first. Cite them as shown in brackets.");
            foreach (var passage in found.Passages)
            {
                text.Append("\n\n").Append(Citation(passage)).Append('\n').Append(passage.Text);
            }
        }

        if (found.MissingCollections.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n\n(Not searched, no documents ingested: {string.Join(", ", found.MissingCollections)}.)");
        }

        return text.ToString();
    }

    /// The passage number counts from 1 for people; Position counts from 0.
    public static string Citation(KnowledgePassage passage) =>
        Agentry.Agents.Knowledge.KnowledgeCitation.Of(passage.Source, passage.Position);
}
