using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using Agentry.Agents;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

/// UserId: the user the run works for; long-term memory about them is kept and recalled under it.
public sealed record StartRunRequest(string? Agent, string? Goal, JsonElement? Input = null, string? TenantId = null, RunLimits? Limits = null, string? UserId = null);

public sealed record StartRunResponse(Guid RunId, string Status);

public sealed record CancelRunRequest(string? Reason);

/// Guidance: what the agent should do now, in words; By: who says so (recorded in the transcript).
public sealed record ResumeRunRequest(string? Guidance, string? By);

/// Resolution: what the person did or decided, which becomes the run's answer; By: who.
public sealed record CloseRunRequest(string? Resolution, string? By);

/// The trigger stage's HTTP API: start a run, read it back, cancel it, resume or close it once escalated
/// (and, in ApprovalsApi, decide its calls).
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup("/runs");

        runs.MapPost("/", async (StartRunRequest request, HttpRequest http, AgentCatalog agents, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if ((GoalValidation.Problem(agents, request.Agent, request.Goal, request.Limits) ?? UserIds.Problem(request.UserId)) is { } problem)
            {
                return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "The run cannot start.");
            }

            var runId = NewId.NextGuid();
            // The body's tenant, else the X-Tenant-Id header that the memories API reads, else the default.
            var tenant = string.IsNullOrWhiteSpace(request.TenantId) ? MemoriesApi.TenantOf(http) : request.TenantId;
            await bus.Publish(new GoalReceived(runId, tenant, request.Agent!, request.Goal!.Trim(), request.Input, TriggerKind.Api, request.Limits, UserId: request.UserId), cancellationToken);
            return Results.Accepted($"/runs/{runId}", new StartRunResponse(runId, "Accepted"));
        });

        runs.MapGet("/{runId:guid}", async (Guid runId, IRequestClient<GetRun> memory, CancellationToken cancellationToken) =>
        {
            var response = await memory.GetResponse<RunView>(new GetRun(runId), cancellationToken);
            return response.Message.Found
                ? Results.Ok(response.Message)
                : Results.Problem($"No run {runId} is known.", statusCode: StatusCodes.Status404NotFound, title: "Run not found.");
        });

        runs.MapPost("/{runId:guid}/cancel", async (Guid runId, CancelRunRequest? request, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            await bus.Publish(new CancelRun(runId, Extensions.DefaultTenant, request?.Reason ?? "Cancelled through the API."), cancellationToken);
            return Results.Accepted($"/runs/{runId}");
        });

        // An escalated run waits for a person (decision 0021): resume it with guidance or close it.
        runs.MapPost("/{runId:guid}/resume", async (Guid runId, ResumeRunRequest? request, IRequestClient<GetRun> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request?.Guidance))
            {
                return Results.Problem("'guidance' is empty: tell the agent what to do now.", statusCode: StatusCodes.Status400BadRequest, title: "The run cannot be resumed.");
            }

            return await WhenEscalatedAsync(runId, "resumed", memory, (run, step) =>
                bus.Publish(new ResumeRun(runId, run.TenantId!, request.Guidance.Trim(), By(request.By), step), cancellationToken), cancellationToken);
        });

        runs.MapPost("/{runId:guid}/close", async (Guid runId, CloseRunRequest? request, IRequestClient<GetRun> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request?.Resolution))
            {
                return Results.Problem("'resolution' is empty: say what was done or decided; it becomes the run's answer.", statusCode: StatusCodes.Status400BadRequest, title: "The run cannot be closed.");
            }

            return await WhenEscalatedAsync(runId, "closed", memory, (run, step) =>
                bus.Publish(new CloseRun(runId, run.TenantId!, request.Resolution.Trim(), By(request.By), step), cancellationToken), cancellationToken);
        });

        app.MapApprovalsApi();
        return app;
    }

    private static string By(string? by) => string.IsNullOrWhiteSpace(by) ? "a person (unnamed)" : by.Trim();

    /// Only a run Memory records as escalated can be resumed or closed; the request names the step it
    /// escalated at, so that the saga ignores it if the run has moved on since (another person was quicker).
    private static async Task<IResult> WhenEscalatedAsync(Guid runId, string what, IRequestClient<GetRun> memory, Func<RunView, int?, Task> act, CancellationToken cancellationToken)
    {
        var run = (await memory.GetResponse<RunView>(new GetRun(runId), cancellationToken)).Message;
        if (!run.Found)
        {
            return Results.Problem($"No run {runId} is known.", statusCode: StatusCodes.Status404NotFound, title: "Run not found.");
        }

        if (run.Status != RunStatus.Escalated)
        {
            return Results.Problem($"Run {runId} is {run.Status}: only an escalated run can be {what}.", statusCode: StatusCodes.Status409Conflict, title: $"The run cannot be {what}.");
        }

        await act(run, run.Steps.Count > 0 ? run.Steps.Max(s => s.Step) : null);
        return Results.Accepted($"/runs/{runId}");
    }

    public static void AddGatewayClients(this IBusRegistrationConfigurator bus)
    {
        bus.AddRequestClient<GetRun>(RequestTimeout.After(s: 10));
        bus.AddMemoryClients();
        bus.AddRequestClient<GetPendingApprovals>(RequestTimeout.After(s: 10));
    }
}
