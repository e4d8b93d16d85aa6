using Agentry.Contracts;
using MongoDB.Bson;
using MongoDB.Driver;
using static Agentry.Memory.MongoMemoryDatabase;

namespace Agentry.Memory;

/// The runs' artifacts in MongoDB: one document per run in artifacts (_id = the run id), its files
/// as an array with their content as binary. One document fits: the ToolExecutor caps a run's
/// artifacts at Tools:Sandbox:MaxArtifactsBytes (at most 8 MiB), under MongoDB's 16 MiB per
/// document. The insert of the whole document is the idempotence: a redelivery hits the _id.
public sealed class MongoArtifactStore(MongoMemoryDatabase database) : IArtifactStore
{
    /// The database it keeps them in, shared with the other MongoDB stores.
    public MongoMemoryDatabase Database => database;

    public async Task KeepAsync(RunArtifactsKept artifacts, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var document = new BsonDocument
        {
            ["_id"] = artifacts.RunId.ToString(),
            ["tenant"] = Required(artifacts.TenantId),
            ["unlisted"] = artifacts.Unlisted,
            ["files"] = new BsonArray(artifacts.Files.Select(file => new BsonDocument
            {
                ["name"] = Required(file.Name),
                ["size"] = file.Size,
                ["sha256"] = Text(file.Sha256),
                ["content"] = file.Content is { } content ? new BsonBinaryData(content) : BsonNull.Value,
                ["leftOut"] = Text(file.LeftOut),
            })),
        };
        try
        {
            await database.Artifacts.InsertOneAsync(document, cancellationToken: cancellationToken);
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // Kept already: a redelivery. The first copy stands.
        }
    }

    public async Task<ArtifactList> ListAsync(string tenantId, Guid runId, CancellationToken cancellationToken)
    {
        var run = await database.Artifacts.Find(Of(tenantId, runId))
            .Project(new BsonDocument("files.content", 0))
            .FirstOrDefaultAsync(cancellationToken);
        return run is null
            ? new ArtifactList(runId, [])
            : new ArtifactList(runId, [.. run["files"].AsBsonArray.Select(f => Info(f.AsBsonDocument)).OrderBy(a => a.Name, StringComparer.Ordinal)], run["unlisted"].ToInt32());
    }

    public async Task<(ArtifactInfo Info, byte[]? Content)?> GetAsync(string tenantId, Guid runId, string name, CancellationToken cancellationToken)
    {
        // Only the one file comes back from the server, not the run's other files' content.
        var run = await database.Artifacts.Find(Of(tenantId, runId))
            .Project(new BsonDocument("files", new BsonDocument("$elemMatch", new BsonDocument("name", name))))
            .FirstOrDefaultAsync(cancellationToken);
        if (run?.GetValue("files", BsonNull.Value) is not BsonArray { Count: > 0 } files)
        {
            return null;
        }

        var file = files[0].AsBsonDocument;
        return (Info(file), file["content"] is BsonBinaryData content ? content.Bytes : null);
    }

    private static BsonDocument Of(string tenantId, Guid runId) =>
        new() { ["_id"] = runId.ToString(), ["tenant"] = Required(tenantId) };

    private static ArtifactInfo Info(BsonDocument file) =>
        new(file["name"].AsString, file["size"].ToInt64(), Text(file, "sha256"), Text(file, "leftOut"));
}
