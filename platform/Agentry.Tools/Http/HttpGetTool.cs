using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// HTTP GET limited to an allow-list of hosts and to public addresses (AddressGuard), with a time and size limit.
public sealed class HttpGetTool(IHttpClientFactory httpClients, IOptionsMonitor<HttpToolOptions> options) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("http_get", "Fetches a web page or API response over HTTP GET from an allowed host and returns its status and body.", ToolSchema.ClosedObject("""
        "url": { "type": "string", "format": "uri", "pattern": "^https?://", "description": "The absolute http or https URL to fetch." }
        """, "url")) { ReachesHosts = true };

    public const string Section = "Tools:HttpGet";

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) =>
        GetAsync(httpClients.CreateClient(HttpTools.ClientFor(Name)), Name, Section, HttpTools.ParseUrl(arguments.GetProperty("url").GetString()!),
            options.Get(Name), emptyAllowsAny: false, invocation, cancellationToken);

    private const int MaxRedirects = 5;

    /// GET following redirects itself, so every hop passes the allow-list (and, at connect, the address guard).
    internal static async Task<string> GetAsync(HttpClient client, string tool, string section, Uri url, HttpToolOptions settings, bool emptyAllowsAny, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            for (var hop = 0; ; hop++)
            {
                HttpTools.EnsureAllowed(tool, section, url, settings, emptyAllowsAny, invocation);
                using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (HttpTools.IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    if (hop == MaxRedirects)
                    {
                        throw new ToolException(ToolErrorKind.Failed, $"GET {url} was redirected more than {MaxRedirects} times.");
                    }

                    url = location.IsAbsoluteUri ? location : new Uri(url, location);
                    continue;
                }

                return await HttpTools.DescribeAsync(response, settings, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ToolException(ToolErrorKind.Timeout, $"GET {url} did not answer within {settings.Timeout.TotalSeconds:0.#}s.");
        }
        catch (HttpRequestException e)
        {
            throw HttpTools.Failure("GET", url, e);
        }
    }
}
