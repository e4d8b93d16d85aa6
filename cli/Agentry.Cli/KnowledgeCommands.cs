using System.Globalization;
using Agentry.Memory;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MongoDB.Driver;

namespace Agentry.Cli;

/// `agentry kb ...`: the knowledge base, written where Memory keeps it (the embedded SQLite file, or
/// MongoDB when ConnectionStrings:mongodb is set), through the same registration as the service.
public static class KnowledgeCommands
{
    public static Task<int> IngestAsync(string collection, IReadOnlyList<string> paths, string tenant, TextWriter output, TextWriter error, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? settings = null) =>
        WithKnowledgeBaseAsync(settings, output, error, async (knowledge, where) =>
        {
            await output.WriteLineAsync($"Ingesting into '{collection}' (tenant {tenant}) in {where}, embedder {knowledge.EmbedderName}");
            var progress = new SynchronousProgress<IngestProgress>(p => output.WriteLine(
                p.Chunks == 0 ? $"  [{p.FilesDone}/{p.FilesTotal}] {p.Source}: skipped (empty)" : $"  [{p.FilesDone}/{p.FilesTotal}] {p.Source}: {p.Chunks} chunk{(p.Chunks == 1 ? "" : "s")}"));
            var summary = await knowledge.IngestAsync(tenant, collection, paths, progress, cancellationToken);
            foreach (var skipped in summary.Skipped.Where(s => !s.EndsWith(": empty", StringComparison.Ordinal)))
            {
                await output.WriteLineAsync($"  skipped {skipped}");
            }

            var seconds = Math.Max(summary.Elapsed.TotalSeconds, 0.001);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Ingested {summary.Files} file{(summary.Files == 1 ? "" : "s")}, {summary.Chunks} chunks, {summary.Bytes / 1024.0:0.#} KB in {summary.Elapsed.TotalSeconds:0.00} s ({summary.Chunks / seconds:0} chunks/s); {summary.Skipped.Count} skipped."));
            if (summary.Files == 0)
            {
                await error.WriteLineAsync($"Nothing was ingested: no non-empty {string.Join(", ", KnowledgeBase.Extensions)} file under {string.Join(", ", paths)}.");
                return ExitCodes.BadInput;
            }

            return ExitCodes.Completed;
        });

    public static Task<int> SearchAsync(string collection, string query, int limit, string tenant, TextWriter output, TextWriter error, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? settings = null) =>
        WithKnowledgeBaseAsync(settings, output, error, async (knowledge, _) =>
        {
            var passages = await knowledge.SearchAsync(tenant, collection, query, limit, cancellationToken);
            if (passages.Count == 0)
            {
                await output.WriteLineAsync($"Nothing in '{collection}' matches \"{query}\".");
                return ExitCodes.NotCompleted;
            }

            for (var i = 0; i < passages.Count; i++)
            {
                var p = passages[i];
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{i + 1}. [{p.Source}, passage {p.Position + 1}] score {p.Score:0.0000}"));
                foreach (var line in p.Text.Split('\n'))
                {
                    await output.WriteLineAsync("   " + line);
                }

                await output.WriteLineAsync();
            }

            return ExitCodes.Completed;
        });

    public static Task<int> ListAsync(string tenant, TextWriter output, TextWriter error, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null) =>
        WithKnowledgeBaseAsync(settings, output, error, async (knowledge, where) =>
        {
            var collections = await knowledge.ListAsync(tenant, cancellationToken);
            if (collections.Count == 0)
            {
                await output.WriteLineAsync($"No knowledge collections for tenant {tenant} in {where}. Create one with: agentry kb ingest NAME PATH...");
                return ExitCodes.Completed;
            }

            foreach (var c in collections)
            {
                await output.WriteLineAsync($"{c.Name}  {c.Chunks} chunks  embedder {c.Embedder} ({c.Dimensions} dimensions)");
            }

            return ExitCodes.Completed;
        });

    public static Task<int> DeleteAsync(string collection, string tenant, TextWriter output, TextWriter error, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null) =>
        WithKnowledgeBaseAsync(settings, output, error, async (knowledge, _) =>
        {
            var deleted = await knowledge.DeleteAsync(tenant, collection, cancellationToken);
            await output.WriteLineAsync($"Deleted the collection '{collection}' ({deleted} chunks).");
            return ExitCodes.Completed;
        });

    private static async Task<int> WithKnowledgeBaseAsync(
        IReadOnlyDictionary<string, string?>? settings, TextWriter output, TextWriter error, Func<KnowledgeBase, string, Task<int>> command)
    {
        var builder = Commands.CreateBuilder(agentsPath: null, verbose: false, settings);
        builder.Services.AddMemory(builder.Configuration);
        try
        {
            using var host = builder.Build();
            var knowledge = host.Services.GetRequiredService<KnowledgeBase>();
            var where = builder.Configuration.GetConnectionString(MongoMemoryDatabase.ConnectionName) is { Length: > 0 } mongodb
                ? $"MongoDB {string.Join(",", MongoUrl.Create(mongodb).Servers)}"
                : new SqliteConnectionStringBuilder(host.Services.GetRequiredService<IOptions<MemoryOptions>>().Value.SqliteConnectionString).DataSource;
            return await command(knowledge, where);
        }
        catch (KnowledgeInputException e)
        {
            await error.WriteLineAsync(e.Message);
            return ExitCodes.BadInput;
        }
        catch (InvalidOperationException e) when (e.Message.Contains("Llm:", StringComparison.Ordinal))
        {
            // A bad embeddings configuration, found when the embedder is built.
            await error.WriteLineAsync(e.Message);
            return ExitCodes.BadInput;
        }
    }

    /// Progress<T> posts to the thread pool, so lines could print after the summary; this reports in order.
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
