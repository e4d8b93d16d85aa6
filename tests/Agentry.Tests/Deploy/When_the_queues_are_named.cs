using System.Text.RegularExpressions;

namespace Agentry.Tests.Deploy;

/// The queue names the autoscalers and the runbook rely on, as MassTransit derives them from the code.
public sealed class When_the_queues_are_named
{
    [Test]
    public void Should_know_how_every_service_registers_its_bus()
    {
        Assert.That(AgentryServices.Registrations.Keys.Order(StringComparer.Ordinal), Is.EqualTo(AgentryServices.Folders),
            "a service under services/ has no entry in AgentryServices.Registrations (copy it from its Program.cs)");
    }

    [Test]
    public async Task Should_give_each_queue_to_one_service_only()
    {
        // Two services consuming one queue compete for its messages: each gets only some of them.
        var owners = (await AgentryServices.AllQueuesAsync())
            .SelectMany(service => service.Value.Select(queue => (queue, folder: service.Key)))
            .GroupBy(entry => entry.queue)
            .Where(group => group.Count() > 1)
            .Select(group => $"{group.Key}: {string.Join(", ", group.Select(e => e.folder))}")
            .ToList();

        Assert.That(owners, Is.Empty, "queues consumed by more than one service");
    }

    [Test]
    public async Task Should_name_the_planner_queues_as_the_runbook_does()
    {
        Assert.That(await AgentryServices.QueuesAsync("Planner"), Is.SupersetOf(new[] { "agent-run-state", "plan-step" }));
        Assert.That(await AgentryServices.QueuesAsync("ToolExecutor"), Does.Contain("execute-step"));
        Assert.That(await AgentryServices.QueuesAsync("Gateway"), Is.Empty, "the Gateway publishes and sends requests; it consumes only on temporary queues of its own");
    }

    [TestCaseSource(typeof(AgentryServices), nameof(AgentryServices.Folders))]
    public async Task Should_list_each_service_queues_in_the_operations_guide(string folder)
    {
        // | planner | `agentry/planner` | `agent-run-state` (the saga), `plan-step` (model calls) | ...
        var name = AgentryServices.DeploymentName(folder);
        var row = RepositoryFiles.Read("docs/operations.md").Split('\n').FirstOrDefault(line => line.StartsWith($"| {name} |", StringComparison.Ordinal));
        Assert.That(row, Is.Not.Null, $"docs/operations.md has no row for {name}");
        var documented = Regex.Matches(row!.Split('|')[3], "`([a-z-]+)`").Select(m => m.Groups[1].Value);

        Assert.That(documented, Is.EquivalentTo(await AgentryServices.QueuesAsync(folder)));
    }
}
