using System.Net;
using System.Text;
using Agentry.Contracts;

namespace Agentry.ToolExecutor.Tools;

/// Limits of an HTTP tool, configured per tool (Tools:HttpGet, Tools:HttpPost).
public sealed class HttpToolOptions
{
    /// Hosts the tool may reach, e.g. "api.example.com". Empty: every request is refused.
    public List<string> AllowedHosts { get; set; } = [];

    /// The body is cut at this many bytes so one page cannot flood the model's context.
    public int MaxResponseBytes { get; set; } = 64 * 1024;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// What the HTTP tools share: the allow-list check, the size cap and how a response is shown.
public static class HttpTools
{
    /// Redirects are followed by the tools themselves, so every hop is checked against the allow-list.
    public const string HttpClientName = "agentry-http-tools";

    public static Uri ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new ToolException(ToolErrorKind.InvalidArguments, $"'{text}' is not an absolute http or https URL.");

    public static void EnsureAllowed(string tool, string section, Uri url, HttpToolOptions settings)
    {
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, $"'{url}' is not an http or https URL.");
        }

        if (!settings.AllowedHosts.Contains(url.Host, StringComparer.OrdinalIgnoreCase))
        {
            var allowed = settings.AllowedHosts.Count == 0 ? "no hosts are allowed" : "allowed hosts: " + string.Join(", ", settings.AllowedHosts);
            throw new ToolException(ToolErrorKind.PermissionDenied, $"Host '{url.Host}' is not on the {tool} allow-list ({allowed}; configure {section}:AllowedHosts).");
        }
    }

    public static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// The response as the model sees it; a 4xx or 5xx answer is the call's failure.
    public static async Task<string> DescribeAsync(HttpResponseMessage response, HttpToolOptions settings, CancellationToken cancellationToken)
    {
        var (body, truncated) = await ReadCappedAsync(response.Content, settings.MaxResponseBytes, cancellationToken);
        var result = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}{Environment.NewLine}Content-Type: {response.Content.Headers.ContentType}{Environment.NewLine}{Environment.NewLine}{body}";
        if (truncated)
        {
            result += $"{Environment.NewLine}[truncated at {settings.MaxResponseBytes} bytes]";
        }

        return response.StatusCode >= HttpStatusCode.BadRequest
            ? throw new ToolException(ToolErrorKind.Failed, result)
            : result;
    }

    private static async Task<(string Body, bool Truncated)> ReadCappedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[maxBytes + 1];
        var read = 0;
        int count;
        while (read < buffer.Length && (count = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
        {
            read += count;
        }

        return (Encoding.UTF8.GetString(buffer, 0, Math.Min(read, maxBytes)), read > maxBytes);
    }
}
