using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Encodings.Web;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using MassTransit;

namespace Agentry.Cli;

/// What `agentry run` does with a call that needs approval: Ask a person at the terminal (or read
/// the answers from standard input), or decide every call the same way (--approve, --deny).
public enum ApprovalMode
{
    Ask,
    Approve,
    Deny,
}

/// How `agentry run` decides calls waiting for approval. Decider: the name recorded with each
/// decision; Comment: recorded too, and shown to the model with a denial; Input: where Ask reads.
public sealed record ApprovalChoice(ApprovalMode Mode, string Decider, string? Comment = null, TextReader? Input = null)
{
    public static ApprovalChoice Default => new(ApprovalMode.Ask, Environment.UserName);
}

/// `agentry run`'s side of approvals: shows the calls and publishes the person's decisions.
public static class RunApprovals
{
    private static readonly JsonSerializerOptions Display = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task DecideAsync(IPublishEndpoint bus, ApprovalRequested request, ApprovalChoice choice, bool remote, TextWriter output, CancellationToken cancellationToken)
    {
        await output.WriteLineAsync($"Step {request.Step} waits for approval (until {request.ExpiresAt.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)}; then: {request.OnTimeout.ToLowerInvariant()}).");
        foreach (var call in request.Calls)
        {
            await output.WriteLineAsync($"  {"approve?",-8} {call.CallId}: {call.Tool} {JsonSerializer.Serialize(call.Arguments, Display)}");
            var decision = choice.Mode switch
            {
                ApprovalMode.Approve => (Approved: true, choice.Comment ?? "approved with --approve"),
                ApprovalMode.Deny => (Approved: false, choice.Comment ?? "denied with --deny"),
                _ => await AskAsync(call, choice.Input ?? Console.In, output, cancellationToken),
            };
            if (decision is not ({ } approved, var comment))
            {
                await output.WriteLineAsync(remote
                    ? $"  {"",-8} No answer here. Decide it with `agentry approve {request.RunId} {call.CallId}` or `agentry deny {request.RunId} {call.CallId} --comment WHY`."
                    : $"  {"",-8} No answer (standard input is closed): the call waits until its approval times out. Pass --approve or --deny to decide without a terminal.");
                continue;
            }

            await bus.Publish(new ApprovalDecided(request.RunId, request.TenantId, request.Step, call.CallId, approved, choice.Decider, comment), cancellationToken);
            await output.WriteLineAsync($"  {(approved ? "approved" : "denied"),-8} by {choice.Decider}{(comment is null ? "" : $": {comment}")}");
        }
    }

    /// y/yes approves; n/no denies, with the rest of the line as the comment ("n not for this customer").
    private static async Task<(bool? Approved, string? Comment)> AskAsync(ToolCall call, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        while (true)
        {
            await output.WriteAsync($"  {"",-8} Approve {call.Tool}? [y]es / [n]o COMMENT: ");
            await output.FlushAsync(cancellationToken);
            var line = await input.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                await output.WriteLineAsync();
                return (null, null);
            }

            // A terminal echoes what was typed; answers read from a pipe or a file are shown here.
            if (input != Console.In || Console.IsInputRedirected)
            {
                await output.WriteLineAsync(line);
            }

            var parts = line.Trim().Split(' ', 2, StringSplitOptions.TrimEntries);
            var comment = parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null;
            switch (parts[0].ToLowerInvariant())
            {
                case "y" or "yes":
                    return (true, comment);
                case "n" or "no":
                    return (false, comment);
                default:
                    await output.WriteLineAsync($"  {"",-8} Answer y or n (a comment may follow: n wrong customer).");
                    break;
            }
        }
    }
}

/// A Gateway and the credential to call it with (an API key or a bearer token; none for a Gateway
/// without authentication).
public sealed record GatewayTarget(string Url, string? Credential = null);

/// `agentry approvals`, `agentry approve`, `agentry deny`: against a deployment's Gateway.
public static class ApprovalCommands
{
    public const string DefaultGateway = "http://127.0.0.1:5080";

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly JsonSerializerOptions Display = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<int> ListAsync(GatewayTarget gateway, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var http = await GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            using var response = await http.GetAsync("approvals", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync(await ProblemAsync(response, cancellationToken));
                return ExitCodes.NotCompleted;
            }

            var pending = (await response.Content.ReadFromJsonAsync<PendingApprovals>(Web, cancellationToken))!.Approvals;
            if (pending.Count == 0)
            {
                await output.WriteLineAsync("No calls are waiting for approval.");
                return ExitCodes.Completed;
            }

            foreach (var approval in pending)
            {
                await output.WriteLineAsync($"{approval.RunId} {approval.CallId}  {approval.Agent}, step {approval.Step}: {approval.Tool} {JsonSerializer.Serialize(approval.Arguments, Display)}");
                await output.WriteLineAsync($"  waiting since {approval.RequestedAt.ToString("u", CultureInfo.InvariantCulture)}, until {approval.ExpiresAt.ToString("u", CultureInfo.InvariantCulture)}");
            }

            return ExitCodes.Completed;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }

    public static async Task<int> DecideAsync(GatewayTarget gateway, string runId, string callId, bool approved, string by, string? comment, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(runId, out var run))
        {
            await error.WriteLineAsync($"'{runId}' is not a run id (a GUID, as `agentry approvals` lists it).");
            return ExitCodes.BadInput;
        }

        if (!approved && string.IsNullOrWhiteSpace(comment))
        {
            await error.WriteLineAsync("Say why with --comment: the agent is told the reason of a denial.");
            return ExitCodes.BadInput;
        }

        using var http = await GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            using var response = await http.PostAsJsonAsync($"runs/{run}/approvals/{Uri.EscapeDataString(callId)}", new ApprovalDecisionRequest(approved, by, comment), Web, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                await error.WriteLineAsync(await ProblemAsync(response, cancellationToken));
                return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.NotCompleted;
            }

            await output.WriteLineAsync($"{(approved ? "Approved" : "Denied")} {callId} of run {run}.");
            return ExitCodes.Completed;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }

    /// A client for the Gateway at the --gateway URL that sends the credential, for every command that
    /// talks to one; null, after saying why, when the URL is not an absolute http or https one.
    internal static async Task<HttpClient?> GatewayClientAsync(GatewayTarget gateway, TextWriter error)
    {
        if (!Uri.TryCreate(gateway.Url.EndsWith('/') ? gateway.Url : gateway.Url + "/", UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"--gateway '{gateway.Url}' is not an absolute http or https URL such as {DefaultGateway}.");
            return null;
        }

        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        if (gateway.Credential is { Length: > 0 } credential)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", credential);
        }

        return http;
    }

    internal static string Unreachable(GatewayTarget gateway, HttpRequestException e) =>
        $"The Gateway at {gateway.Url} could not be reached ({e.Message}). Start one (`agentry serve`) or point --gateway at the deployment's.";

    internal static async Task<string> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var (body, detail) = await ProblemDetailAsync(response, cancellationToken);
        var text = detail ?? $"The Gateway answered {(int)response.StatusCode} {response.ReasonPhrase}: {body}";
        return response.StatusCode == HttpStatusCode.Unauthorized
            ? $"{text} Pass an API key with --key or AGENTRY_API_KEY (or a bearer token with --token or AGENTRY_TOKEN)."
            : text;
    }

    /// The body of a refusal and its problem detail (RFC 9457 `detail`), when it has one.
    internal static async Task<(string Body, string? Detail)> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var problem = JsonDocument.Parse(body);
            return (body, problem.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null);
        }
        catch (JsonException)
        {
            return (body, null);
        }
    }
}
