using System.Diagnostics;
using System.Security.Claims;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using Agentry.Gateway.Tracing;
using Microsoft.Extensions.DependencyInjection;
using Agentry.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway.Lineage;

/// FromStep: the last of the parent's steps the fork keeps; it plans the next. AgentVersion: "pinned"
/// (the default: the parent's pinned definition) or "current". Model: [provider:]name instead of the
/// definition's. Guidance: what the agent is told after FromStep, as on a resume. By: as on a resume.
public sealed record ForkRunRequest(int? FromStep, string? Model = null, string? AgentVersion = null, string? Guidance = null, string? By = null);

/// Model: [provider:]name instead of the parent's.
public sealed record ReplayRunRequest(string? Model = null);

public sealed record LineageRunResponse(Guid RunId, Guid ParentRunId, LineageKind Kind, int FromStep, string? AgentHash, string Message);

/// Forks and replays of a run (docs/durability.md, decision 0031). Each starts a new run, linked to
/// its parent, through GoalReceived like any run: traced, costed and held to limits like any run.
public static class RunLineagesApi
{
    public static IEndpointRouteBuilder MapRunLineagesApi(this IEndpointRouteBuilder runs)
    {
        // The submit role, as for starting a run: a fork or a replay is a new run.
        runs.MapPost("/{runId:guid}/fork", async (Guid runId, ForkRunRequest? request, HttpContext http, IRequestClient<GetRun> memory, IRequestClient<GetRunDefinition> planner, PinnedAgents agents, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (await RunsApi.RunOf(runId, http.User, memory, cancellationToken) is not { } parent)
            {
                return RunsApi.NotFound(runId);
            }

            var recorded = RecordedSteps(parent);
            if (request?.FromStep is not { } from)
            {
                return BadRequest("fork", $"'fromStep' is missing: name the last step of run {runId} to keep (0 to {recorded}); the fork plans the step after it.");
            }

            if (recorded == 0)
            {
                return Conflict("fork", $"Run {runId} has no recorded transcript: no step of it was recorded with its results, so there is nothing to fork from.");
            }

            if (from < 0 || from > recorded)
            {
                return BadRequest("fork", $"Step {from} is out of range: run {runId} has {recorded} recorded step(s); fork from a step between 0 and {recorded}.");
            }

            var version = request.AgentVersion?.Trim().ToLowerInvariant();
            if (version is not (null or "" or "pinned" or "current"))
            {
                return BadRequest("fork", $"'agentVersion' is '{request.AgentVersion}': use 'pinned' (the parent's definition, the default) or 'current' (the agent's definition now).");
            }

            var definition = await DefinitionAsync("fork", parent, current: version == "current", request.Model, cache: null, planner, agents, cancellationToken);
            if (definition.Problem is { } problem)
            {
                return problem;
            }

            var guidance = string.IsNullOrWhiteSpace(request.Guidance) ? null : new Guidance(request.Guidance.Trim(), RunsApi.By(http.User, request.By));
            var lineage = new RunLineage(runId, LineageKind.Fork, from, definition.Hash, Trimmed(request.Model), guidance);
            var started = await StartAsync(parent, lineage, limits: null, http, bus, cancellationToken);
            return Results.Accepted($"/runs/{started}", new LineageRunResponse(started, runId, LineageKind.Fork, from, definition.Hash,
                $"Run {started} forks run {runId} at step {from}: it plans step {from + 1} on definition {AgentDefinitionHash.Abbreviate(definition.Hash ?? agents.Catalog.Find(parent.Agent!)?.Hash)}."));
        }).RequireAuthorization(GatewayRoles.Submit).CountedAsSubmission();

        runs.MapPost("/{runId:guid}/replay", async (Guid runId, ReplayRunRequest? request, HttpContext http, IRequestClient<GetRun> memory, IRequestClient<GetRunDefinition> planner, PinnedAgents agents, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (await RunsApi.RunOf(runId, http.User, memory, cancellationToken) is not { } parent)
            {
                return RunsApi.NotFound(runId);
            }

            if (parent.Status is RunStatus.Running or null)
            {
                return Conflict("replay", $"Run {runId} is still running: only a finished run is replayed (its decisions and their results are all recorded then).");
            }

            var steps = RecordedSteps(parent);
            if (steps == 0)
            {
                return Conflict("replay", $"Run {runId} has no recorded transcript: no step of it was recorded with its results, so there is nothing to replay.");
            }

            // A cached reply would give back the recorded decision instead of deciding again.
            var definition = await DefinitionAsync("replay", parent, current: false, request?.Model, cache: false, planner, agents, cancellationToken);
            if (definition.Problem is { } problem)
            {
                return problem;
            }

            if (definition.Strategy == PlanningStrategy.PlanAndExecute)
            {
                return Conflict("replay", $"Run {runId} is of a plan-and-execute agent: a replay decides ReAct steps again one by one, and a plan's waves cannot be compared that way. Fork it instead.");
            }

            // The parent's planned steps, all recorded with their results: the replay decides each again.
            var lineage = new RunLineage(runId, LineageKind.Replay, 0, definition.Hash, Trimmed(request?.Model));
            var started = await StartAsync(parent, lineage, new RunLimits(MaxSteps: steps), http, bus, cancellationToken);
            return Results.Accepted($"/runs/{started}/replay", new LineageRunResponse(started, runId, LineageKind.Replay, 0, definition.Hash,
                $"Run {started} replays the {steps} step(s) of run {runId} against their recorded results; no tool is run. GET /runs/{started}/replay shows where its decisions differ."));
        }).RequireAuthorization(GatewayRoles.Submit).CountedAsSubmission();

        runs.MapGet("/{runId:guid}/replay", async (Guid runId, ClaimsPrincipal caller, IRequestClient<GetRun> memory, CancellationToken cancellationToken) =>
        {
            if (await RunsApi.RunOf(runId, caller, memory, cancellationToken) is not { } replay)
            {
                return RunsApi.NotFound(runId);
            }

            if (replay.Lineage is not { Kind: LineageKind.Replay } lineage)
            {
                return Conflict("compared", $"Run {runId} is not a replay: POST /runs/{runId}/replay starts one.");
            }

            return await RunsApi.RunOf(lineage.ParentRunId, caller, memory, cancellationToken) is { } parent
                ? Results.Ok(ReplayComparison.Of(replay, parent))
                : Conflict("compared", $"Run {runId} replays run {lineage.ParentRunId}, whose transcript is no longer recorded.");
        }).RequireAuthorization(GatewayRoles.Read);
        return runs;
    }

