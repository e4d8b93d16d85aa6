using System.Security.Claims;
using Agentry.Agents;
using Agentry.Agents.Triggers;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway.Triggers.Schedules;

/// The agents' schedules of the caller's tenant: GET /schedules (next fire times, last fire,
/// counts), GET /schedules/{agent}/{trigger}/history, and POST .../pause and .../resume (manage
/// role, audited). Another tenant's schedule is answered as not found.
public static class SchedulesApi
{
    public static IEndpointRouteBuilder MapSchedulesApi(this IEndpointRouteBuilder app)
    {
        var schedules = app.MapGroup("/schedules");

        schedules.MapGet("/", async (ClaimsPrincipal caller, AgentCatalog agents, IScheduleStore store, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var views = new List<ScheduleView>();
            foreach (var (agent, trigger) in SchedulesOf(agents, caller))
            {
                views.Add(await ViewAsync(agent, trigger, store, clock.GetUtcNow(), cancellationToken));
            }

            return Results.Ok(new ScheduleList(views));
        }).RequireAuthorization(GatewayRoles.Read);

        schedules.MapGet("/{agent}/{trigger}/history", async (string agent, string trigger, int? limit, ClaimsPrincipal caller, AgentCatalog agents, IScheduleStore store, CancellationToken cancellationToken) =>
        {
            if (limit is < 1 or > 1000)
            {
                return Results.Problem($"limit must be between 1 and 1000, not {limit}.", statusCode: StatusCodes.Status400BadRequest, title: "The query cannot be answered.");
            }

            return Find(agents, caller, agent, trigger) is { } found
                ? Results.Ok(new ScheduleHistory(found.Agent.Name, found.Trigger.Name, await store.HistoryAsync(new ScheduleId(agent, trigger), limit ?? 100, cancellationToken)))
                : NotFound(agents, caller, agent, trigger);
        }).RequireAuthorization(GatewayRoles.Read);

        schedules.MapPost("/{agent}/{trigger}/pause", (string agent, string trigger, HttpContext http, AgentCatalog agents, IScheduleStore store, TimeProvider clock, IPublishEndpoint bus, CancellationToken cancellationToken) =>
            SetPausedAsync(agent, trigger, paused: true, http, agents, store, clock, bus, cancellationToken))
            .RequireAuthorization(GatewayRoles.Manage);

        schedules.MapPost("/{agent}/{trigger}/resume", (string agent, string trigger, HttpContext http, AgentCatalog agents, IScheduleStore store, TimeProvider clock, IPublishEndpoint bus, CancellationToken cancellationToken) =>
            SetPausedAsync(agent, trigger, paused: false, http, agents, store, clock, bus, cancellationToken))
            .RequireAuthorization(GatewayRoles.Manage);

        return app;
    }

    private static async Task<IResult> SetPausedAsync(string agent, string trigger, bool paused, HttpContext http, AgentCatalog agents, IScheduleStore store, TimeProvider clock, IPublishEndpoint bus, CancellationToken cancellationToken)
    {
        if (Find(agents, http.User, agent, trigger) is not { } found)
        {
            return NotFound(agents, http.User, agent, trigger);
        }

        var changed = await store.SetPausedAsync(new ScheduleId(agent, trigger), paused, clock.GetUtcNow(), http.User.Actor(), cancellationToken);
        if (changed)
        {
            await bus.RecordAsync(http, paused ? "schedule.paused" : "schedule.resumed", target: $"schedule {agent}/{trigger}",
                detail: paused ? "its due times are recorded as skipped until it is resumed" : "it fires again from its next due time");
        }

        return Results.Ok(new SchedulePauseResponse(found.Agent.Name, found.Trigger.Name, paused, changed));
    }

    internal static async Task<ScheduleView> ViewAsync(AgentDefinition agent, ScheduleTrigger trigger, IScheduleStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var state = await store.GetAsync(new ScheduleId(agent.Name, trigger.Name), cancellationToken);
        // Due times not yet handled are still to come, whether or not a poll has reached them.
        var from = state is null || state.Watermark > now ? now : state.Watermark;
        return new ScheduleView(
            agent.Name, trigger.Name, trigger.CronText, trigger.TimeZone.Id, ScheduleTimes.Name(trigger.Misfire),
            ServiceDefaults.Extensions.TenantOf(trigger.Tenant),
            state?.Paused ?? false, state?.PausedAt, state?.PausedBy,
            ScheduleTimes.Next(trigger, from),
            state?.LastFired,
            state?.Fired ?? 0, state?.Missed ?? 0, state?.Skipped ?? 0, state?.Refused ?? 0,
            state?.Watermark);
    }

    private static IEnumerable<(AgentDefinition Agent, ScheduleTrigger Trigger)> SchedulesOf(AgentCatalog agents, ClaimsPrincipal caller) =>
        agents.All.SelectMany(a => a.Triggers.OfType<ScheduleTrigger>().Select(t => (a, t)))
            .Where(s => ServiceDefaults.Extensions.TenantOf(s.t.Tenant) == caller.Tenant());

    private static (AgentDefinition Agent, ScheduleTrigger Trigger)? Find(AgentCatalog agents, ClaimsPrincipal caller, string agent, string trigger) =>
        SchedulesOf(agents, caller).Where(s => s.Agent.Name == agent && s.Trigger.Name == trigger).Cast<(AgentDefinition, ScheduleTrigger)?>().FirstOrDefault();

    private static IResult NotFound(AgentCatalog agents, ClaimsPrincipal caller, string agent, string trigger)
    {
        var known = SchedulesOf(agents, caller).Select(s => $"{s.Agent.Name}/{s.Trigger.Name}").ToList();
        return Results.Problem(
            $"No schedule {agent}/{trigger} is known{(known.Count == 0 ? ": no agent of your tenant has a schedule trigger." : $". Schedules: {string.Join(", ", known)}.")}",
            statusCode: StatusCodes.Status404NotFound, title: "Schedule not found.");
    }
}
