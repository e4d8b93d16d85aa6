using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.WebConsole;

/// The reads the console lists and follows runs with: GET /runs with filters, and GET /runs/events,
/// a stream of Server-Sent Events of the caller's tenant's runs (docs/console.md). The stream is
/// read with fetch, not EventSource, so that it carries the same Authorization header as every call.
/// Both take `tenant` from the admin role only, as GET /runs/totals does: an operator's view of
/// another tenant.
public static class RunListApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// The first event of every stream: from here on nothing is missed, so a reader may now read the
    /// runs' state and apply the events that follow on top of it.
    public const string ReadyEvent = "ready";

    public static IEndpointRouteBuilder MapRunListApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/runs", async (HttpRequest http, ClaimsPrincipal caller, IRequestClient<ListRuns> memory, CancellationToken cancellationToken) =>
        {
            var (query, problem) = Parse(http.Query, caller.Tenant());
            if (problem is not null)
            {
                return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "The runs cannot be listed.");
            }

            if (AnotherTenant(caller, query!.TenantId, "runs") is { } refused)
            {
                return refused;
            }

            return Results.Ok((await memory.GetResponse<RunList>(query!, cancellationToken)).Message);
        }).RequireAuthorization(GatewayRoles.Read);

        app.MapGet("/runs/events", async (Guid? run, string? tenant, ClaimsPrincipal caller, RunEventFeed feed, IOptions<JsonOptions> json, CancellationToken cancellationToken) =>
        {
            var tenantId = string.IsNullOrWhiteSpace(tenant) ? caller.Tenant() : tenant.Trim();
            if (AnotherTenant(caller, tenantId, "runs' events") is { } refused)
            {
                return refused;
            }

            RunEventSubscription subscription;
            try
            {
                subscription = await feed.SubscribeAsync(tenantId, cancellationToken);
            }
            catch (TimeoutException)
            {
                return Results.Problem("The Gateway could not subscribe to the runs' events on the message broker in time. Try again; if it persists, check the broker (GET /health/ready).",
                    statusCode: StatusCodes.Status503ServiceUnavailable, title: "The runs' events are not available.");
            }

            // The request's end is the follower's end, also when the stream was never started.
            cancellationToken.Register(subscription.Dispose);
            return TypedResults.ServerSentEvents(Stream(subscription, run, json.Value.SerializerOptions, cancellationToken));
        }).RequireAuthorization(GatewayRoles.Read);

        return app;
    }

    private static async IAsyncEnumerable<SseItem<string>> Stream(RunEventSubscription subscription, Guid? run, JsonSerializerOptions json, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var _ = subscription;
        // Subscribed before "ready" is sent: every event published from here on reaches the stream.
        yield return new SseItem<string>("{}", ReadyEvent);
        await foreach (var runEvent in subscription.ReadAllAsync(cancellationToken))
        {
            if (run is null || runEvent.RunId == run)
            {
                yield return new SseItem<string>(JsonSerializer.Serialize(runEvent.Message, runEvent.Message.GetType(), json), runEvent.Type);
            }
        }
    }

    /// A 403 when the caller names a tenant not theirs without the admin role; null when they may read it.
    internal static IResult? AnotherTenant(ClaimsPrincipal caller, string tenantId, string what) =>
        tenantId == caller.Tenant() || caller.IsInRole(GatewayRoles.Admin)
            ? null
            : Results.Problem($"Your credential acts for tenant '{caller.Tenant()}'; only the admin role reads another tenant's {what}. Leave tenant out.",
                statusCode: StatusCodes.Status403Forbidden, title: "Another tenant.");

    /// The query of a request's filters, or what is wrong with them in words.
    internal static (ListRuns? Query, string? Problem) Parse(IQueryCollection query, string tenantId)
    {
        var agent = Text(query, "agent");
        var (status, statusProblem) = Named<RunStatus>(query, "status");
        var (trigger, triggerProblem) = Named<TriggerKind>(query, "trigger");
        if ((statusProblem ?? triggerProblem) is { } problem)
        {
            return (null, problem);
        }

        var (since, sinceProblem) = Time(query, "since");
        if (sinceProblem is not null)
        {
            return (null, sinceProblem);
        }

        var limit = DefaultLimit;
        if (Text(query, "limit") is { } limitText && (!int.TryParse(limitText, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return (null, $"'limit' is '{limitText}'; it is a whole number from 1 to {MaxLimit}.");
        }

        return (new ListRuns(Text(query, "tenant") ?? tenantId, agent, status, trigger, since, limit), null);
    }

    /// A filter that names a value of the enum, as its name reads (any case; numbers are not names).
    private static (T? Value, string? Problem) Named<T>(IQueryCollection query, string name) where T : struct, Enum
    {
        if (Text(query, name) is not { } text)
        {
            return (null, null);
        }

        return Enum.GetNames<T>().FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) is { } known
            ? (Enum.Parse<T>(known), null)
            : (null, $"'{name}' is '{text}'; it is one of {string.Join(", ", Enum.GetNames<T>())}.");
    }

    /// A time the query names (a day alone is its midnight UTC), or what is wrong with it.
    internal static (DateTimeOffset? Value, string? Problem) Time(IQueryCollection query, string name)
    {
        if (Text(query, name) is not { } text)
        {
            return (null, null);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? (parsed, null)
            : (null, $"'{name}' is '{text}', not a time: give an ISO 8601 time such as 2026-12-01T00:00:00Z.");
    }

    internal static string? Text(IQueryCollection query, string name) =>
        query[name].ToString().Trim() is { Length: > 0 } text ? text : null;
}
