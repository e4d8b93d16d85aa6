namespace Agentry.Memory;

/// A piece of a document: its position in the document (0, 1, ...), its text and the lines it spans
/// (1-based, inclusive), so that a citation can point into the file.
public sealed record TextChunk(int Position, string Text, int FirstLine, int LastLine);

/// Cuts a document into pieces of at most Size characters, each starting Overlap characters before
/// the previous one ended so that a sentence cut at a boundary is still whole in one of them.
/// Characters, not tokens: the pieces feed BM25 and embedding models whose tokenizers differ, and
/// 1,000 characters (about 250 English tokens) sits well inside every embedding model's input limit.
/// Cuts fall at the last paragraph break, else line break, else sentence end, else space in the
/// second half of the window, so a piece rarely ends inside a word.
public static class TextChunker
{
    public static IReadOnlyList<TextChunk> Chunk(string text, int size, int overlap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 50);
        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(overlap, size / 2);

        text = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        var lineStarts = LineStarts(text);
        var chunks = new List<TextChunk>();
        var start = SkipWhitespace(text, 0);
        while (start < text.Length)
        {
            var end = Math.Min(start + size, text.Length);
            if (end < text.Length)
            {
                end = BreakBefore(text, start + (size / 2), end);
            }

            var piece = text[start..end].Trim();
            if (piece.Length > 0)
            {
                var first = SkipWhitespace(text, start);
                var last = end - 1;
                while (last > first && char.IsWhiteSpace(text[last]))
                {
                    last--;
                }

                chunks.Add(new TextChunk(chunks.Count, piece, LineOf(lineStarts, first), LineOf(lineStarts, last)));
            }

            if (end >= text.Length)
            {
                break;
            }

            // The next piece begins `overlap` before this one ended, at the start of a word.
            var next = Math.Max(end - overlap, start + 1);
            while (next > start + 1 && next < end && !char.IsWhiteSpace(text[next - 1]))
            {
                next++;
            }

            start = SkipWhitespace(text, next);
        }

        return chunks;
    }

    private static int BreakBefore(string text, int earliest, int end)
    {
        foreach (var separator in new[] { "\n\n", "\n", ". ", "? ", "! ", " " })
        {
            var at = text.LastIndexOf(separator, end - 1, end - earliest, StringComparison.Ordinal);
            if (at >= earliest)
            {
                return at + separator.Length;
            }
        }

        return end;
    }

    private static int SkipWhitespace(string text, int at)
    {
        while (at < text.Length && char.IsWhiteSpace(text[at]))
        {
            at++;
        }

        return at;
    }

    private static List<int> LineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }

        return starts;
    }

    private static int LineOf(List<int> lineStarts, int offset)
    {
        var found = lineStarts.BinarySearch(offset);
        return (found >= 0 ? found : ~found - 1) + 1;
    }
}
