using System.Globalization;
using System.Security.Claims;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway.WebConsole;

/// GET /runs/totals: runs, success rate, tokens and cost per agent per day (UTC) over a window,
/// counted by Memory from the runs it keeps. The caller's tenant's, unless an admin names another.
public static class RunTotalsApi
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(7);
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(366);

    private static readonly string[] Accepted = ["since", "until", "agent", "tenant"];

    public static IEndpointRouteBuilder MapRunTotalsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/runs/totals", async (HttpRequest http, ClaimsPrincipal caller, TimeProvider clock, IRequestClient<GetRunTotals> memory, CancellationToken cancellationToken) =>
        {
            var (query, problem) = Parse(http.Query, caller.Tenant(), clock.GetUtcNow());
            if (problem is not null)
            {
                return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "The totals cannot be counted.");
            }

            return RunListApi.AnotherTenant(caller, query!.TenantId, "totals") ?? Results.Ok((await memory.GetResponse<RunTotals>(query, cancellationToken)).Message);
        }).RequireAuthorization(GatewayRoles.Read);

        return app;
    }

    /// The query of a request, or what is wrong with it in words.
    internal static (GetRunTotals? Query, string? Problem) Parse(IQueryCollection query, string tenantId, DateTimeOffset now)
    {
        if (query.Keys.FirstOrDefault(key => !Accepted.Contains(key, StringComparer.OrdinalIgnoreCase)) is { } unknown)
        {
            return (null, $"'{unknown}' is not a filter of the totals; they take {string.Join(", ", Accepted)}.");
        }

        var (until, untilProblem) = RunListApi.Time(query, "until");
        var (since, sinceProblem) = RunListApi.Time(query, "since");
        if ((untilProblem ?? sinceProblem) is { } problem)
        {
            return (null, problem);
        }

        var end = until ?? now;
        var start = since ?? end - DefaultWindow;
        if (start >= end)
        {
            return (null, $"'since' ({start:O}) is not before 'until' ({end:O}): the window is empty.");
        }

        if (end - start > MaxWindow)
        {
            return (null, $"The window from {start:O} to {end:O} is {(end - start).TotalDays.ToString("0.#", CultureInfo.InvariantCulture)} days; it may span at most {MaxWindow.TotalDays} days.");
        }

        return (new GetRunTotals(RunListApi.Text(query, "tenant") ?? tenantId, start, end, RunListApi.Text(query, "agent")), null);
    }
}