    /// The steps recorded whole, counted from the first. A fork keeps at most these; a step still in
    /// flight (a running parent) is not one of them.
    public static int RecordedSteps(RunView run)
    {
        var count = 0;
        foreach (var step in run.Steps.OrderBy(s => s.Step))
        {
            if (step.Step != count + 1 || !step.IsRecordedWhole())
            {
                break;
            }

            count++;
        }

        return count;
    }

    private sealed record Definition(string? Hash, PlanningStrategy Strategy, IResult? Problem = null);

    /// The definition the new run is pinned to: the parent's (the Planner holds its pin), or the
    /// current one, either with the model asked for; kept in the definition store before the run names it.
    private static async Task<Definition> DefinitionAsync(string what, RunView parent, bool current, string? model, bool? cache, IRequestClient<GetRunDefinition> planner, PinnedAgents agents, CancellationToken cancellationToken)
    {
        if (agents.Catalog.Find(parent.Agent!) is not { } now)
        {
            return Refused($"Agent '{parent.Agent}' is no longer defined: a new run of it cannot start.");
        }

        AgentDefinition definition;
        if (current)
        {
            definition = now;
        }
        else
        {
            var pinned = (await planner.GetResponse<RunDefinition>(new GetRunDefinition(parent.RunId), cancellationToken)).Message;
            if (!pinned.Found || pinned.AgentHash is null)
            {
                return Refused($"The definition run {parent.RunId} was pinned to is no longer known to the Planner (it keeps a finished run's state for its retention): ask for the agent's current definition instead (agentVersion 'current', --agent-version current).");
            }

            try
            {
                definition = await agents.GetAsync(parent.Agent!, pinned.AgentHash, cancellationToken);
            }
            catch (PinnedDefinitionException e)
            {
                return Refused($"{e.Message} Ask for the agent's current definition instead (agentVersion 'current', --agent-version current).");
            }
        }

        var asked = Trimmed(model);
        if (asked is null && cache is null)
        {
            return new Definition(definition.Hash == now.Hash ? null : definition.Hash, definition.Strategy);
        }

        try
        {
            var changed = await agents.VariantAsync(definition, asked, cache, cancellationToken);
            return new Definition(changed.Hash, changed.Strategy);
        }
        catch (Exception e) when (e is AgentDefinitionException or PinnedDefinitionException)
        {
            return new Definition(null, definition.Strategy, BadRequest(what, $"The model '{asked}' cannot be used: {e.Message}"));
        }

        Definition Refused(string why) => new(null, PlanningStrategy.React, Conflict(what, why));
    }

