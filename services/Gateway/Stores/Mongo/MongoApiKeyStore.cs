using Agentry.Gateway.Security;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Agentry.Gateway.Stores.Mongo;

/// Keys in MongoDB's `api_keys` collection (_id = the key's id), in the database Memory uses.
public sealed class MongoApiKeyStore(IMongoDatabase database) : IApiKeyStore
{
    private readonly IMongoCollection<BsonDocument> _keys = database.GetCollection<BsonDocument>("api_keys");
    private readonly Lazy<Task> _indexes = new(() => database.GetCollection<BsonDocument>("api_keys").Indexes.CreateOneAsync(
        new CreateIndexModel<BsonDocument>(new BsonDocument { ["tenant"] = 1, ["createdAt"] = -1 }, new CreateIndexOptions { Name = "tenant_created" })));

    public async Task AddAsync(ApiKey key, CancellationToken cancellationToken)
    {
        await _indexes.Value.WaitAsync(cancellationToken);
        await _keys.InsertOneAsync(new BsonDocument
        {
            ["_id"] = key.Id,
            ["tenant"] = key.TenantId,
            ["name"] = key.Name,
            ["roles"] = new BsonArray(key.Roles),
            ["salt"] = new BsonBinaryData(key.Salt),
            ["hash"] = new BsonBinaryData(key.Hash),
            ["createdAt"] = key.CreatedAt.UtcDateTime,
            ["createdBy"] = key.CreatedBy,
            ["expiresAt"] = key.ExpiresAt is { } expires ? expires.UtcDateTime : BsonNull.Value,
            ["revokedAt"] = key.RevokedAt is { } revoked ? revoked.UtcDateTime : BsonNull.Value,
        }, cancellationToken: cancellationToken);
    }

    public async Task<ApiKey?> FindAsync(string id, CancellationToken cancellationToken) =>
        await _keys.Find(new BsonDocument("_id", id)).FirstOrDefaultAsync(cancellationToken) is { } document ? Read(document) : null;

    public async Task<IReadOnlyList<ApiKey>> ListAsync(string? tenantId, CancellationToken cancellationToken)
    {
        var filter = tenantId is null ? new BsonDocument() : new BsonDocument("tenant", tenantId);
        var documents = await _keys.Find(filter).Sort(new BsonDocument { ["createdAt"] = -1, ["_id"] = 1 }).ToListAsync(cancellationToken);
        return documents.Select(Read).ToList();
    }

    public async Task<bool> RevokeAsync(string id, string? tenantId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument { ["_id"] = id, ["revokedAt"] = BsonNull.Value };
        if (tenantId is not null)
        {
            filter["tenant"] = tenantId;
        }

        var result = await _keys.UpdateOneAsync(filter, Builders<BsonDocument>.Update.Set("revokedAt", at.UtcDateTime), cancellationToken: cancellationToken);
        return result.ModifiedCount > 0;
    }

    private static ApiKey Read(BsonDocument document) => new(
        document["_id"].AsString,
        document["tenant"].AsString,
        document["name"].AsString,
        document["roles"].AsBsonArray.Select(role => role.AsString).ToList(),
        document["salt"].AsBsonBinaryData.Bytes,
        document["hash"].AsBsonBinaryData.Bytes,
        Time(document["createdAt"])!.Value,
        document["createdBy"].AsString,
        Time(document["expiresAt"]),
        Time(document["revokedAt"]));

    private static DateTimeOffset? Time(BsonValue value) =>
        value.IsBsonNull ? null : new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero);
}
