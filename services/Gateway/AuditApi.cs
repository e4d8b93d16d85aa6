using System.Security.Claims;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

/// The caller's tenant's audit trail, newest first (GET /audit?runId=&limit=&before=), for admins.
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/audit", async (Guid? runId, int? limit, DateTimeOffset? before, ClaimsPrincipal caller, IRequestClient<GetAuditTrail> memory, CancellationToken cancellationToken) =>
        {
            if (limit is < 1 or > 1000)
            {
                return Results.Problem($"limit must be between 1 and 1000, not {limit}.", statusCode: StatusCodes.Status400BadRequest, title: "The query cannot be answered.");
            }

            var response = await memory.GetResponse<AuditTrail>(new GetAuditTrail(caller.Tenant(), runId, limit ?? 100, before), cancellationToken);
            return Results.Ok(response.Message);
        }).RequireAuthorization(GatewayRoles.Admin);

        return app;
    }
}
