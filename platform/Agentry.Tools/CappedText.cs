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
}
