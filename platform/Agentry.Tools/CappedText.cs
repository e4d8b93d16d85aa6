using System.Text;

namespace Agentry.Tools;

/// What the HTTP and file tools read is cut at a byte limit, so one page or file cannot fill the
/// process's memory or the model's context.
internal static class CappedText
{
    /// At most maxBytes of the stream as UTF-8, and whether the stream held more.
    public static async Task<(string Text, bool Truncated)> ReadAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[maxBytes + 1];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return (Encoding.UTF8.GetString(buffer, 0, Math.Min(read, maxBytes)), read > maxBytes);
    }

    /// At most maxBytes of the stream as UTF-8, and how many bytes it held in all: the rest is read
    /// and dropped, so that a process writing into a pipe is never blocked by a full one.
    public static async Task<(string Text, long TotalBytes)> DrainAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        var kept = new MemoryStream();
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            kept.Write(buffer, 0, (int)Math.Clamp(maxBytes - total, 0, read));
            total += read;
        }

        return (Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length), total);
    }
}
