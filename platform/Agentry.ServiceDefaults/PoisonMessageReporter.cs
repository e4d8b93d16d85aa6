using System.Text.Json;
using Agentry.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.ServiceDefaults;

/// Runs in each endpoint's error pipe, after the message was given up on and before it moves to the
/// error queue. When the body names a run, the run is told (RunFaulted), so a poison message ends
/// its run with a reason instead of leaving it to wait for its deadline.
public sealed partial class PoisonMessageReporter(ILogger logger) : IFilter<ExceptionReceiveContext>
{
    public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        await next.Send(context);

        if (FindRun(context) is not { } run || run.MessageType == nameof(RunFaulted))
        {
            // A RunFaulted that cannot be processed is not reported again: that would loop.
            LogPoison(logger, context.InputAddress, null, context.Exception);
            return;
        }

        LogPoison(logger, context.InputAddress, run.RunId, context.Exception);
        var queue = context.InputAddress.AbsolutePath.Trim('/').Split('/').Last();
        var reason = $"A {run.MessageType ?? "message"} of this run could not be processed by '{queue}' and was moved to '{queue}_error': {Describe(context.Exception)}";
        if (UnreadableRunState(context.Exception))
        {
            // The saga cannot read the run to record a fault, so the run's end is published here;
            // its state stays as it was written, for a build that reads it. Its steps and usage are
            // in that state: this build cannot know them, and reports none.
            var failed = await context.PublishEndpointProvider.GetPublishSendEndpoint<RunFailed>();
            await failed.Send(new RunFailed(run.RunId, Extensions.TenantOf(run.TenantId), run.Agent ?? "", reason, 0, TokenUsage.None, TimeSpan.Zero), context.CancellationToken);
            return;
        }

        // The run is told through the same transport; ReceiveContext has no ConsumeContext here.
        var publish = await context.PublishEndpointProvider.GetPublishSendEndpoint<RunFaulted>();
        await publish.Send(new RunFaulted(run.RunId, run.TenantId, reason), context.CancellationToken);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("poisonMessageReporter");

    /// A message its type cannot be read from (a publisher's field of the wrong type) is named by its
    /// field, so the run's reason says what to fix rather than quoting a JSON reader.
    public static string Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is JsonException { Path: { Length: > 1 } path } json)
            {
                var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
                var detail = json.Message.Split(" Path:", 2)[0];
                return $"field '{field}' has the wrong type or shape for the message ({detail})";
            }
        }

        return exception.Message;
    }

    private static bool UnreadableRunState(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is Versions.UnreadableVersionException { IsRunState: true })
            {
                return true;
            }
        }

        return false;
    }

    private sealed record RunReference(Guid RunId, string? TenantId, string? MessageType, string? Agent);

    private static RunReference? FindRun(ExceptionReceiveContext context)
    {
        try
        {
            using var document = JsonDocument.Parse(context.Body.GetBytes());
            var root = document.RootElement;
            // MassTransit's envelope carries the message under "message"; a raw JSON publisher sends it bare.
            var message = root.TryGetProperty("message", out var inner) && inner.ValueKind == JsonValueKind.Object ? inner : root;
            if (!TryGetString(message, "runId", out var id) || !Guid.TryParse(id, out var runId))
            {
                return null;
            }

            TryGetString(message, "tenantId", out var tenant);
            TryGetString(message, "agent", out var agent);
            // The envelope names the type; a raw publisher names it in the MT-MessageType header.
            var type = root.TryGetProperty("messageType", out var types) && types.ValueKind == JsonValueKind.Array && types.GetArrayLength() > 0
                ? types[0].GetString()
                : context.TransportHeaders.Get<string>("MT-MessageType");
            return new RunReference(runId, tenant, type?.Split(':').Last(), agent);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool TryGetString(JsonElement element, string name, out string? value)
    {
        value = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
            {
                value = property.Value.GetString();
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A message on {InputAddress} for run {RunId} was given up on and moved to the error queue.")]
    private static partial void LogPoison(ILogger logger, Uri inputAddress, Guid? runId, Exception exception);
}
