using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

/// Answers the search_knowledge tool, which runs in the ToolExecutor: the knowledge store is Memory's.
/// A search that cannot be made (a collection built by another embedder) is answered with the reason,
/// so that the tool reports it instead of timing out.
public sealed class SearchKnowledgeConsumer(IKnowledgeStore store, IKnowledgeRetriever retriever) : IConsumer<SearchKnowledge>
{
    public async Task Consume(ConsumeContext<SearchKnowledge> context)
    {
        var request = context.Message;
        var missing = new List<string>();
        var present = new List<string>();
        foreach (var collection in request.Collections.Distinct(StringComparer.Ordinal))
        {
            (await store.GetCollectionAsync(request.TenantId, collection, context.CancellationToken) is null ? missing : present).Add(collection);
        }

        IReadOnlyList<RetrievedPassage> passages = [];
        string? error = null;
        if (present.Count > 0)
        {
            try
            {
                passages = await retriever.RetrieveAsync(request.TenantId, present, request.Query, Math.Clamp(request.Limit, 1, 20), context.CancellationToken);
            }
            catch (EmbedderMismatchException e)
            {
                error = e.Message;
            }
        }

        await context.RespondAsync(new KnowledgeFound(
            request.RunId,
            request.TenantId,
            passages.Select(p => new KnowledgePassage(p.Collection, p.Source, p.Position, p.Text, p.Score)).ToList(),
            missing,
            error));
    }
}
