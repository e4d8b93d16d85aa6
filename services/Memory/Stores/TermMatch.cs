using System.Text.RegularExpressions;

namespace Agentry.Memory;

/// The plain relevance both backends share until vector retrieval lands: a text scores the number
/// of distinct query words it contains as whole words, ignoring case. Backends may narrow the
/// candidates in the database first, but the ranking is always this one, so they agree.
public static partial class TermMatch
{
    public static IReadOnlySet<string> Terms(string text) =>
        Word().Matches(text).Select(m => m.Value.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

    public static int Score(IReadOnlySet<string> queryTerms, string text)
    {
        var words = Terms(text);
        return queryTerms.Count(words.Contains);
    }

    /// Best score first; ties keep the order the candidates came in.
    public static IReadOnlyList<T> Rank<T>(IEnumerable<T> candidates, Func<T, string> text, string query, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var terms = Terms(query);
        if (terms.Count == 0)
        {
            return [];
        }

        return candidates
            .Select(candidate => (Candidate: candidate, Score: Score(terms, text(candidate))))
            .Where(scored => scored.Score > 0)
            .OrderByDescending(scored => scored.Score)
            .Take(limit)
            .Select(scored => scored.Candidate)
            .ToList();
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();
}
