using System.Net;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// Limits of an HTTP tool, configured per tool (Tools:HttpGet, Tools:HttpPost, Tools:HttpRequest).
public sealed class HttpToolOptions
{
    /// Hosts the tool may reach, e.g. "api.example.com". Empty: http_get and http_post refuse every
    /// request; http_request reaches any host that resolves to public addresses only.
    public List<string> AllowedHosts { get; set; } = [];

    /// Hosts that may resolve to loopback, private or link-local addresses (a service on the local
    /// network). Every other host is refused when any of its addresses is one of those.
    public List<string> PrivateHosts { get; set; } = [];

    /// The body is cut at this many bytes so one page cannot flood the model's context.
    public int MaxResponseBytes { get; set; } = 64 * 1024;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// What the HTTP tools share: the allow-list check, the size cap and how a response is shown.
public static class HttpTools
{
    /// Each tool has its own options section and HTTP client, whose handler checks every address
    /// it connects to (AddressGuard).
    public static ToolPack Pack { get; } = ToolPack.Of([HttpGetTool.Descriptor, HttpPostTool.Descriptor, HttpRequestTool.Descriptor], (services, _) =>
    {
        services.TryAddSingleton<IHostResolver, DnsHostResolver>();
        foreach (var (tool, section) in new[]
        {
            (HttpGetTool.Descriptor.Name, HttpGetTool.Section),
            (HttpPostTool.Descriptor.Name, HttpPostTool.Section),
            (HttpRequestTool.Descriptor.Name, HttpRequestTool.Section),
        })
        {
            services.AddOptions<HttpToolOptions>(tool).BindConfiguration(section);
            services.AddHttpClient(ClientFor(tool)).ConfigurePrimaryHttpMessageHandler(sp => AddressGuard.CreateHandler(
                sp.GetRequiredService<IHostResolver>(),
                () => sp.GetRequiredService<IOptionsMonitor<HttpToolOptions>>().Get(tool)));
        }

        services.AddSingleton<ITool, HttpGetTool>();
        services.AddSingleton<ITool, HttpPostTool>();
        services.AddSingleton<ITool, HttpRequestTool>();
    });

    /// Each tool has its own client and connection pool, so a connection opened under one tool's
    /// PrivateHosts is never reused by another. Redirects are followed by the tools themselves, so
    /// every hop is checked against the allow-list.
    public static string ClientFor(string tool) => "agentry-http-tool-" + tool;

    public static Uri ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new ToolException(ToolErrorKind.InvalidArguments, $"'{text}' is not an absolute http or https URL.");

    public static void EnsureAllowed(string tool, string section, Uri url, HttpToolOptions settings, bool emptyAllowsAny = false, ToolInvocation? invocation = null)
    {
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, $"'{url}' is not an http or https URL.");
        }

        // The agent's allowed_hosts narrows the tool's own allow-list; both must let the host through.
        if (invocation is not null && !invocation.Policy.AllowsHost(url))
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, NotAllowedByPolicy(tool, invocation.Agent, url, invocation.Policy));
        }

        if (emptyAllowsAny && settings.AllowedHosts.Count == 0)
        {
            return;
        }

        if (!settings.AllowedHosts.Contains(url.Host, StringComparer.OrdinalIgnoreCase))
        {
            var allowed = settings.AllowedHosts.Count == 0 ? "no hosts are allowed" : "allowed hosts: " + string.Join(", ", settings.AllowedHosts);
            throw new ToolException(ToolErrorKind.PermissionDenied, $"Host '{url.Host}' is not on the {tool} allow-list ({allowed}; configure {section}:AllowedHosts).");
        }
    }

    public static string NotAllowedByPolicy(string tool, string agent, Uri url, ToolPolicy policy) =>
        $"Permission denied by the allowed_hosts policy: agent '{agent}' may reach only {string.Join(", ", policy.AllowedHosts)} with {tool}, and '{url.Authority}' is not one of them.";

    /// A transport failure as the call's result; a refused address is a permission matter.
    public static ToolException Failure(string method, Uri url, HttpRequestException e) =>
        FindBlocked(e) is { } blocked
            ? new ToolException(ToolErrorKind.PermissionDenied, $"{method} {url} refused: {blocked.Message}")
            : new ToolException(ToolErrorKind.Failed, $"{method} {url} failed: {e.Message}");

    private static BlockedAddressException? FindBlocked(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is BlockedAddressException blocked)
            {
                return blocked;
            }
        }

        return null;
    }

    public static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// The response as the model sees it; a 4xx or 5xx answer is the call's failure.
    public static async Task<string> DescribeAsync(HttpResponseMessage response, HttpToolOptions settings, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var (body, truncated) = await CappedText.ReadAsync(stream, settings.MaxResponseBytes, cancellationToken);
        var result = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}{Environment.NewLine}Content-Type: {response.Content.Headers.ContentType}{Environment.NewLine}{Environment.NewLine}{body}";
        if (truncated)
        {
            result += $"{Environment.NewLine}[truncated at {settings.MaxResponseBytes} bytes]";
        }

        return response.StatusCode >= HttpStatusCode.BadRequest
            ? throw new ToolException(ToolErrorKind.Failed, result)
            : result;
    }
}
