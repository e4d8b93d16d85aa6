using Agentry.Memory;

namespace Agentry.Tests.Knowledge;

public sealed class When_text_is_embedded_offline
{
    private static float Cosine(HashingEmbedder embedder, string a, string b) => Vectors.Dot(embedder.Embed(a), embedder.Embed(b));

    [Test]
    public void Should_give_the_same_unit_vector_every_time_and_name_its_size()
    {
        var embedder = new HashingEmbedder();
        var first = embedder.Embed("Refunds are paid within 14 days.");
        var again = new HashingEmbedder().Embed("Refunds are paid within 14 days.");

        Assert.That(first, Has.Length.EqualTo(384));
        Assert.That(again, Is.EqualTo(first));
        Assert.That(MathF.Sqrt(Vectors.Dot(first, first)), Is.EqualTo(1f).Within(1e-5));
        Assert.That(embedder.Name, Is.EqualTo("agentry-hashed-ngrams-v1-384"));
        Assert.That(new HashingEmbedder(512).Embed("x y"), Has.Length.EqualTo(512));
    }

    [Test]
    public void Should_keep_the_vectors_of_a_known_text_stable_across_versions()
    {
        // Collections store these vectors: a change to the features or the hash must change the
        // embedder's name, or old collections would be searched with incomparable query vectors.
        var vector = new HashingEmbedder().Embed("Green tea at 80 degrees.");
        var strongest = vector.Select((v, i) => (Index: i, Value: v)).OrderByDescending(c => MathF.Abs(c.Value)).ThenBy(c => c.Index).Take(3)
            .Select(c => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{c.Index}:{c.Value:0.000}"));

        Assert.That(string.Join(" ", strongest), Is.EqualTo("19:0.402 148:-0.402 177:0.402"));
    }

    [Test]
    public void Should_put_texts_that_share_words_and_word_forms_closer_than_unrelated_ones()
    {
        var embedder = new HashingEmbedder();
        const string question = "How do I refund an order?";

        var related = Cosine(embedder, question, "Refunds of orders are paid within 14 days.");
        var unrelated = Cosine(embedder, question, "The hotel budget is 160 euros per night.");

        Assert.That(related, Is.GreaterThan(0.3f));
        Assert.That(unrelated, Is.LessThan(0.1f));
    }

    [Test]
    public void Should_give_a_zero_vector_for_text_without_words()
    {
        Assert.That(new HashingEmbedder().Embed("  ?! -- "), Has.All.EqualTo(0f));
    }
}
