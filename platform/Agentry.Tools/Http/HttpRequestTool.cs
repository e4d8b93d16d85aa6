using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// GET or POST (JSON) to any host that resolves to public addresses only, or to the hosts in
/// Tools:HttpRequest:AllowedHosts when that list is set. A POST has side effects (Idempotency-Key,
/// never repeated after a crash); a GET does not.
public sealed class HttpRequestTool(IHttpClientFactory httpClients, IOptionsMonitor<HttpToolOptions> options) : ITool, IArgumentDependentSideEffects
{
    /// Declared with side effects because a POST has them; the ToolExecutor treats a GET as free of them.
    public static readonly ToolDescriptor Descriptor = new("http_request", "Sends an HTTP GET, or a POST with a JSON body, to a public web address and returns the response status and body. Private and local network addresses are refused.", ToolSchema.ClosedObject("""
        "method": { "enum": ["GET", "POST"], "description": "GET (the default) to read, POST to send the body." },
        "url": { "type": "string", "format": "uri", "pattern": "^https?://", "description": "The absolute http or https URL." },
        "body": { "description": "POST only: the JSON value to send." }
        """, "url"), SideEffects: true) { SideEffectsDependOnArguments = true, ReachesHosts = true };

    public const string Section = "Tools:HttpRequest";

    public string Name => Descriptor.Name;

    public bool HasSideEffects(JsonElement arguments) => !IsGet(arguments);

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var url = HttpTools.ParseUrl(arguments.GetProperty("url").GetString()!);
        var client = httpClients.CreateClient(HttpTools.ClientFor(Name));
        if (IsGet(arguments))
        {
            return arguments.TryGetProperty("body", out _)
                ? throw new ToolException(ToolErrorKind.InvalidArguments, "A GET request has no body: remove 'body' or use method POST.")
                : HttpGetTool.GetAsync(client, Name, Section, url, options.Get(Name), emptyAllowsAny: true, invocation, cancellationToken);
        }

        var body = arguments.TryGetProperty("body", out var b) ? b : JsonSerializer.SerializeToElement(new { });
        return HttpPostTool.PostAsync(client, Name, Section, url, body, invocation, options.Get(Name), emptyAllowsAny: true, cancellationToken);
    }

    private static bool IsGet(JsonElement arguments) =>
        !arguments.TryGetProperty("method", out var method) || method.GetString() == "GET";
}
