using System.Text.Json;
using Agentry.Agents;
using Agentry.Agents.Triggers;
using Agentry.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.Gateway.Triggers.Webhooks;

/// What became of a verified delivery: Started (RunId), Filtered, Refused or Failed (Reason).
public sealed record WebhookOutcome(WebhookDeliveryState State, Guid? RunId, string? Reason);

/// Turns a verified delivery of the inbox into a run, for POST /hooks and for an operator's replay:
/// the JSON, the trigger's filter and mapping (TriggeredRuns, as every trigger), the publish inside
/// the trigger's span, and the outcome written back to the inbox.
public sealed partial class WebhookDeliveries(AgentCatalog agents, TriggeredRuns runs, IWebhookInbox inbox, TimeProvider clock, ILogger<WebhookDeliveries> logger)
{
    /// The agent's webhook trigger of that name, or null when there is none.
    public WebhookTrigger? Find(string agent, string trigger) =>
        agents.Find(agent)?.Triggers.OfType<WebhookTrigger>().FirstOrDefault(t => t.Name == trigger);

    /// Starts the run of a Received delivery and settles it. The run id is the delivery's
    /// (TriggeredRuns.RunIdOf), so that even a second publish of it starts no second run.
    /// OverrideFilter: an operator replays it, and their choice stands above the filter.
    public async Task<WebhookOutcome> StartAsync(WebhookDelivery delivery, WebhookTrigger trigger, IPublishEndpoint bus, bool overrideFilter)
    {
        var outcome = await OutcomeAsync(delivery, trigger, bus, overrideFilter);
        // Once verified and recorded, a delivery is settled even when its sender hangs up meanwhile.
        await inbox.SettleAsync(delivery.Id, outcome.State, outcome.RunId, outcome.Reason, clock.GetUtcNow(), CancellationToken.None);
        LogSettled(logger, delivery.Agent, delivery.Trigger, delivery.DeliveryId, outcome.State, outcome.RunId, outcome.Reason);
        return outcome;
    }

    private async Task<WebhookOutcome> OutcomeAsync(WebhookDelivery delivery, WebhookTrigger trigger, IPublishEndpoint bus, bool overrideFilter)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(delivery.Body ?? "", new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            return new WebhookOutcome(WebhookDeliveryState.Refused, null, $"The body is not JSON: {e.Message}");
        }

        using (document)
        {
            var origin = new TriggerOrigin(trigger.Name, delivery.Source, delivery.DeliveryId);
            var mapped = overrideFilter ? trigger with { Mapping = trigger.Mapping with { Filter = [] } } : trigger;
            var prepared = runs.Prepare(delivery.Agent, mapped, document.RootElement, origin, delivery.DeliveryId);
            if (prepared.Goal is not { } goal)
            {
                return new WebhookOutcome(prepared.Filtered ? WebhookDeliveryState.Filtered : WebhookDeliveryState.Refused, null, prepared.Refusal);
            }

            try
            {
                // Inside the trigger's span, so that the run's trace hangs under the delivery.
                using var span = TriggeredRuns.StartSpan(delivery.Agent, trigger, origin);
                await bus.Publish(goal, CancellationToken.None);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new WebhookOutcome(WebhookDeliveryState.Failed, goal.RunId, $"The bus did not take the run ({e.GetType().Name}: {e.Message}); the sender's retry or a replay starts it.");
            }

            return new WebhookOutcome(WebhookDeliveryState.Started, goal.RunId, null);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Agent}/{Trigger} delivery {DeliveryId}: {State} (run {RunId}) {Reason}")]
    private static partial void LogSettled(ILogger logger, string agent, string trigger, string deliveryId, WebhookDeliveryState state, Guid? runId, string? reason);
}
