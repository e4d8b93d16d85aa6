using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using Agentry.ServiceDefaults.Agents;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

/// UserId: the user the run works for; long-term memory about them is kept and recalled under it.
public sealed record StartRunRequest(string? Agent, string? Goal, JsonElement? Input = null, string? TenantId = null, RunLimits? Limits = null, string? UserId = null);

public sealed record StartRunResponse(Guid RunId, string Status);

public sealed record CancelRunRequest(string? Reason);

/// The trigger stage's HTTP API: start a run, read it back, cancel it (and, in ApprovalsApi, decide its calls).
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

        app.MapApprovalsApi();
        return app;
    }

    public static void AddGatewayClients(this IBusRegistrationConfigurator bus)
    {
        bus.AddRequestClient<GetRun>(RequestTimeout.After(s: 10));
        bus.AddMemoryClients();
        bus.AddRequestClient<GetPendingApprovals>(RequestTimeout.After(s: 10));
    }
}
