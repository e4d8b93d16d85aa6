namespace Agentry.Memory;

/// The form in which two memories count as the same: case, spacing and closing punctuation aside.
public static class MemoryText
{
    public static string Normalize(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .TrimEnd('.', '!', '?', ';', ',', ' ')
            .ToLowerInvariant();
}
