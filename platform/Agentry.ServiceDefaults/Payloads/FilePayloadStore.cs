namespace Agentry.ServiceDefaults.Payloads;

/// The embedded store: one file per payload under the data folder, named by its hash.
public sealed class FilePayloadStore(string directory) : IPayloadStore
{
    public string Name => "file";

    public string Directory => directory;

    public async Task<bool> PutAsync(string id, ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken)
    {
        var path = PathOf(id);
        if (File.Exists(path))
        {
            return false;
        }

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written aside and moved in, so a reader never sees half a payload and two writers of the same
        // content race harmlessly: the second move finds the file there.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(temporary, content.ToArray(), cancellationToken);
        try
        {
            File.Move(temporary, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return false;
        }
    }

    public async Task<byte[]?> GetAsync(string id, int? maxBytes, CancellationToken cancellationToken)
    {
        var path = PathOf(id);
        if (!File.Exists(path))
        {
            return null;
        }

        await using var file = File.OpenRead(path);
        var buffer = new byte[maxBytes is { } max ? Math.Min(max, file.Length) : file.Length];
        await file.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }

    private string PathOf(string id)
    {
        var hex = PayloadIds.Hex(id);
        return Path.Combine(directory, hex[..2], hex);
    }
}
