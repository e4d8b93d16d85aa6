using Agentry.ServiceDefaults.Payloads;
using System.Security.Claims;
using System.Text.Json;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Gateway.Lineage;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway;

/// UserId: the user the run works for; long-term memory about them is kept and recalled under it.
/// TenantId may be left out: the run's tenant is the caller's (a different one is refused).
public sealed record StartRunRequest(string? Agent, string? Goal, JsonElement? Input = null, string? TenantId = null, RunLimits? Limits = null, string? UserId = null);

public sealed record StartRunResponse(Guid RunId, string Status);

public sealed record CancelRunRequest(string? Reason);

/// Guidance: what the agent should do now, in words. By is read only without authentication: with
/// it, the caller's credential says who.
public sealed record ResumeRunRequest(string? Guidance, string? By);

/// Resolution: what the person did or decided, which becomes the run's answer.
public sealed record CloseRunRequest(string? Resolution, string? By);

/// The trigger stage's HTTP API: start a run, read it back, cancel it, resume or close it once escalated
/// (and, in ApprovalsApi, decide its calls). Every run is the caller's tenant's: another tenant's run
/// is answered as not found, whatever its id.
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup("/runs");

        runs.MapPost("/", async (StartRunRequest request, HttpRequest http, ClaimsPrincipal caller, AgentCatalog agents, IOptions<GoalBounds> bounds, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            var tenant = caller.Tenant();
            var idempotencyKey = http.Headers[IdempotencyKeyHeader].ToString();
            if (IdempotencyKeyProblem(idempotencyKey) is { } keyProblem)
            {
                return Results.Problem(keyProblem, statusCode: StatusCodes.Status400BadRequest, title: "The run cannot start.");
            }

            if (!string.IsNullOrWhiteSpace(request.TenantId) && request.TenantId.Trim() != tenant)
            {
                return Results.Problem($"Your credential acts for tenant '{tenant}'; the body names tenant '{request.TenantId}'. Leave tenantId out: a run's tenant is its caller's.", statusCode: StatusCodes.Status403Forbidden, title: "Another tenant.");
            }

            // The saga starts one run per run id, so a retried request with its key starts nothing new.
            var runId = idempotencyKey.Length == 0 ? NewId.NextGuid() : Triggers.TriggeredRuns.RunIdOfRequest(tenant, idempotencyKey);
            var goal = new GoalReceived(runId, tenant, request.Agent ?? "", request.Goal?.Trim() ?? "", request.Input, TriggerKind.Api, request.Limits, UserId: request.UserId);
            if ((GoalValidation.Problem(agents, goal, bounds.Value) ?? UserIds.Problem(request.UserId)) is { } problem)
            {
                return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "The run cannot start.");
            }

            await bus.Publish(goal, cancellationToken);
            return Results.Accepted($"/runs/{runId}", new StartRunResponse(runId, "Accepted"));
        }).RequireAuthorization(GatewayRoles.Submit).CountedAsSubmission();

        runs.MapGet("/{runId:guid}", async (Guid runId, ClaimsPrincipal caller, IRequestClient<GetRun> memory, IRequestClient<GetRunDefinition> planner, CancellationToken cancellationToken) =>
            await RunOf(runId, caller, memory, cancellationToken) is { } run ? Results.Ok(await RunDefinitionsApi.WithDefinitionAsync(run, planner, cancellationToken)) : NotFound(runId))
            .RequireAuthorization(GatewayRoles.Read);

        // A tool output whole, as a person reads it: one kept out of line (docs/durability.md) is read
        // from its payload store here, never carried whole in the run view.
        runs.MapGet("/{runId:guid}/outputs/{callId}", async (Guid runId, string callId, ClaimsPrincipal caller, IRequestClient<GetRun> memory, PayloadStore payloads, CancellationToken cancellationToken) =>
        {
            if (await RunOf(runId, caller, memory, cancellationToken) is not { } run)
            {
                return NotFound(runId);
            }

            if (run.Steps.SelectMany(step => step.Outcomes).FirstOrDefault(o => o.CallId == callId) is not { } outcome)
            {
                return Results.Problem($"Run {runId} has no recorded outcome of a call '{callId}'.", statusCode: StatusCodes.Status404NotFound, title: "Call not found.");
            }

            var resolved = await payloads.ResolveAsync(outcome, null, cancellationToken);
            return Results.Text(resolved.Succeeded ? resolved.Output : resolved.Error ?? resolved.Output, "text/plain; charset=utf-8");
        }).RequireAuthorization(GatewayRoles.Read);

        runs.MapPost("/{runId:guid}/cancel", async (Guid runId, CancelRunRequest? request, HttpContext http, IRequestClient<GetRun> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (await RunOf(runId, http.User, memory, cancellationToken) is not { } run)
            {
                return NotFound(runId);
            }

            var reason = string.IsNullOrWhiteSpace(request?.Reason) ? "Cancelled through the API." : request.Reason.Trim();
            await bus.Publish(new CancelRun(runId, run.TenantId!, reason), cancellationToken);
            await bus.RecordAsync(http, "run.cancelled", runId, detail: reason);
            return Results.Accepted($"/runs/{runId}");
        }).RequireAuthorization(GatewayRoles.Submit);

        // An escalated run waits for a person (decision 0021): resume it with guidance or close it.
        runs.MapPost("/{runId:guid}/resume", async (Guid runId, ResumeRunRequest? request, HttpContext http, IRequestClient<GetRun> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request?.Guidance))
            {
                return Results.Problem("'guidance' is empty: tell the agent what to do now.", statusCode: StatusCodes.Status400BadRequest, title: "The run cannot be resumed.");
            }

            return await WhenEscalatedAsync(runId, "resumed", http.User, memory, async (run, step) =>
            {
                await bus.Publish(new ResumeRun(runId, run.TenantId!, request.Guidance.Trim(), By(http.User, request.By), step), cancellationToken);
                await bus.RecordAsync(http, "run.resumed", runId, detail: request.Guidance.Trim());
            }, cancellationToken);
        }).RequireAuthorization(GatewayRoles.Approve);

        runs.MapPost("/{runId:guid}/close", async (Guid runId, CloseRunRequest? request, HttpContext http, IRequestClient<GetRun> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request?.Resolution))
            {
                return Results.Problem("'resolution' is empty: say what was done or decided; it becomes the run's answer.", statusCode: StatusCodes.Status400BadRequest, title: "The run cannot be closed.");
            }

            return await WhenEscalatedAsync(runId, "closed", http.User, memory, async (run, step) =>
            {
                await bus.Publish(new CloseRun(runId, run.TenantId!, request.Resolution.Trim(), By(http.User, request.By), step), cancellationToken);
                await bus.RecordAsync(http, "run.closed", runId, detail: request.Resolution.Trim());
            }, cancellationToken);
        }).RequireAuthorization(GatewayRoles.Approve);

        runs.MapRunDefinitionsApi();
        runs.MapRunLineagesApi();
        app.MapApprovalsApi();
        return app;
    }

    /// The run, if it exists and is the caller's tenant's.
    internal static async Task<RunView?> RunOf(Guid runId, ClaimsPrincipal caller, IRequestClient<GetRun> memory, CancellationToken cancellationToken)
    {
        var run = (await memory.GetResponse<RunView>(new GetRun(runId), cancellationToken)).Message;
        return run.Found && run.TenantId == caller.Tenant() ? run : null;
    }

    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// Keys as the IETF draft on the Idempotency-Key header and the APIs that use it take them: a
    /// caller's own unique string (a UUID, an order number), printable ASCII, not too long to index.
    private static string? IdempotencyKeyProblem(string key) =>
        key.Length > 255 ? $"The Idempotency-Key is {key.Length} characters; the limit is 255."
        : key.Any(c => c is < '!' or > '~') ? "The Idempotency-Key may hold printable ASCII characters only (no spaces), e.g. a UUID."
        : null;

    internal static IResult NotFound(Guid runId) =>
        Results.Problem($"No run {runId} is known.", statusCode: StatusCodes.Status404NotFound, title: "Run not found.");

    /// Who decides: the credential's holder; only a Gateway without authentication takes the body's word.
    internal static string By(ClaimsPrincipal caller, string? by) =>
        caller.Identity?.AuthenticationType == LoopbackAuthenticationHandler.SchemeName && !string.IsNullOrWhiteSpace(by) ? by.Trim() : caller.Name();

    /// Only a run Memory records as escalated can be resumed or closed; the request names the step it
    /// escalated at, so that the saga ignores it if the run has moved on since (another person was quicker).
    private static async Task<IResult> WhenEscalatedAsync(Guid runId, string what, ClaimsPrincipal caller, IRequestClient<GetRun> memory, Func<RunView, int?, Task> act, CancellationToken cancellationToken)
    {
        if (await RunOf(runId, caller, memory, cancellationToken) is not { } run)
        {
            return NotFound(runId);
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
        bus.AddRequestClient<ListRuns>(RequestTimeout.After(s: 10));
        bus.AddRequestClient<GetRunTotals>(RequestTimeout.After(s: 10));
        // Every process that hosts the Gateway's clients can feed GET /runs/events; it receives the
        // events only while someone follows (RunEventFeed).
        bus.TryAddSingleton<WebConsole.RunEventFeed>();
        bus.AddMemoryClients();
        bus.AddRequestClient<GetPendingApprovals>(RequestTimeout.After(s: 10));
        bus.AddRequestClient<GetAuditTrail>(RequestTimeout.After(s: 10));
        bus.AddRequestClient<GetRunDefinition>(RequestTimeout.After(s: 10));
        bus.AddArtifactClients();
    }
}
