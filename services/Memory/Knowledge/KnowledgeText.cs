using System.Text.RegularExpressions;

namespace Agentry.Memory;

/// The words that retrieval compares, shared by BM25 and the offline embedder so that both see the
/// same terms: lower case, letters and digits, common function words dropped, and a light suffix
/// stripping so that "refunds", "refunded" and "refund" meet.
public static partial class KnowledgeText
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "does", "for", "from",
        "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "may", "me", "my", "of", "on", "or",
        "our", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "was",
        "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
    };

    public static List<string> Terms(string text)
    {
        var terms = new List<string>();
        foreach (var match in Word().EnumerateMatches(text))
        {
            var word = text.Substring(match.Index, match.Length).ToLowerInvariant();
            if (!StopWords.Contains(word))
            {
                terms.Add(Stem(word));
            }
        }

        return terms;
    }

    /// Not a real stemmer (no language model of English is wanted here): the plural and verb endings
    /// that most often keep a question's word apart from the document's.
    public static string Stem(string word)
    {
        if (word.Length <= 3 || char.IsDigit(word[0]))
        {
            return word;
        }

        foreach (var (suffix, replacement) in Suffixes)
        {
            if (word.Length - suffix.Length >= 3 && word.EndsWith(suffix, StringComparison.Ordinal))
            {
                return word[..^suffix.Length] + replacement;
            }
        }

        return word;
    }

    private static readonly (string Suffix, string Replacement)[] Suffixes =
    [
        ("ies", "y"), ("sses", "ss"), ("ing", ""), ("edly", ""), ("ed", ""), ("es", "e"), ("ss", "ss"), ("s", ""),
    ];

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();
}
