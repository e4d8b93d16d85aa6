using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Agents;
using MassTransit;
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

/// Tells the agent's webhook of every call that waits for a person, one POST per call, so that each
/// notice carries the one address its decision goes to.
public sealed partial class ApprovalRequestConsumer(
    AgentCatalog agents,
    IHttpClientFactory httpClients,
    ILogger<ApprovalRequestConsumer> logger) : IConsumer<ApprovalRequested>
{
    public async Task Consume(ConsumeContext<ApprovalRequested> context)
    {
        var request = context.Message;
        LogWaiting(logger, request.RunId, request.Agent, request.Step, string.Join(", ", request.Calls.Select(c => $"{c.Tool} ({c.CallId})")));
        if (agents.Find(request.Agent)?.Notify.Webhook is not { } webhook)
        {
            return;
        }

        var client = httpClients.CreateClient(OutcomeConsumer.HttpClientName);
        foreach (var call in request.Calls)
        {
            var notice = new ApprovalNotice("approval.requested", request.RunId, request.TenantId, request.Agent, request.Step, call.CallId, call.Tool, call.Arguments,
                request.ExpiresAt, request.OnTimeout, request.Thought, request.Goal, $"POST /runs/{request.RunId}/approvals/{Uri.EscapeDataString(call.CallId)}");
            using var response = await client.PostAsJsonAsync(webhook, notice, context.CancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"The webhook {webhook} answered {(int)response.StatusCode} {response.ReasonPhrase} for the approval of call {call.CallId} of run {request.RunId}.");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of agent {Agent} waits for approval at step {Step}: {Calls}")]
    private static partial void LogWaiting(ILogger logger, Guid runId, string agent, int step, string calls);
}