    /// Inside a span that names the parent and links to its trace, so the new run's trace leads back.
    private static async Task<Guid> StartAsync(RunView parent, RunLineage lineage, RunLimits? limits, HttpContext http, IPublishEndpoint bus, CancellationToken cancellationToken)
    {
        var runId = NewId.NextGuid();
        var kind = lineage.Kind.ToString().ToLowerInvariant();
        var links = await ParentTraceAsync(http.RequestServices, lineage.ParentRunId, cancellationToken);
        using (var span = AgentryTelemetry.Source.StartActivity($"{kind} {parent.Agent}", ActivityKind.Producer, parentContext: default, links: links))
        {
            span?.SetTag(AgentryTelemetry.Tags.RunId, runId.ToString())
                .SetTag(AgentryTelemetry.Tags.Agent, parent.Agent)
                .SetTag(AgentryTelemetry.Tags.ParentRunId, lineage.ParentRunId.ToString())
                .SetTag(AgentryTelemetry.Tags.LineageKind, kind)
                .SetTag(AgentryTelemetry.Tags.LineageFromStep, lineage.FromStep);
            await bus.Publish(new GoalReceived(runId, parent.TenantId!, parent.Agent!, parent.Goal ?? "", parent.Input, TriggerKind.Api, limits, UserId: parent.UserId, Lineage: lineage), cancellationToken);
        }

        await bus.RecordAsync(http, $"run.{(lineage.Kind == LineageKind.Fork ? "forked" : "replayed")}", runId, target: lineage.ParentRunId.ToString(),
            detail: $"{kind} of run {lineage.ParentRunId}{(lineage.Kind == LineageKind.Fork ? $" from step {lineage.FromStep}" : "")}"
                + $"{(lineage.Model is { } model ? $", model {model}" : "")}{(lineage.AgentHash is { } hash ? $", definition {hash}" : "")}"
                + $"{(lineage.Guidance is { } guidance ? $", guidance: {guidance.Text}" : "")}");
        return runId;
    }

    /// A link to the parent's trace when the trace store has it (Jaeger, or this process's recent runs):
    /// the trace its earliest span belongs to, its own (a resume adds traces of its own). Looked for
    /// briefly: a run starts without the link rather than wait on a slow trace store.
    private static async Task<ActivityLink[]> ParentTraceAsync(IServiceProvider services, Guid parentRunId, CancellationToken cancellationToken)
    {
        if (services.GetService<IRunTraces>() is not { } traces)
        {
            return [];
        }

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            var first = (await traces.SpansOfRunAsync(parentRunId, patience.Token)).MinBy(s => s.Start);
            return first is null
                ? []
                : [new ActivityLink(new ActivityContext(ActivityTraceId.CreateFromString(first.TraceId), ActivitySpanId.CreateFromString(first.SpanId), ActivityTraceFlags.Recorded))];
        }
        catch (Exception e) when (e is TraceStoreException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return [];
        }
    }

    private static string? Trimmed(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static IResult BadRequest(string what, string why) =>
        Results.Problem(why, statusCode: StatusCodes.Status400BadRequest, title: $"The run cannot be {Done(what)}.");

    private static IResult Conflict(string what, string why) =>
        Results.Problem(why, statusCode: StatusCodes.Status409Conflict, title: $"The run cannot be {Done(what)}.");

    private static string Done(string what) => what switch { "fork" => "forked", "replay" => "replayed", _ => what };
}
