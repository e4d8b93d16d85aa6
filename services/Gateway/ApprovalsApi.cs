using Agentry.Contracts;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

/// A person's decision on a call waiting for approval. By: who decides (recorded, and shown to the
/// model with a denial); Comment: why.
public sealed record ApprovalDecisionRequest(bool? Approved, string? By, string? Comment = null);

/// Calls waiting for a person (docs/approvals.md): list them, decide one. Memory's record of the
/// run is the read model; the saga has the last word (the first decision it receives wins).
public static class ApprovalsApi
{
    public static IEndpointRouteBuilder MapApprovalsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/approvals", async (string? tenant, IRequestClient<GetPendingApprovals> memory, CancellationToken cancellationToken) =>
        {
            var response = await memory.GetResponse<PendingApprovals>(new GetPendingApprovals(Extensions.TenantOf(tenant)), cancellationToken);
            return Results.Ok(response.Message);
        });

        app.MapPost("/runs/{runId:guid}/approvals/{callId}", async (Guid runId, string callId, ApprovalDecisionRequest? request, IRequestClient<GetRun> memory, IPublishEndpoint bus, CancellationToken cancellationToken) =>
        {
            if (request?.Approved is not { } approved)
            {
                return Results.Problem("Say whether the call is approved: send {\"approved\": true} or {\"approved\": false}, with \"by\" and an optional \"comment\".", statusCode: StatusCodes.Status400BadRequest, title: "The decision is incomplete.");
            }

            if (string.IsNullOrWhiteSpace(request.By))
            {
                return Results.Problem("Say who decides in \"by\" (a name or an email address): it is recorded with the decision.", statusCode: StatusCodes.Status400BadRequest, title: "The decision is incomplete.");
            }

            var run = (await memory.GetResponse<RunView>(new GetRun(runId), cancellationToken)).Message;
            if (!run.Found)
            {
                return Results.Problem($"No run {runId} is known.", statusCode: StatusCodes.Status404NotFound, title: "Run not found.");
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

            await bus.Publish(new ApprovalDecided(runId, approval.TenantId, approval.Step, callId, approved, request.By.Trim(), string.IsNullOrWhiteSpace(request.Comment) ? null : request.Comment.Trim()), cancellationToken);
            return Results.Accepted($"/runs/{runId}");
        });

        return app;
    }
}
