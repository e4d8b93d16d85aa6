using System.Text.Json;
using Agentry.Contracts;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Agentry.Notifier;

/// A call waiting for approval, as the agent's webhook receives it: what waits, until when, and
/// where to decide (docs/approvals.md).
public sealed record ApprovalNotice(
    string Event,
    Guid RunId,
    string TenantId,
    string Agent,
    int Step,
    string CallId,
    string Tool,
    JsonElement Arguments,
    DateTimeOffset ExpiresAt,
    string OnTimeout,
    string? Thought,
    string? Goal,
    string Decide);

/// Tells the agent's channels (webhook, Slack, email) of every call that waits for a person, one
/// notification per call, so that each carries the one address its decision goes to. The webhook
/// receives the ApprovalNotice as JSON; Slack and email the text.
public sealed partial class ApprovalRequestConsumer(
    NotificationDispatcher dispatcher,
    IConfiguration configuration,
    ILogger<ApprovalRequestConsumer> logger) : IConsumer<ApprovalRequested>
{
    public async Task Consume(ConsumeContext<ApprovalRequested> context)
    {
        var request = context.Message;
        LogWaiting(logger, request.RunId, request.Agent, request.Step, string.Join(", ", request.Calls.Select(c => $"{c.Tool} ({c.CallId})")));
        foreach (var call in request.Calls)
        {
            var decide = $"POST /runs/{request.RunId}/approvals/{Uri.EscapeDataString(call.CallId)}";
            var notice = new ApprovalNotice("approval.requested", request.RunId, request.TenantId, request.Agent, request.Step, call.CallId, call.Tool, call.Arguments,
                request.ExpiresAt, request.OnTimeout, request.Thought, request.Goal, decide);
            var text = string.Join(Environment.NewLine,
                $"Agent {request.Agent} wants to call {call.Tool} at step {request.Step} of run {request.RunId}.",
                $"Goal: {request.Goal}",
                $"Arguments: {call.Arguments.GetRawText()}",
                $"Waits until {request.ExpiresAt:u}; then: {request.OnTimeout}.",
                $"Approve: agentry approve {request.RunId} {call.CallId}",
                $"Deny:    agentry deny {request.RunId} {call.CallId} --comment \"why\"",
                $"Or {decide} with {{\"approved\": true|false, \"by\": \"you\", \"comment\": \"...\"}}.");
            var notification = new Notification("approval.requested", $"Approval needed: {call.Tool} for agent {request.Agent}", text,
                RunLinks.Of(configuration, request.RunId), JsonSerializer.SerializeToElement(notice, JsonSerializerOptions.Web),
                Key: $"approval.requested:{request.RunId}:{request.Step}:{call.CallId}");
            await dispatcher.NotifyAsync(context, request.RunId, request.TenantId, request.Agent, notification, context.CancellationToken, request.AgentHash);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of agent {Agent} waits for approval at step {Step}: {Calls}")]
    private static partial void LogWaiting(ILogger logger, Guid runId, string agent, int step, string calls);
}
