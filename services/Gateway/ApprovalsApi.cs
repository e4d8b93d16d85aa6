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

/// Who is asked to decide a waiting call: a person's name, as their credential names them (GET /me).
public sealed record ApprovalAssignmentRequest(string? Assignee);

/// Calls waiting for a person (docs/approvals.md): list the caller's tenant's, decide one, assign one
/// to a person. Memory's record of the run is the read model; the saga has the last word on decisions
/// (the first it receives wins); assignments are Memory's alone (the saga does not need them).
public static class ApprovalsApi
{
    private const int AssigneeMaxLength = 200;

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

            var (approval, problem) = await WaitingCallAsync(runId, callId, "decided", http.User, memory, cancellationToken);
            if (approval is null)
            {
                return problem!;
            }

            var comment = string.IsNullOrWhiteSpace(request.Comment) ? null : request.Comment.Trim();
            await bus.Publish(new ApprovalDecided(runId, approval.TenantId, approval.Step, callId, approved, RunsApi.By(http.User, request.By), comment), cancellationToken);
            await bus.RecordAsync(http, approved ? "approval.approved" : "approval.denied", runId, callId, comment);
            return Results.Accepted($"/runs/{runId}");
        }).RequireAuthorization(GatewayRoles.Approve);

        app.MapPost("/runs/{runId:guid}/approvals/{callId}/assign", async (Guid runId, string callId, ApprovalAssignmentRequest? request, HttpContext http, IRequestClient<GetRun> memory, IPublishEndpoint bus, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var assignee = request?.Assignee?.Trim();
            if (AssigneeProblem(assignee) is { } bad)
            {
                return Results.Problem(bad, statusCode: StatusCodes.Status400BadRequest, title: "The assignment is incomplete.");
            }

            return await AssignAsync(runId, callId, assignee, http, memory, bus, clock, cancellationToken);
        }).RequireAuthorization(GatewayRoles.Approve);

        app.MapDelete("/runs/{runId:guid}/approvals/{callId}/assign", (Guid runId, string callId, HttpContext http, IRequestClient<GetRun> memory, IPublishEndpoint bus, TimeProvider clock, CancellationToken cancellationToken) =>
            AssignAsync(runId, callId, null, http, memory, bus, clock, cancellationToken))
            .RequireAuthorization(GatewayRoles.Approve);

        return app;
    }

    private static string? AssigneeProblem(string? assignee) =>
        string.IsNullOrEmpty(assignee) ? "Say who should decide the call: send {\"assignee\": \"alice\"} (a person's name as GET /me gives it). To take an assignment back, DELETE this URL."
        : assignee.Length > AssigneeMaxLength ? $"The assignee is {assignee.Length} characters; a name has at most {AssigneeMaxLength}."
        : assignee.Any(char.IsControl) ? "The assignee may not hold control characters (line breaks, tabs): send a person's name."
        : null;

    /// Assignee null: nobody is asked any more.
    private static async Task<IResult> AssignAsync(Guid runId, string callId, string? assignee, HttpContext http, IRequestClient<GetRun> memory, IPublishEndpoint bus, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (approval, problem) = await WaitingCallAsync(runId, callId, "assigned", http.User, memory, cancellationToken);
        if (approval is null)
        {
            return problem!;
        }

        await bus.Publish(new ApprovalAssigned(runId, approval.TenantId, approval.Step, callId, assignee, http.User.Name(), clock.GetUtcNow()), cancellationToken);
        await bus.RecordAsync(http, assignee is null ? "approval.unassigned" : "approval.assigned", runId, callId, assignee);
        return Results.Accepted($"/runs/{runId}");
    }

    /// The call of the caller's tenant's run that still waits for a decision, or the problem to answer
    /// (404: no such run or call; 409: decided already, or the run has ended). what: "decided", "assigned".
    private static async Task<(ApprovalView? Approval, IResult? Problem)> WaitingCallAsync(Guid runId, string callId, string what, ClaimsPrincipal caller, IRequestClient<GetRun> memory, CancellationToken cancellationToken)
    {
        if (await RunsApi.RunOf(runId, caller, memory, cancellationToken) is not { } run)
        {
            return (null, RunsApi.NotFound(runId));
        }

        if (run.Approvals?.FirstOrDefault(a => a.CallId == callId) is not { } approval)
        {
            var waiting = run.Approvals?.Where(a => a.Approved is null).Select(a => a.CallId).ToList() ?? [];
            return (null, Results.Problem(
                $"Run {runId} has no call '{callId}' that needs approval. " + (waiting.Count == 0 ? "None of its calls waits for approval." : $"Calls waiting: {string.Join(", ", waiting)}."),
                statusCode: StatusCodes.Status404NotFound, title: "Call not found."));
        }

        if (approval.Approved is { } decided)
        {
            return (null, Results.Problem(
                $"The call '{callId}' of run {runId} was already {(decided ? "approved" : "denied")} by {approval.DecidedBy}.",
                statusCode: StatusCodes.Status409Conflict, title: "Already decided."));
        }

        if (run.Status != RunStatus.Running)
        {
            return (null, Results.Problem($"Run {runId} has ended ({run.Status}): its calls can no longer be {what}.", statusCode: StatusCodes.Status409Conflict, title: "The run has ended."));
        }

        return (approval, null);
    }
}
