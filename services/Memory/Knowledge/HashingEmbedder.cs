namespace Agentry.Memory;

/// The offline embedder: no model, no network. A text becomes a bag of features (its words, pairs of
/// adjacent words and the three-letter pieces of each word) hashed into a fixed number of signed
/// buckets (the "hashing trick"), weighted by the log of their counts and scaled to length 1.
/// Texts that share words and word pieces come out close; it knows nothing of synonyms, which is
/// what a configured embedding model adds. Deterministic across processes and platforms (FNV-1a,
/// not string.GetHashCode, which is randomised per process).
public sealed class HashingEmbedder(int dimensions = HashingEmbedder.DefaultDimensions) : ITextEmbedder
{
    public const int DefaultDimensions = 384;

    public string Name => $"agentry-hashed-ngrams-v1-{dimensions}";

    public int Dimensions => dimensions;

    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<float[]>>(texts.Select(Embed).ToList());

    public float[] Embed(string text)
    {
        var vector = new float[dimensions];
        var counts = new Dictionary<(ulong Hash, int Kind), int>();
        void Count(ulong hash, int kind) => counts[(hash, kind)] = counts.GetValueOrDefault((hash, kind)) + 1;

        var words = KnowledgeText.Terms(text);
        for (var i = 0; i < words.Count; i++)
        {
            Count(Hash(words[i], 1), 0);
            if (i > 0)
            {
                Count(Hash(words[i - 1] + " " + words[i], 2), 1);
            }

            var padded = $"<{words[i]}>";
            for (var j = 0; j + 3 <= padded.Length; j++)
            {
                Count(Hash(padded.AsSpan(j, 3), 3), 2);
            }
        }

        foreach (var ((hash, kind), count) in counts)
        {
            var weight = Weights[kind] * (1 + MathF.Log(count));
            var bucket = (int)(hash % (ulong)dimensions);
            vector[bucket] += (hash >> 63) == 0 ? weight : -weight;
        }

        return Vectors.Normalize(vector);
    }

    // Whole words say the most; pairs add word order; pieces catch other forms of the same word.
    private static readonly float[] Weights = [1.0f, 0.6f, 0.25f];

    private static ulong Hash(ReadOnlySpan<char> text, ulong seed)
    {
        var hash = 14695981039346656037UL ^ (seed * 1099511628211UL);
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        // FNV's low bits mix poorly for short inputs: fold the high half in before taking a bucket.
        return hash ^ (hash >> 29);
    }
}
