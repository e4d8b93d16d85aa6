using System.Diagnostics;
using System.Globalization;
using System.Text;
using Agentry.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Agentry.Bench;

/// The knowledge base at size: ingest throughput (files on disk, through chunking, the offline
/// embedder and the embedded SQLite store, as `agentry kb ingest` does it) and retrieval time (the
/// hybrid retriever: BM25 plus exact cosine over every vector, fused), at each size.
///   dotnet run -c Release --project bench/Agentry.Bench -- --knowledge [--sizes 10000,100000] [--queries 300]
/// The text is synthetic: paragraphs of words drawn from a 20,000-word vocabulary with a Zipf
/// distribution (as natural language has), so that BM25's posting lists are as long as real ones.
public static class KnowledgeBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = (BenchArgs.Value(args, "--sizes") ?? "10000,100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var queries = int.Parse(BenchArgs.Value(args, "--queries") ?? "300", CultureInfo.InvariantCulture);
        var words = new Vocabulary(20_000, seed: 42);
        Console.WriteLine($"Agentry knowledge bench: {Environment.ProcessorCount} cores, offline embedder ({HashingEmbedder.DefaultDimensions} dimensions), SQLite, {queries} queries per size");
        var rows = new List<string>();
        foreach (var size in sizes)
        {
            rows.Add(await RunSizeAsync(size, queries, words, args.Contains("--breakdown")));
        }

        Console.WriteLine();
        Console.WriteLine("| chunks | ingest chunks/s | ingest MB/s | index build (s) | retrieval p50 (ms) | retrieval p99 (ms) | CPU per query (ms) | managed memory after (MB) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        return 0;
    }

    private static async Task<string> RunSizeAsync(int size, int queryCount, Vocabulary words, bool breakdown)
    {
        var folder = Directory.CreateTempSubdirectory("agentry-bench-kb-").FullName;
        try
        {
            // About 850 characters a paragraph, 20 paragraphs a file: a chunk of 1,000 holds about one paragraph.
            var random = new Random(size);
            var docs = Path.Combine(folder, "docs");
            Directory.CreateDirectory(docs);
            var files = Math.Max(1, size / 20);
            for (var f = 0; f < files; f++)
            {
                var text = new StringBuilder();
                for (var p = 0; p < 20; p++)
                {
                    text.Append(words.Paragraph(random, 850)).Append("\n\n");
                }

                await File.WriteAllTextAsync(Path.Combine(docs, $"doc{f:D6}.md"), text.ToString());
            }

            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:sqlite"] = $"Data Source={Path.Combine(folder, "kb.db")}",
            }).Build();
            var services = new ServiceCollection();
            services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
            services.AddSingleton<IConfiguration>(configuration);
            services.AddMemory(configuration);
            await using var provider = services.BuildServiceProvider();
            var knowledge = provider.GetRequiredService<KnowledgeBase>();
            var retriever = provider.GetRequiredService<IKnowledgeRetriever>();

            var summary = await knowledge.IngestAsync("bench", "kb", [docs], null, CancellationToken.None);
            var chunksPerSecond = summary.Chunks / summary.Elapsed.TotalSeconds;
            var megabytesPerSecond = summary.Bytes / 1_000_000.0 / summary.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {summary.Chunks} chunks ({summary.Bytes / 1_000_000.0:0.0} MB in {summary.Files} files): ingested in {summary.Elapsed.TotalSeconds:0.0} s, {chunksPerSecond:0} chunks/s, {megabytesPerSecond:0.00} MB/s"));

            // The first search builds the collection's index from the store; it is timed apart.
            var build = Stopwatch.StartNew();
            await retriever.RetrieveAsync("bench", ["kb"], words.Query(random), 5, CancellationToken.None);
            build.Stop();

            for (var i = 0; i < 20; i++)
            {
                await retriever.RetrieveAsync("bench", ["kb"], words.Query(random), 5, CancellationToken.None); // warm-up
            }

            var times = new List<double>(queryCount);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (var i = 0; i < queryCount; i++)
            {
                var query = words.Query(random);
                var started = Stopwatch.GetTimestamp();
                var found = await retriever.RetrieveAsync("bench", ["kb"], query, 5, CancellationToken.None);
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (found.Count == 0)
                {
                    throw new InvalidOperationException($"No passage found for '{query}': the bench would measure nothing.");
                }
            }

            // CPU time per query as well: on a loaded machine the wall-clock times include waiting for a core.
            var cpuPerQuery = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / queryCount;
            times.Sort();
            if (breakdown)
            {
                // The two halves apart, on an index built here from the same store.
                var index = new KnowledgeIndex(await provider.GetRequiredService<IKnowledgeStore>().ListChunksAsync("bench", "kb", CancellationToken.None), "x");
                var embedder = provider.GetRequiredService<ITextEmbedder>();
                var (lexical, semantic, embedding) = (TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
                for (var i = 0; i < queryCount; i++)
                {
                    var query = words.Query(random);
                    var t0 = Stopwatch.GetTimestamp();
                    index.Bm25(KnowledgeText.Terms(query), HybridRetriever.Candidates);
                    var t1 = Stopwatch.GetTimestamp();
                    var vector = (await embedder.EmbedAsync([query], CancellationToken.None))[0];
                    var t2 = Stopwatch.GetTimestamp();
                    index.Nearest(vector, HybridRetriever.Candidates);
                    lexical += Stopwatch.GetElapsedTime(t0, t1);
                    embedding += Stopwatch.GetElapsedTime(t1, t2);
                    semantic += Stopwatch.GetElapsedTime(t2);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  per query: BM25 {lexical.TotalMilliseconds / queryCount:0.00} ms, embedding the query {embedding.TotalMilliseconds / queryCount:0.00} ms, vector scan {semantic.TotalMilliseconds / queryCount:0.00} ms"));
            }

            var memory = GC.GetTotalMemory(forceFullCollection: true) / 1_000_000.0;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  index built in {build.Elapsed.TotalSeconds:0.00} s; retrieval p50 {P(times, 50):0.00} ms, p99 {P(times, 99):0.00} ms, CPU {cpuPerQuery:0.00} ms per query"));
            return string.Create(CultureInfo.InvariantCulture,
                $"| {summary.Chunks:N0} | {chunksPerSecond:0} | {megabytesPerSecond:0.00} | {build.Elapsed.TotalSeconds:0.00} | {P(times, 50):0.00} | {P(times, 99):0.00} | {cpuPerQuery:0.00} | {memory:0} |");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double P(List<double> sorted, int percentile) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];

    /// Made-up words from syllables, drawn by Zipf's law (the word of rank r with weight 1/r).
    private sealed class Vocabulary
    {
        private static readonly string[] Syllables = ["ka", "lo", "mi", "ser", "ta", "vin", "dor", "pe", "lu", "ran", "so", "gi", "bel", "mun", "tri", "os", "fa", "ne", "qui", "zo"];
        private readonly string[] _words;
        private readonly double[] _cumulative;

        public Vocabulary(int size, int seed)
        {
            var random = new Random(seed);
            var words = new HashSet<string>(StringComparer.Ordinal);
            while (words.Count < size)
            {
                var word = string.Concat(Enumerable.Range(0, random.Next(1, 5)).Select(_ => Syllables[random.Next(Syllables.Length)]));
                words.Add(word);
            }

            _words = [.. words];
            _cumulative = new double[size];
            var total = 0.0;
            for (var r = 0; r < size; r++)
            {
                total += 1.0 / (r + 1);
                _cumulative[r] = total;
            }

            for (var r = 0; r < size; r++)
            {
                _cumulative[r] /= total;
            }
        }

        public string Word(Random random)
        {
            var at = Array.BinarySearch(_cumulative, random.NextDouble());
            return _words[Math.Min(_words.Length - 1, at >= 0 ? at : ~at)];
        }

        public string Paragraph(Random random, int characters)
        {
            var text = new StringBuilder();
            while (text.Length < characters)
            {
                var sentence = string.Join(" ", Enumerable.Range(0, random.Next(6, 16)).Select(_ => Word(random)));
                text.Append(char.ToUpperInvariant(sentence[0])).Append(sentence.AsSpan(1)).Append(". ");
            }

            return text.ToString().TrimEnd();
        }

        /// A question of three to six words, as a user would type it.
        public string Query(Random random) => string.Join(" ", Enumerable.Range(0, random.Next(3, 7)).Select(_ => Word(random)));
    }
}
