using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Agentry.Tools;

namespace Agentry.Samples.MarketResearch;

/// Publishes the report on the sample team wiki. A page is one slug (market-report-2026-12-07):
/// publishing it again replaces it, and the same content twice (a redelivered call, a rerun of the
/// day) leaves its revision as it was. Every citation must name a source the market tools returned
/// and appear in the text, so a page never cites something nobody can check.
public sealed class PublishWikiPageTool(MarketData data, TimeProvider clock) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("publish_wiki_page", "Publishes (or replaces) a page of the team wiki. Cite sources in the body by their ids in brackets, e.g. [N-2041], and list every id cited under citations; list each anomaly found under anomalies.", ToolSchema.ClosedObject("""
        "slug": { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 80, "description": "The page's name in the wiki, for example market-report-2026-12-07." },
        "title": { "type": "string", "minLength": 1, "maxLength": 200 },
        "body": { "type": "string", "minLength": 1, "maxLength": 20000, "description": "The page in Markdown, citing sources by id." },
        "citations": { "type": "array", "minItems": 1, "maxItems": 50, "uniqueItems": true, "items": { "type": "string", "maxLength": 40 }, "description": "Every source id the body cites." },
        "anomalies": { "type": "array", "maxItems": 20, "items": { "type": "string", "minLength": 1, "maxLength": 500 }, "description": "Each anomaly, one sentence with its source ids: an unusual price move, a filing that contradicts the news, ..." }
        """, "slug", "title", "body", "citations"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var slug = arguments.GetProperty("slug").GetString()!;
        var body = arguments.GetProperty("body").GetString()!;
        var citations = arguments.GetProperty("citations").EnumerateArray().Select(c => c.GetString()!).ToList();
        var anomalies = arguments.TryGetProperty("anomalies", out var a) ? a.EnumerateArray().Select(x => x.GetString()!).ToList() : [];

        await using var connection = await data.OpenAsync(cancellationToken);
        if (await MarketData.UnknownSourcesAsync(connection, citations, cancellationToken) is [_, ..] unknown)
        {
            throw new ToolException(ToolErrorKind.Failed,
                $"No source has the id {string.Join(", ", unknown)}: cite only the ids that market_news, market_filings and market_prices returned. Nothing was published.", causedByCaller: true);
        }

        if (citations.Where(c => !body.Contains(c, StringComparison.Ordinal)).ToList() is [_, ..] uncited)
        {
            throw new ToolException(ToolErrorKind.Failed,
                $"The body never cites {string.Join(", ", uncited)}: cite each listed source where it is used, e.g. [{uncited[0]}], or leave it out of citations. Nothing was published.", causedByCaller: true);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO wiki_pages (slug, title, body, citations, anomalies, revision, run_id, call_id, published_at)
            VALUES ($slug, $title, $body, $citations, $anomalies, 1, $run, $call, $at)
            ON CONFLICT (slug) DO UPDATE SET title = excluded.title, body = excluded.body, citations = excluded.citations,
              anomalies = excluded.anomalies, revision = revision + 1, run_id = excluded.run_id, call_id = excluded.call_id,
              published_at = excluded.published_at
            WHERE (title, body, citations, anomalies) IS NOT (excluded.title, excluded.body, excluded.citations, excluded.anomalies);
            SELECT revision FROM wiki_pages WHERE slug = $slug;
            """;
        command.Parameters.AddWithValue("$slug", slug);
        command.Parameters.AddWithValue("$title", arguments.GetProperty("title").GetString()!);
        command.Parameters.AddWithValue("$body", body);
        command.Parameters.AddWithValue("$citations", JsonSerializer.Serialize(citations));
        command.Parameters.AddWithValue("$anomalies", JsonSerializer.Serialize(anomalies));
        command.Parameters.AddWithValue("$run", invocation.RunId.ToString());
        command.Parameters.AddWithValue("$call", invocation.CallId);
        command.Parameters.AddWithValue("$at", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        var revision = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return $"Published the wiki page {slug} (revision {revision}) with {citations.Count} citation(s) and {anomalies.Count} anomaly(ies).";
    }
}
