using Agentry.Memory;

namespace Agentry.Tests.Knowledge;

public sealed class When_documents_are_chunked
{
    private static string Numbered(int words) => string.Join(" ", Enumerable.Range(1, words).Select(i => $"w{i:D4}"));

    [Test]
    public void Should_cut_at_most_the_size_and_repeat_the_overlap_at_the_next_start()
    {
        var text = Numbered(400); // 400 words of 5 characters and a space: 2,399 characters.

        var chunks = TextChunker.Chunk(text, size: 600, overlap: 120);

        Assert.That(chunks.Select(c => c.Position), Is.EqualTo(Enumerable.Range(0, chunks.Count)));
        Assert.That(chunks, Has.All.Matches<TextChunk>(c => c.Text.Length <= 600));
        for (var i = 1; i < chunks.Count; i++)
        {
            var previousWords = chunks[i - 1].Text.Split(' ');
            var firstWord = chunks[i].Text.Split(' ')[0];
            var repeated = previousWords.Length - Array.IndexOf(previousWords, firstWord);
            Assert.That(Array.IndexOf(previousWords, firstWord), Is.GreaterThan(0), $"chunk {i} starts inside chunk {i - 1}");
            Assert.That(repeated * 6, Is.InRange(100, 140), $"chunk {i} repeats about 120 characters of chunk {i - 1}");
        }

        Assert.That(string.Join(" ", chunks.SelectMany(c => c.Text.Split(' '))).Split(' ').Distinct(), Is.EqualTo(text.Split(' ')), "every word is kept, in order");
        Assert.That(chunks[^1].Text, Does.EndWith("w0400"));
    }

    [Test]
    public void Should_prefer_a_paragraph_break_and_never_cut_a_word()
    {
        var first = "Alpha beta gamma. " + string.Concat(Enumerable.Repeat("delta epsilon ", 20));
        var text = first.Trim() + "\n\n" + string.Concat(Enumerable.Repeat("zeta eta theta ", 30)).Trim();

        var chunks = TextChunker.Chunk(text, size: 400, overlap: 40);

        Assert.That(chunks[0].Text, Is.EqualTo(first.Trim()), "the first piece ends at the paragraph break");
        Assert.That(chunks.SelectMany(c => c.Text.Split([" ", "\n"], StringSplitOptions.RemoveEmptyEntries)), Has.All.Matches<string>(w => w is "Alpha" or "beta" or "gamma." or "delta" or "epsilon" or "zeta" or "eta" or "theta"));
    }

    [Test]
    public void Should_give_the_lines_each_chunk_spans()
    {
        var text = string.Join("\n", Enumerable.Range(1, 60).Select(i => $"Line number {i:D2} of the file."));

        var chunks = TextChunker.Chunk(text, size: 300, overlap: 60);

        Assert.That(chunks[0].FirstLine, Is.EqualTo(1));
        Assert.That(chunks[0].Text, Does.StartWith("Line number 01").And.EndWith($"Line number {chunks[0].LastLine:D2} of the file."));
        Assert.That(chunks[1].Text, Does.StartWith($"Line number {chunks[1].FirstLine:D2}"));
        Assert.That(chunks[1].FirstLine, Is.LessThanOrEqualTo(chunks[0].LastLine), "the overlap repeats the last line(s)");
        Assert.That(chunks[^1].LastLine, Is.EqualTo(60));
    }

    [TestCase("")]
    [TestCase("   \n\n\t  \r\n")]
    public void Should_make_no_chunk_of_an_empty_text(string text)
    {
        Assert.That(TextChunker.Chunk(text, 1000, 150), Is.Empty);
    }

    [Test]
    public void Should_make_one_chunk_of_a_short_text()
    {
        Assert.That(TextChunker.Chunk("\n  Short note.\r\n", 1000, 150), Is.EqualTo(new[] { new TextChunk(0, "Short note.", 2, 2) }));
    }

    [TestCase(10, 0)]
    [TestCase(1000, 500)]
    [TestCase(1000, -1)]
    public void Should_refuse_sizes_that_make_no_sense(int size, int overlap)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TextChunker.Chunk("text", size, overlap));
    }
}
