using System.Security.Cryptography;
using System.Text;

namespace Agentry.Agents.Pinning;

/// The identity of an agent definition's content: SHA-256 of its YAML with line endings normalised,
/// so the same file checked out on Windows and on Linux pins the same definition.
public static class AgentDefinitionHash
{
    public static string Normalize(string yaml) => yaml.ReplaceLineEndings("\n");

    /// Lower-case hex, 64 characters.
    public static string Of(string yaml) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(yaml))));

    /// The first 12 characters, as people read and type a hash (git's habit).
    public static string Abbreviate(string? hash) => hash is null ? "(none)" : hash[..Math.Min(12, hash.Length)];

    public static bool IsWellFormed(string? hash) =>
        hash is { Length: 64 } && hash.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
