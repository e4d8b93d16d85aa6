using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Agents;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.Notifier;

/// Delivers each run's outcome: to the log always, and as JSON to the agent's webhook when its
/// definition names one. A webhook that fails is retried by the endpoint's retry policy, then the
/// message goes to the error queue, so no outcome is dropped silently.
public sealed partial class OutcomeConsumer(
    AgentCatalog agents,
    IHttpClientFactory httpClients,
    ILogger<OutcomeConsumer> logger) :
    IConsumer<RunCompleted>, IConsumer<RunFailed>, IConsumer<RunEscalated>, IConsumer<RunCancelled>
{
    public const string HttpClientName = "notifier-webhooks";

    public Task Consume(ConsumeContext<RunCompleted> context) => DeliverAsync(RunOutcome.From(context.Message), context.CancellationToken);

    public Task Consume(ConsumeContext<RunFailed> context) => DeliverAsync(RunOutcome.From(context.Message), context.CancellationToken);

    public Task Consume(ConsumeContext<RunEscalated> context) => DeliverAsync(RunOutcome.From(context.Message), context.CancellationToken);

    public Task Consume(ConsumeContext<RunCancelled> context) => DeliverAsync(RunOutcome.From(context.Message), context.CancellationToken);

    private async Task DeliverAsync(RunOutcome outcome, CancellationToken cancellationToken)
    {
        LogOutcome(logger, outcome.RunId, outcome.Agent, outcome.Status, outcome.Steps, outcome.Answer ?? outcome.Reason ?? "");
        if (agents.Find(outcome.Agent)?.Notify.Webhook is not { } webhook)
        {
            return;
        }

        using var response = await httpClients.CreateClient(HttpClientName).PostAsJsonAsync(webhook, outcome, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The webhook {webhook} answered {(int)response.StatusCode} {response.ReasonPhrase} for run {outcome.RunId}.");
        }

        LogDelivered(logger, outcome.RunId, webhook);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of agent {Agent} ended {Status} after {Steps} step(s): {Detail}")]
    private static partial void LogOutcome(ILogger logger, Guid runId, string agent, string status, int steps, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} outcome delivered to {Webhook}.")]
    private static partial void LogDelivered(ILogger logger, Guid runId, Uri webhook);
}
