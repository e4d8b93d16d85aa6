using System.Net;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Tools;
using Microsoft.Extensions.Options;

namespace Agentry.ToolExecutor.Tools;

public sealed class HttpGetOptions
{
    public const string Section = "Tools:HttpGet";

    /// Hosts the tool may fetch from, e.g. "api.example.com". Empty: every request is refused.
    public List<string> AllowedHosts { get; set; } = [];

    /// The body is cut at this many bytes so one page cannot flood the model's context.
    public int MaxResponseBytes { get; set; } = 64 * 1024;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// HTTP GET limited to an allow-list of hosts, with a time and size limit.
public sealed class HttpGetTool(IHttpClientFactory httpClients, IOptions<HttpGetOptions> options) : ITool
{
    public const string HttpClientName = "tool-http-get";
    private const int MaxRedirects = 5;

    public string Name => BuiltInTools.HttpGet.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var text = arguments.GetProperty("url").GetString()!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ToolException(ToolErrorKind.InvalidArguments, $"'{text}' is not an absolute http or https URL.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        var client = httpClients.CreateClient(HttpClientName);
        try
        {
            for (var hop = 0; ; hop++)
            {
                EnsureAllowed(url, settings);
                using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    if (hop == MaxRedirects)
                    {
                        throw new ToolException(ToolErrorKind.Failed, $"GET {text} was redirected more than {MaxRedirects} times.");
                    }

                    url = location.IsAbsoluteUri ? location : new Uri(url, location);
                    continue;
                }

                var (body, truncated) = await ReadCappedAsync(response.Content, settings.MaxResponseBytes, timeout.Token);
                var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
                var result = $"{status}{Environment.NewLine}Content-Type: {response.Content.Headers.ContentType}{Environment.NewLine}{Environment.NewLine}{body}";
                if (truncated)
                {
                    result += $"{Environment.NewLine}[truncated at {settings.MaxResponseBytes} bytes]";
                }

                return response.StatusCode is >= HttpStatusCode.BadRequest
                    ? throw new ToolException(ToolErrorKind.Failed, result)
                    : result;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ToolException(ToolErrorKind.Timeout, $"GET {url} did not answer within {settings.Timeout.TotalSeconds:0.#}s.");
        }
        catch (HttpRequestException e)
        {
            throw new ToolException(ToolErrorKind.Failed, $"GET {url} failed: {e.Message}");
        }
    }

    private static void EnsureAllowed(Uri url, HttpGetOptions settings)
    {
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, $"'{url}' is not an http or https URL.");
        }

        if (!settings.AllowedHosts.Contains(url.Host, StringComparer.OrdinalIgnoreCase))
        {
            var allowed = settings.AllowedHosts.Count == 0 ? "no hosts are allowed" : "allowed hosts: " + string.Join(", ", settings.AllowedHosts);
            throw new ToolException(ToolErrorKind.PermissionDenied, $"Host '{url.Host}' is not on the http_get allow-list ({allowed}; configure Tools:HttpGet:AllowedHosts).");
        }
    }

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

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

        var truncated = read > maxBytes;
        return (Encoding.UTF8.GetString(buffer, 0, Math.Min(read, maxBytes)), truncated);
    }
}
