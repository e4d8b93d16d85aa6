using System.Security.Claims;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace Agentry.Gateway;

/// A run's artifacts, the output files its agent declared (docs/sandbox.md), as Memory keeps them:
/// GET /runs/{id}/artifacts lists them (name, size, sha256, and why one was left out), GET
/// /runs/{id}/artifacts/{name} gives one's bytes. Read role; another tenant's run is not found.
public static class ArtifactsApi
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static IEndpointRouteBuilder MapArtifactsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/runs/{runId:guid}/artifacts", async (Guid runId, ClaimsPrincipal caller, IRequestClient<GetRun> runs, IRequestClient<GetArtifacts> memory, CancellationToken cancellationToken) =>
        {
            if (await RunsApi.RunOf(runId, caller, runs, cancellationToken) is null)
            {
                return RunsApi.NotFound(runId);
            }

            return Results.Ok((await memory.GetResponse<ArtifactList>(new GetArtifacts(caller.Tenant(), runId), cancellationToken)).Message);
        }).RequireAuthorization(GatewayRoles.Read);

        // {**name}: a name may have folders (results/a.csv).
        app.MapGet("/runs/{runId:guid}/artifacts/{**name}", async (Guid runId, string name, HttpContext http, IRequestClient<GetRun> runs, IRequestClient<GetArtifact> memory, CancellationToken cancellationToken) =>
        {
            if (await RunsApi.RunOf(runId, http.User, runs, cancellationToken) is null)
            {
                return RunsApi.NotFound(runId);
            }

            var artifact = (await memory.GetResponse<ArtifactContent>(new GetArtifact(http.User.Tenant(), runId, name), cancellationToken)).Message;
            if (!artifact.Found)
            {
                return Results.Problem($"Run {runId} has no artifact '{name}'. GET /runs/{runId}/artifacts lists the ones it has.", statusCode: StatusCodes.Status404NotFound, title: "Artifact not found.");
            }

            if (artifact.Content is not { } content)
            {
                return Results.Problem($"'{name}' of run {runId} was not kept: {artifact.Info?.LeftOut}.", statusCode: StatusCodes.Status404NotFound, title: "Artifact left out.");
            }

            // The bytes are whatever the agent's code wrote: a download, never a page the browser
            // renders on the Gateway's origin (an .html or .svg artifact could carry script).
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.ContentSecurityPolicy = "sandbox";
            if (artifact.Info?.Sha256 is { } sha256)
            {
                http.Response.Headers["X-Artifact-Sha256"] = sha256;
            }

            return Results.File(content, ContentTypes.TryGetContentType(name, out var type) ? type : "application/octet-stream", Path.GetFileName(name));
        }).RequireAuthorization(GatewayRoles.Read);

        return app;
    }

    public static void AddArtifactClients(this IBusRegistrationConfigurator bus)
    {
        bus.AddRequestClient<GetArtifacts>(RequestTimeout.After(s: 10));
        bus.AddRequestClient<GetArtifact>(RequestTimeout.After(s: 30));
    }
}
