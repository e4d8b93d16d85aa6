using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// HTTP POST of a JSON body to an allowed host. It has side effects: each call carries an
/// Idempotency-Key (run and call id) so the receiver can recognise a repeat, and the ToolExecutor
/// never repeats a call that was interrupted. Redirects are not followed.
public sealed class HttpPostTool(IHttpClientFactory httpClients, IOptionsMonitor<HttpToolOptions> options) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("http_post", "Posts (sends) a JSON body to a URL on an allowed host, for example to a webhook or an API, and returns the response status and body.", ToolSchema.ClosedObject("""
        "url": { "type": "string", "format": "uri", "pattern": "^https?://", "description": "The absolute http or https URL to post to." },
        "body": { "description": "The JSON value to send." }
        """, "url", "body"), SideEffects: true) { ReachesHosts = true };

    public const string Section = "Tools:HttpPost";

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) =>
        PostAsync(httpClients.CreateClient(HttpTools.ClientFor(Name)), Name, Section, HttpTools.ParseUrl(arguments.GetProperty("url").GetString()!),
            arguments.GetProperty("body"), invocation, options.Get(Name), emptyAllowsAny: false, cancellationToken);

    internal static async Task<string> PostAsync(HttpClient client, string tool, string section, Uri url, JsonElement body, ToolInvocation invocation, HttpToolOptions settings, bool emptyAllowsAny, CancellationToken cancellationToken)
    {
        HttpTools.EnsureAllowed(tool, section, url, settings, emptyAllowsAny, invocation);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", $"{invocation.RunId}:{invocation.CallId}");
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return await HttpTools.DescribeAsync(response, settings, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ToolException(ToolErrorKind.Timeout, $"POST {url} did not answer within {settings.Timeout.TotalSeconds:0.#}s; it may or may not have taken effect.");
        }
        catch (HttpRequestException e)
        {
            throw HttpTools.Failure("POST", url, e);
        }
    }
}
