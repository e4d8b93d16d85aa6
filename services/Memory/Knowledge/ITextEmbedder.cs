namespace Agentry.Memory;

/// Turns texts into vectors for similarity search. Name identifies the model exactly (vectors of two
/// embedders are not comparable, so a collection records the one that built it); Dimensions is known
/// after the first call for a provider that was not told it.
public interface ITextEmbedder
{
    string Name { get; }

    Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken);
}

/// The collection was built by another embedder than the one configured here.
public sealed class EmbedderMismatchException(string message) : InvalidOperationException(message);

public static class Vectors
{
    /// Scales to length 1, so that a dot product is the cosine similarity. A zero vector stays zero.
    public static float[] Normalize(float[] vector)
    {
        var norm = MathF.Sqrt(Dot(vector, vector));
        if (norm > 0)
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] /= norm;
            }
        }

        return vector;
    }

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}
