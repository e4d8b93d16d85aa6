using System.Security.Claims;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.Agents.Triggers;
using Agentry.Gateway.Security;
using Agentry.Gateway.Triggers.Schedules;
using Agentry.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Agentry.Gateway;

/// GET /agents and GET /agents/{name}: the agents as this Gateway's catalog loaded them. A
/// definition names its secrets and never holds them (docs/security.md), but two of its values are
/// secrets themselves and are left out: the notify Slack URL (it carries Slack's token) and the path
/// and query of the notify webhook; a tool setting named like a credential is shown withheld too.
public static class AgentsApi
{
    public const string Withheld = "(withheld)";

    private static readonly string[] CredentialWords = ["secret", "token", "password", "passwd", "key", "apikey", "credential", "credentials"];

    private static readonly HashSet<string> SandboxTools = [RunPythonTool.Descriptor.Name, RunShellTool.Descriptor.Name];

    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var agents = app.MapGroup("/agents");

        agents.MapGet("/", async (ClaimsPrincipal caller, AgentCatalog catalog, ToolCatalog tools, IScheduleStore schedules, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var views = new List<AgentView>();
            foreach (var agent in catalog.All)
            {
                views.Add(await ViewAsync(agent, caller.Tenant(), tools, schedules, clock.GetUtcNow(), cancellationToken));
            }

            return Results.Ok(new AgentList(views));
        }).RequireAuthorization(GatewayRoles.Read);

        agents.MapGet("/{name}", async (string name, ClaimsPrincipal caller, AgentCatalog catalog, ToolCatalog tools, IScheduleStore schedules, TimeProvider clock, CancellationToken cancellationToken) =>
            catalog.Find(name) is { } agent
                ? Results.Ok(await ViewAsync(agent, caller.Tenant(), tools, schedules, clock.GetUtcNow(), cancellationToken))
                : Results.Problem(catalog.DescribeUnknown(name), statusCode: StatusCodes.Status404NotFound, title: "Agent not found."))
            .RequireAuthorization(GatewayRoles.Read);

        return app;
    }

    internal static async Task<AgentView> ViewAsync(AgentDefinition agent, string tenantId, ToolCatalog tools, IScheduleStore schedules, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var triggers = new List<AgentTriggerView>();
        foreach (var trigger in agent.Triggers.Where(t => ServiceDefaults.Extensions.TenantOf(t.Tenant) == tenantId))
        {
            triggers.Add(trigger switch
            {
                ScheduleTrigger schedule => new AgentTriggerView(schedule.Name, schedule.Kind.ToString(), tenantId, schedule.Mapping.Goal,
                    Schedule: await SchedulesApi.ViewAsync(agent, schedule, schedules, now, cancellationToken)),
                WebhookTrigger webhook => new AgentTriggerView(webhook.Name, webhook.Kind.ToString(), tenantId, webhook.Mapping.Goal,
                    Path: $"/hooks/{agent.Name}/{webhook.Name}", Scheme: webhook.Scheme.ToString(), SecretName: webhook.Secret),
                EventTrigger subscription => new AgentTriggerView(subscription.Name, subscription.Kind.ToString(), tenantId, subscription.Mapping.Goal,
                    Exchange: subscription.Exchange, RoutingKey: subscription.RoutingKey),
                _ => new AgentTriggerView(trigger.Name, trigger.Kind.ToString(), tenantId, trigger.Mapping.Goal),
            });
        }

        var sandbox = agent.Sandbox;
        return new AgentView(
            agent.Name,
            agent.Description,
            agent.Instructions,
            new AgentModelView(agent.Model.Provider, agent.Model.Name, agent.Model.Temperature,
                agent.Model.FallbackModels.Select(f => $"{f.Provider ?? "default"}/{f.Name ?? "default"}").ToList()),
            agent.Strategy.ToString(),
            agent.Tools.Select(tool => ToolView(tool, tools)).ToList(),
            new AgentLimitsView(agent.Limits.MaxSteps, agent.Limits.MaxTokens, agent.Limits.MaxCost, agent.Limits.Deadline,
                agent.Strategy == PlanningStrategy.PlanAndExecute ? agent.Limits.MaxReplans : null),
            new AgentApprovalView(agent.Approval.Timeout, agent.Approval.OnTimeout.ToString()),
            new AgentSandboxView(sandbox.WallTime, sandbox.CpuTime, sandbox.MemoryBytes, sandbox.Processes, sandbox.OutputBytes, sandbox.WorkspaceBytes,
                sandbox.Outputs, sandbox.Inputs.Select(i => i.Name).ToList(), sandbox.AllowedHosts),
            triggers,
            new AgentNotifyView(agent.Notify.Webhook?.GetLeftPart(UriPartial.Authority), agent.Notify.Slack is not null, agent.Notify.EmailRecipients),
            Path.GetFileName(agent.SourceFile));
    }

    private static AgentToolView ToolView(AgentTool tool, ToolCatalog tools)
    {
        var descriptor = tools.Find(tool.Name);
        var subAgent = SubAgentTools.TryGetAgent(tool.Name, out var child) ? child : null;
        return new AgentToolView(
            tool.Name,
            descriptor?.Description,
            tool.Policy.NeedsApproval,
            tool.Policy.ReadOnly,
            tool.Policy.MaxCallsPerRun,
            tool.Policy.AllowedHosts,
            descriptor?.SideEffects ?? false,
            SandboxTools.Contains(tool.Name),
            subAgent,
            tool.Policy.Settings.ToDictionary(s => s.Key, s => NamedLikeACredential(s.Key) ? Withheld : s.Value),
            subAgent is null ? tools.WhyWithheld(tool.Name) : null);
    }

    /// api_key, webhook-token, password: a setting a tool might take a credential in.
    public static bool NamedLikeACredential(string setting) =>
        setting.Split(['_', '-', '.'], StringSplitOptions.RemoveEmptyEntries).Any(word => CredentialWords.Contains(word, StringComparer.OrdinalIgnoreCase));
}
