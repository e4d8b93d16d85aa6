using System.Security.Cryptography;
using System.Text;

namespace Agentry.Gateway.Security;

/// A key as stored: never the secret, only a salted hash of it. Id is the key's public half, shown
/// in lists and the audit trail; Name says whose it is.
public sealed record ApiKey(
    string Id,
    string TenantId,
    string Name,
    IReadOnlyList<string> Roles,
    byte[] Salt,
    byte[] Hash,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset? ExpiresAt = null,
    DateTimeOffset? RevokedAt = null)
{
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

/// A new key: the stored record, and the secret text that is shown once and never kept.
public sealed record IssuedApiKey(ApiKey Key, string Secret);

/// Key text is `agk_<id>_<secret>`: the id finds the record, the secret is checked against its hash.
/// The secret has 256 random bits, so a fast salted SHA-256 is enough: a slow password hash guards
/// guessable secrets, and would cost every request its time.
public static class ApiKeys
{
    public const string Prefix = "agk_";

    public static IssuedApiKey Issue(string tenantId, string name, IReadOnlyList<string> roles, string createdBy, DateTimeOffset now, DateTimeOffset? expiresAt = null)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var salt = RandomNumberGenerator.GetBytes(16);
        var key = new ApiKey(id, tenantId, name, roles, salt, HashOf(salt, secret), now, createdBy, expiresAt);
        return new IssuedApiKey(key, $"{Prefix}{id}_{secret}");
    }

    /// The id and secret of a key's text, or null when it is not a key's shape.
    public static (string Id, string Secret)? Parse(string? text)
    {
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = text.AsSpan(Prefix.Length);
        var separator = rest.IndexOf('_');
        return separator is 16 && rest.Length > separator + 1
            ? (rest[..separator].ToString(), rest[(separator + 1)..].ToString())
            : null;
    }

    public static bool Matches(ApiKey key, string secret) =>
        CryptographicOperations.FixedTimeEquals(HashOf(key.Salt, secret), key.Hash);

    private static byte[] HashOf(byte[] salt, string secret) =>
        SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(secret)]);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
