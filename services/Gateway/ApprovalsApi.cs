using System.Security.Claims;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

/// A person's decision on a call waiting for approval. Comment: why. By is read only without
/// authentication: with it, the caller's credential says who decided.
public sealed record ApprovalDecisionRequest(bool? Approved, string? By = null, string? Comment = null);

/// Calls waiting for a person (docs/approvals.md): list the caller's tenant's, decide one. Memory's
/// record of the run is the read model; the saga has the last word (the first decision it receives wins).
public static class ApprovalsApi
{
    public static IEndpointRouteBuilder MapApprovalsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/approvals", async (ClaimsPrincipal caller, IRequestClient<GetPendingApprovals> memory, CancellationToken cancellationToken) =>
        {
            var response = await memory.GetResponse<PendingApprovals>(new GetPendingApprovals(caller.Tenant()), cancellationToken);
            return Results.Ok(response.Message);
        }).RequireAuthorization(GatewayRoles.Read);

        app.MapPost("/runs/{runId:guid}/approvals/{callId}", async (Guid runId, string callId, ApprovalDecisionRequest? request, HttpContext http, IRequestClient<GetRun> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (request?.Approved is not { } approved)
            {
                return Results.Problem("Say whether the call is approved: send {\"approved\": true} or {\"approved\": false}, with an optional \"comment\".", statusCode: StatusCodes.Status400BadRequest, title: "The decision is incomplete.");
            }

            if (await RunsApi.RunOf(runId, http.User, memory, cancellationToken) is not { } run)
            {
                return RunsApi.NotFound(runId);
            }

            if (run.Approvals?.FirstOrDefault(a => a.CallId == callId) is not { } approval)
            {
                var waiting = run.Approvals?.Where(a => a.Approved is null).Select(a => a.CallId).ToList() ?? [];
                return Results.Problem(
                    $"Run {runId} has no call '{callId}' that needs approval. " + (waiting.Count == 0 ? "None of its calls waits for approval." : $"Calls waiting: {string.Join(", ", waiting)}."),
                    statusCode: StatusCodes.Status404NotFound, title: "Call not found.");
            }

            if (approval.Approved is { } decided)
            {
                return Results.Problem(
                    $"The call '{callId}' of run {runId} was already {(decided ? "approved" : "denied")} by {approval.DecidedBy}.",
                    statusCode: StatusCodes.Status409Conflict, title: "Already decided.");
            }

            if (run.Status != RunStatus.Running)
            {
                return Results.Problem($"Run {runId} has ended ({run.Status}): its calls can no longer be decided.", statusCode: StatusCodes.Status409Conflict, title: "The run has ended.");
            }

            var comment = string.IsNullOrWhiteSpace(request.Comment) ? null : request.Comment.Trim();
            await bus.Publish(new ApprovalDecided(runId, approval.TenantId, approval.Step, callId, approved, RunsApi.By(http.User, request.By), comment), cancellationToken);
            await bus.RecordAsync(http, approved ? "approval.approved" : "approval.denied", runId, callId, comment);
            return Results.Accepted($"/runs/{runId}");
        }).RequireAuthorization(GatewayRoles.Approve);

        return app;
    }
}
