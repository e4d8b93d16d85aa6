using Agentry.Agents.Pinning;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

/// Moved: false when the run was already on (or already moving to) the current definition.
public sealed record MoveDefinitionResponse(Guid RunId, string Agent, string? FromHash, string ToHash, bool Moved, string Message);

/// Runs pinned to their definition (docs/durability.md): which version of its agent a run acts on,
/// and moving it to the current one on purpose. The Planner holds the pin (GetRunDefinition).
public static class RunDefinitionsApi
{
    /// How long GET /runs/{id} waits for the Planner's part of the view before it answers without it.
    private static readonly TimeSpan ViewWait = TimeSpan.FromSeconds(3);

    public static IEndpointRouteBuilder MapRunDefinitionsApi(this IEndpointRouteBuilder runs)
    {
        // The Planner decides (it holds the pin, and a move applies there); the same role as resuming
        // or closing a run, since a move changes how the run goes on: its instructions, tools and limits.
        runs.MapPost("/{runId:guid}/definition", async (Guid runId, HttpContext http, IRequestClient<GetRunDefinition> planner, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            var pinned = (await planner.GetResponse<RunDefinition>(new GetRunDefinition(runId), cancellationToken)).Message;
            if (!pinned.Found || pinned.TenantId != http.User.Tenant())
            {
                return RunsApi.NotFound(runId);
            }

            if (pinned.Finished)
            {
                return Refused(runId, $"Run {runId} is {pinned.State}: a finished run keeps the definition it ended with.");
            }

            if (pinned.CurrentHash is not { } current)
            {
                return Refused(runId, $"Agent '{pinned.Agent}' is no longer defined: run {runId} stays on its pinned definition {AgentDefinitionHash.Abbreviate(pinned.AgentHash)}. Cancel it, or define the agent again to move it.");
            }

            if ((pinned.MovingToHash ?? pinned.AgentHash) == current)
            {
                var already = pinned.MovingToHash is null
                    ? $"Run {runId} is already on the current definition of '{pinned.Agent}' ({AgentDefinitionHash.Abbreviate(current)})."
                    : $"Run {runId} is already moving to the current definition of '{pinned.Agent}' ({AgentDefinitionHash.Abbreviate(current)}) at its next step.";
                return Results.Ok(new MoveDefinitionResponse(runId, pinned.Agent!, pinned.AgentHash, current, Moved: false, already));
            }

            await bus.Publish(new MoveRunDefinition(runId, pinned.TenantId!, current, http.User.Actor()), cancellationToken);
            await bus.RecordAsync(http, "run.definition-moved", runId, target: current,
                detail: $"agent {pinned.Agent} from {pinned.AgentHash ?? "(none)"} to {current}");
            return Results.Accepted($"/runs/{runId}", new MoveDefinitionResponse(runId, pinned.Agent!, pinned.AgentHash, current, Moved: true,
                $"Run {runId} moves from {AgentDefinitionHash.Abbreviate(pinned.AgentHash)} to {AgentDefinitionHash.Abbreviate(current)} at its next step."));
        }).RequireAuthorization(GatewayRoles.Approve);
        return runs;
    }

    /// The run's view with the Planner's part; without it when the Planner does not answer in time
    /// (the rest of the view is Memory's and stays useful).
    internal static async Task<RunView> WithDefinitionAsync(RunView run, IRequestClient<GetRunDefinition> planner, CancellationToken cancellationToken)
    {
        try
        {
            var pinned = (await planner.GetResponse<RunDefinition>(new GetRunDefinition(run.RunId), cancellationToken, RequestTimeout.After(ms: (int)ViewWait.TotalMilliseconds))).Message;
            return pinned.Found ? run with { Definition = pinned } : run;
        }
        catch (RequestTimeoutException)
        {
            return run;
        }
    }

    private static IResult Refused(Guid runId, string why) =>
        Results.Problem(why, statusCode: StatusCodes.Status409Conflict, title: $"Run {runId} cannot be moved to the current definition.");
}
