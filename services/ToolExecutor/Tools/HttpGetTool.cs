using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Tools;
using Microsoft.Extensions.Options;

namespace Agentry.ToolExecutor.Tools;

/// HTTP GET limited to an allow-list of hosts, with a time and size limit.
public sealed class HttpGetTool(IHttpClientFactory httpClients, IOptionsMonitor<HttpToolOptions> options) : ITool
{
    public const string Section = "Tools:HttpGet";
    private const int MaxRedirects = 5;

    public string Name => BuiltInTools.HttpGet.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var settings = options.Get(Name);
        var url = HttpTools.ParseUrl(arguments.GetProperty("url").GetString()!);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        var client = httpClients.CreateClient(HttpTools.HttpClientName);
        try
        {
            for (var hop = 0; ; hop++)
            {
                HttpTools.EnsureAllowed(Name, Section, url, settings);
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
            throw new ToolException(ToolErrorKind.Failed, $"GET {url} failed: {e.Message}");
        }
    }
}
