using System.Globalization;

namespace Agentry.Agents.Knowledge;

/// How a passage of a knowledge collection is cited, the same in the context Memory assembles and
/// in search_knowledge's output, so the model cites it one way. Positions are stored from 0;
/// people count passages from 1.
public static class KnowledgeCitation
{
    public static string Of(string source, int position) =>
        string.Create(CultureInfo.InvariantCulture, $"[{source}, passage {position + 1}]");
}
