namespace Agentry.Gateway.Security;

/// The Gateway's API keys: the embedded SQLite file, or MongoDB when `ConnectionStrings:mongodb` is
/// set (the same choice Memory makes, so one deployment keeps both in one place).
public interface IApiKeyStore
{
    Task AddAsync(ApiKey key, CancellationToken cancellationToken);

    Task<ApiKey?> FindAsync(string id, CancellationToken cancellationToken);

    /// The tenant's keys, or every tenant's when tenantId is null, newest first.
    Task<IReadOnlyList<ApiKey>> ListAsync(string? tenantId, CancellationToken cancellationToken);

    /// Revokes the key if it is the tenant's (any tenant's when tenantId is null) and still active;
    /// false when there is no such key or it was revoked already.
    Task<bool> RevokeAsync(string id, string? tenantId, DateTimeOffset at, CancellationToken cancellationToken);
}
