using System.Numerics;

namespace Agentry.Memory;

/// One collection held in memory for search: an inverted index of its chunks' terms for BM25 and
/// its chunks' vectors in one contiguous array for exact cosine search. Built once per version of
/// the collection (HybridRetriever caches it); read-only afterwards, so searches need no locks.
/// Exact search over every vector is linear in the collection, and fast enough for the sizes a
/// per-tenant knowledge base reaches (see docs/performance.md) without an approximate index.
public sealed class KnowledgeIndex
{
    // BM25's usual constants: term-frequency saturation and length normalisation.
    private const float K1 = 1.2f;
    private const float B = 0.75f;

    private readonly Dictionary<string, (int[] Docs, float[] Counts)> _postings;
    private readonly float[] _lengths;
    private readonly float _averageLength;
    // The vectors quantised to 8 bits (each scaled so its largest component is ±127), with each one's
    // scale: a quarter of the memory of floats, and the scan, which reads them all, is bound by memory
    // bandwidth. Ranking by the quantised cosine differs from the exact one only between near-ties.
    private readonly sbyte[]? _vectors;
    private readonly float[]? _scales;

    public KnowledgeIndex(IReadOnlyList<KnowledgeChunk> chunks, string version)
    {
        Version = version;
        Chunks = chunks.Select(c => c with { Embedding = null }).ToArray();
        _lengths = new float[chunks.Count];
        var building = new Dictionary<string, (List<int> Docs, List<float> Counts)>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var doc = 0; doc < chunks.Count; doc++)
        {
            var terms = KnowledgeText.Terms(chunks[doc].Text);
            _lengths[doc] = terms.Count;
            counts.Clear();
            foreach (var term in terms)
            {
                counts[term] = counts.GetValueOrDefault(term) + 1;
            }

            foreach (var (term, count) in counts)
            {
                if (!building.TryGetValue(term, out var postings))
                {
                    building[term] = postings = ([], []);
                }

                postings.Docs.Add(doc);
                postings.Counts.Add(count);
            }
        }

        _postings = building.ToDictionary(p => p.Key, p => (p.Value.Docs.ToArray(), p.Value.Counts.ToArray()), StringComparer.Ordinal);
        _averageLength = chunks.Count == 0 ? 1 : Math.Max(1, _lengths.Average());

        Dimensions = chunks.FirstOrDefault(c => c.Embedding is not null)?.Embedding!.Length ?? 0;
        if (Dimensions > 0)
        {
            // A chunk without a vector (or of another size) keeps zeros: it is found by BM25 only.
            _vectors = new sbyte[chunks.Count * Dimensions];
            _scales = new float[chunks.Count];
            for (var doc = 0; doc < chunks.Count; doc++)
            {
                if (chunks[doc].Embedding is { } embedding && embedding.Length == Dimensions)
                {
                    _scales[doc] = Quantize(embedding, _vectors.AsSpan(doc * Dimensions, Dimensions));
                }
            }
        }
    }

    public string Version { get; }

    /// The chunks, without their vectors (those live in one array here).
    public IReadOnlyList<KnowledgeChunk> Chunks { get; }

    /// The vectors' size; 0 when no chunk has one.
    public int Dimensions { get; }

    public int Count => Chunks.Count;

    /// The best `limit` chunks by BM25, best first; chunks sharing no term are left out.
    public IReadOnlyList<(int Doc, float Score)> Bm25(IEnumerable<string> queryTerms, int limit)
    {
        // One score per chunk in a flat array: a common word's postings cover most of a large collection.
        var scores = new float[Count];
        var touched = new List<int>();
        foreach (var term in queryTerms.Distinct(StringComparer.Ordinal))
        {
            if (!_postings.TryGetValue(term, out var postings))
            {
                continue;
            }

            var idf = MathF.Log(1 + ((Count - postings.Docs.Length + 0.5f) / (postings.Docs.Length + 0.5f)));
            for (var i = 0; i < postings.Docs.Length; i++)
            {
                var doc = postings.Docs[i];
                var tf = postings.Counts[i];
                if (scores[doc] == 0)
                {
                    touched.Add(doc);
                }

                scores[doc] += idf * tf * (K1 + 1) / (tf + (K1 * (1 - B + (B * _lengths[doc] / _averageLength))));
            }
        }

        var top = new TopK(limit);
        foreach (var doc in touched)
        {
            top.Offer(doc, scores[doc]);
        }

        return top.Best();
    }

    /// The best `limit` chunks by cosine similarity to a unit-length query vector, best first;
    /// chunks with no similarity at all (zero or negative) are left out.
    public IReadOnlyList<(int Doc, float Score)> Nearest(float[] query, int limit)
    {
        if (_vectors is null || query.Length != Dimensions)
        {
            return [];
        }

        var quantized = new sbyte[Dimensions];
        var queryScale = Quantize(query, quantized);
        var top = new TopK(limit);
        var vectors = _vectors.AsSpan();
        for (var doc = 0; doc < Count; doc++)
        {
            top.Offer(doc, DotInt8(quantized, vectors.Slice(doc * Dimensions, Dimensions)) * queryScale * _scales![doc]);
        }

        return top.Best();
    }

    /// Writes the vector as bytes scaled so that its largest component is ±127; returns the factor
    /// that turns them back (0 for a zero vector).
    public static float Quantize(ReadOnlySpan<float> vector, Span<sbyte> into)
    {
        var largest = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(vector);
        if (largest == 0 || !float.IsFinite(largest))
        {
            into.Clear();
            return 0;
        }

        var scale = 127f / Math.Abs(largest);
        for (var i = 0; i < vector.Length; i++)
        {
            into[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] * scale), -127, 127);
        }

        return 1 / scale;
    }

    /// The dot product of two byte vectors, summed in 32 bits (127 × 127 × 4096 components fits).
    public static int DotInt8(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        var sum = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<sbyte>.Count)
        {
            var total = Vector<int>.Zero;
            for (; i <= a.Length - Vector<sbyte>.Count; i += Vector<sbyte>.Count)
            {
                Vector.Widen(new Vector<sbyte>(a[i..]), out var aLow, out var aHigh);
                Vector.Widen(new Vector<sbyte>(b[i..]), out var bLow, out var bHigh);
                // Products of two values in [-127, 127] fit in 16 bits; their sums are widened first.
                Vector.Widen(aLow * bLow, out var p1, out var p2);
                Vector.Widen(aHigh * bHigh, out var p3, out var p4);
                total += p1 + p2 + p3 + p4;
            }

            sum = Vector.Sum(total);
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// The best scores seen, in a min-heap of `limit`; ties go to the earlier chunk (source order),
    /// so results are stable. Scores of zero or less are not kept.
    private sealed class TopK(int limit)
    {
        private readonly PriorityQueue<(int Doc, float Score), (float, int)> _heap = new(limit + 1);

        public void Offer(int doc, float score)
        {
            if (score <= 0)
            {
                return;
            }

            if (_heap.Count < limit)
            {
                _heap.Enqueue((doc, score), (score, -doc));
            }
            else if (_heap.TryPeek(out _, out var worst) && (score, -doc).CompareTo(worst) > 0)
            {
                _heap.DequeueEnqueue((doc, score), (score, -doc));
            }
        }

        public List<(int Doc, float Score)> Best()
        {
            var best = new List<(int Doc, float Score)>(_heap.Count);
            while (_heap.Count > 0)
            {
                best.Add(_heap.Dequeue());
            }

            best.Reverse();
            return best;
        }
    }
}
