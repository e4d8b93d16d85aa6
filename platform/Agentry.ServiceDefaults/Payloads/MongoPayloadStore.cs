using MongoDB.Bson;
using MongoDB.Driver;
using MongoDB.Driver.GridFS;

namespace Agentry.ServiceDefaults.Payloads;

/// Payloads in the run store when MongoDB is configured: GridFS (bucket `payloads`), the file's id
/// the content id, so a second upload of the same content is refused by the id and nothing is written twice.
public sealed class MongoPayloadStore(IMongoDatabase database) : IPayloadStore
{
    private readonly GridFSBucket<string> _bucket = new(database, new GridFSBucketOptions { BucketName = "payloads" });

    public string Name => "mongodb";

    public async Task<bool> PutAsync(string id, ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken)
    {
        if (await ExistsAsync(id, cancellationToken))
        {
            return false;
        }

        try
        {
            await _bucket.UploadFromBytesAsync(id, id, content.ToArray(),
                new GridFSUploadOptions { Metadata = new BsonDocument("mediaType", mediaType) }, cancellationToken);
            return true;
        }
        catch (MongoException e) when (e is MongoWriteException { WriteError.Category: ServerErrorCategory.DuplicateKey } or MongoBulkWriteException)
        {
            // Another writer stored the same content at the same moment.
            return false;
        }
    }

    public async Task<byte[]?> GetAsync(string id, int? maxBytes, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(id, cancellationToken))
        {
            return null;
        }

        if (maxBytes is null)
        {
            return await _bucket.DownloadAsBytesAsync(id, cancellationToken: cancellationToken);
        }

        await using var stream = await _bucket.OpenDownloadStreamAsync(id, cancellationToken: cancellationToken);
        var buffer = new byte[Math.Min(maxBytes.Value, stream.Length)];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }

    private async Task<bool> ExistsAsync(string id, CancellationToken cancellationToken) =>
        await (await _bucket.FindAsync(Builders<GridFSFileInfo<string>>.Filter.Eq(f => f.Id, id), cancellationToken: cancellationToken)).AnyAsync(cancellationToken);
}
