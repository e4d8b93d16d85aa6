using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Agentry.Agents;
using Agentry.Agents.Triggers;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Triggers;

/// The one way from a trigger's firing to a run, for schedules, webhooks and event subscriptions:
/// the filter, the mapping, the same goal validation as POST /runs, and a run id that is the same
/// for the same firing (a due time, a delivery id, an event id). A firing handled twice (two
/// replicas, a redelivered webhook, a retried publish) therefore names one run, which the saga
/// starts once; the claims and the inbox in front of it keep even the second publish away.
public sealed class TriggeredRuns(AgentCatalog agents, IOptions<GoalBounds> bounds)
{
    /// The run for the firing, or why it starts none. Filtered: the trigger's filter left it out
    /// (not an error: senders deliver more than an agent wants).
    public TriggeredRun Prepare(string agent, AgentTrigger trigger, JsonElement document, TriggerOrigin origin, string firing)
    {
        if (trigger.Mapping.Refusal(document) is { } filtered)
        {
            return new TriggeredRun(null, filtered, Filtered: true);
        }

        string goal;
        JsonElement? input;
        try
        {
            (goal, input) = trigger.Mapping.Apply(document);
        }
        catch (TriggerMappingException e)
        {
            return new TriggeredRun(null, $"cannot map the payload to a run: {e.Message}", Filtered: false);
        }

        var received = new GoalReceived(
            RunIdOf(agent, trigger.Name, firing),
            ServiceDefaults.Extensions.TenantOf(trigger.Tenant),
            agent,
            goal,
            input,
            trigger.Kind,
            Origin: origin);
        return GoalValidation.Problem(agents, received, bounds.Value) is { } problem
            ? new TriggeredRun(null, problem, Filtered: false)
            : new TriggeredRun(received, null, Filtered: false);
    }

    /// A span for the firing, the parent of the run's trace when the goal is published inside it.
    public static Activity? StartSpan(string agent, AgentTrigger trigger, TriggerOrigin origin)
    {
        var span = AgentryTelemetry.Source.StartActivity($"trigger {agent}/{trigger.Name}", ActivityKind.Producer);
        span?.SetTag(AgentryTelemetry.Tags.Agent, agent);
        return span.TagTrigger(trigger.Kind, origin);
    }

    /// A name-based UUID (version 8, from SHA-256) of the agent, the trigger and the firing.
    public static Guid RunIdOf(string agent, string trigger, string firing) => NameBased($"{agent}\n{trigger}\n{firing}");

    /// The run a caller of POST /runs names with its Idempotency-Key: the same key of the same tenant
    /// is the same run, so a retry after a lost answer starts nothing new. The prefix keeps these ids
    /// apart from those of trigger firings.
    public static Guid RunIdOfRequest(string tenant, string idempotencyKey) => NameBased($"api\n{tenant}\n{idempotencyKey}");

    private static Guid NameBased(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}

/// Goal: the run to start; Refusal: why none starts.
public sealed record TriggeredRun(GoalReceived? Goal, string? Refusal, bool Filtered);
