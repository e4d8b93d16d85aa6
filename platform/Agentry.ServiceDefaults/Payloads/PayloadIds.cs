using System.Security.Cryptography;

namespace Agentry.ServiceDefaults.Payloads;

/// Content ids: "sha256:" and the hex hash, so storing is idempotent and a reference proves its content.
public static class PayloadIds
{
    private const string Prefix = "sha256:";

    public static string Of(ReadOnlySpan<byte> content) => Prefix + Convert.ToHexStringLower(SHA256.HashData(content));

    /// The hex part, checked: an id is used in file names and keys, so nothing else may pass.
    public static string Hex(string id)
    {
        if (!id.StartsWith(Prefix, StringComparison.Ordinal) || id.Length != Prefix.Length + 64 || !id.AsSpan(Prefix.Length).ContainsOnlyHexLowercase())
        {
            throw new ArgumentException($"'{id}' is not a payload id (sha256: and 64 lower-case hex digits).", nameof(id));
        }

        return id[Prefix.Length..];
    }

    private static bool ContainsOnlyHexLowercase(this ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}
