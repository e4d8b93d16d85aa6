using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.ToolExecutor;
using Agentry.ToolExecutor.SubAgents;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

/// `agent:NAME` calls as the ToolExecutor runs them: a child run per call, the step's ToolResult
/// once every child has ended, the depth and fan-out limits, and children of an ended parent cancelled.
[TestFixture]
public sealed class When_sub_agents_are_called : ToolExecutorHarnessFixture
{
    private SeenMessages _seen = null!;

    /// Every message a test waits for, as it arrives.
    private sealed class SeenMessages
    {
        private readonly List<object> _messages = [];
        private readonly SemaphoreSlim _arrived = new(0);

        public void Add(object message)
        {
            lock (_messages)
            {
                _messages.Add(message);
            }

            _arrived.Release();
        }

        public List<T> Of<T>(Func<T, bool> filter)
        {
            lock (_messages)
            {
                return _messages.OfType<T>().Where(filter).ToList();
            }
        }

        public async Task<List<T>> WaitForAsync<T>(Func<T, bool> filter, int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (Of(filter) is var found && found.Count < count)
            {
                try
                {
                    await _arrived.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    return found;
                }
            }

            return Of(filter);
        }
    }

    private sealed class Seen<T>(SeenMessages seen) : IConsumer<T>
        where T : class
    {
        public Task Consume(ConsumeContext<T> context)
        {
            seen.Add(context.Message);
            return Task.CompletedTask;
        }
    }

    private static readonly AgentDefinition Leaf = TestAgents.Parse("leaf", "description: Answers.\ninstructions: Answer.\ntools: [calculator]\n");
    private static readonly AgentDefinition Helper = TestAgents.Parse("helper", "instructions: Help.\ntools: [calculator, agent:leaf]\n");
    private static readonly AgentDefinition Lead = TestAgents.Parse("lead", "instructions: Lead.\ntools: [calculator, agent:helper, agent:leaf]\n");

    private async Task StartAsync(Dictionary<string, string?>? settings = null)
    {
        var services = ToolServices.Create(settings);
        _seen = new SeenMessages();
        services.AddSingleton(TestAgents.Catalog(Lead, Helper, Leaf));
        services.AddSingleton(_seen);
        await StartHarnessAsync(services, x =>
        {
            x.AddConsumer<ExecuteStepConsumer>();
            x.AddConsumer<SubAgentRunEndedConsumer>();
            x.AddConsumer<Seen<GoalReceived>>();
            x.AddConsumer<Seen<ToolResult>>();
            x.AddConsumer<Seen<CancelRun>>();
            // The harness's inactivity wait ends once per test, after which its lists stop waiting:
            // messages are awaited through Seen instead, and "not yet" is checked on what Seen holds.
            x.SetTestTimeouts(testInactivityTimeout: TimeSpan.FromSeconds(20));
        });
    }

    private static ToolCall Call(string callId, string tool, object arguments) => new(callId, tool, JsonSerializer.SerializeToElement(arguments));

    private static StepPlanned Step(Guid runId, string agent, params ToolCall[] calls) =>
        new(runId, "tenant-1", agent, Step: 2, MaxSteps: 8, "Delegating.", calls, null, new TokenUsage(10, 5), "test-model", UserId: "user-7");

    private async Task<List<GoalReceived>> ChildrenOfAsync(Guid parent, int count)
    {
        var goals = await _seen.WaitForAsync<GoalReceived>(g => g.ParentRunId == parent, count);
        Assert.That(goals, Has.Count.EqualTo(count), "the child runs were not started");
        return [.. goals.DistinctBy(g => g.RunId).OrderBy(g => g.Goal, StringComparer.Ordinal)];
    }

    private async Task<ToolResult> ResultOfAsync(Guid runId)
    {
        var results = await _seen.WaitForAsync<ToolResult>(r => r.RunId == runId, 1);
        Assert.That(results, Is.Not.Empty, "no ToolResult was published for the step");
        return results[0];
    }

    // Not waiting: the harness's inactivity wait ends once for the whole test.
    private bool Answered(Guid runId) => _seen.Of<ToolResult>(r => r.RunId == runId).Count > 0;

    private static RunCompleted Completed(Guid runId, string agent, string answer) =>
        new(runId, "tenant-1", agent, answer, 2, new TokenUsage(20, 10), TimeSpan.FromSeconds(1));

    [Test]
    public async Task Should_start_a_child_per_call_and_answer_the_step_once_every_child_has_ended()
    {
        await StartAsync();
        var parent = Guid.NewGuid();
        var step = Step(parent, "lead",
            Call("c1", "agent:helper", new { goal = "a: add 2 and 3" }),
            Call("c2", "calculator", new { expression = "6*7" }),
            Call("c3", "agent:leaf", new { goal = "b: divide by zero" }));

        await Harness.Bus.Publish(step);
        var children = await ChildrenOfAsync(parent, 2);

        Assert.Multiple(() =>
        {
            Assert.That(children.Select(c => (c.Agent, c.Goal)), Is.EqualTo(new[] { ("helper", "a: add 2 and 3"), ("leaf", "b: divide by zero") }));
            Assert.That(children.Select(c => (c.TenantId, c.UserId, c.Trigger)), Has.All.EqualTo(("tenant-1", "user-7", TriggerKind.SubAgent)));
            Assert.That(children[0].RunId, Is.EqualTo(SubAgentCalls.ChildRunId(parent, "c1")));
            Assert.That(children.Select(c => c.RunId), Is.Unique.And.None.EqualTo(parent));
        });
        Assert.That(await Harness.Consumed.Any<StepPlanned>(m => m.Context.Message.RunId == parent), Is.True);
        Assert.That(Answered(parent), Is.False, "the step was answered before its children ended");

        await Harness.Bus.Publish(Completed(children[0].RunId, "helper", "5"));
        Assert.That(await Harness.Consumed.Any<RunCompleted>(m => m.Context.Message.RunId == children[0].RunId), Is.True);
        Assert.That(Answered(parent), Is.False, "the step was answered while a child still ran");
        await Harness.Bus.Publish(new RunFailed(children[1].RunId, "tenant-1", "leaf", "Step limit reached.", 8, TokenUsage.None, TimeSpan.FromSeconds(2)));

        var result = await ResultOfAsync(parent);
        Assert.Multiple(() =>
        {
            Assert.That((result.Step, result.Agent, result.TenantId), Is.EqualTo((2, "lead", "tenant-1")));
            Assert.That(result.Outcomes.Select(o => (o.CallId, o.Tool, o.ErrorKind)), Is.EqualTo(new[]
            {
                ("c1", "agent:helper", ToolErrorKind.None), ("c2", "calculator", ToolErrorKind.None), ("c3", "agent:leaf", ToolErrorKind.Failed),
            }));
            Assert.That(result.Outcomes[0].Output, Is.EqualTo("5"));
            Assert.That(result.Outcomes[1].Output, Is.EqualTo("42"));
            Assert.That(result.Outcomes[2].Error, Is.EqualTo($"The sub-agent run {children[1].RunId} failed: Step limit reached."));
        });
    }

    [Test]
    public async Task Should_start_the_same_child_again_for_a_redelivered_step_and_answer_once_it_ends()
    {
        await StartAsync();
        var parent = Guid.NewGuid();
        var step = Step(parent, "lead", Call("c1", "agent:leaf", new { goal = "what is 6*7" }));

        await Harness.Bus.Publish(step);
        await Harness.Bus.Publish(step);
        var goals = (await _seen.WaitForAsync<GoalReceived>(g => g.ParentRunId == parent, 2)).Select(g => g.RunId).ToList();
        Assert.That(goals, Has.Count.EqualTo(2), "each delivery of the step publishes the child's goal");
        Assert.That(Answered(parent), Is.False, "the step was answered before its child ended");
        Assert.That(goals.Distinct().ToList(), Has.Count.EqualTo(1), "a redelivered step must start the same child run, not a second one");

        await Harness.Bus.Publish(Completed(goals[0], "leaf", "42"));

        Assert.That((await ResultOfAsync(parent)).Outcomes.Single().Output, Is.EqualTo("42"));
    }

    [Test]
    public async Task Should_refuse_sub_agents_over_the_fan_out_of_a_step()
    {
        await StartAsync(new() { ["Tools:SubAgents:MaxFanOut"] = "2" });
        var parent = Guid.NewGuid();

        await Harness.Bus.Publish(Step(parent, "lead",
            Call("c1", "agent:leaf", new { goal = "one" }),
            Call("c2", "agent:leaf", new { goal = "two" }),
            Call("c3", "agent:leaf", new { goal = "three" })));
        var children = await ChildrenOfAsync(parent, 2);
        foreach (var child in children)
        {
            await Harness.Bus.Publish(Completed(child.RunId, "leaf", child.Goal.ToUpperInvariant()));
        }

        var result = await ResultOfAsync(parent);
        Assert.That(children.Select(c => c.Goal), Is.EquivalentTo(new[] { "one", "two" }), "the first calls in order start");
        Assert.That(result.Outcomes.Select(o => o.ErrorKind), Is.EqualTo(new[] { ToolErrorKind.None, ToolErrorKind.None, ToolErrorKind.PermissionDenied }));
        Assert.That(result.Outcomes[2].Error, Does.StartWith("Permission denied by the sub-agent fan-out limit: one step may start at most 2 sub-agents (Tools:SubAgents:MaxFanOut)"));
    }

    [Test]
    public async Task Should_refuse_a_sub_agent_below_the_depth_limit()
    {
        await StartAsync(new() { ["Tools:SubAgents:MaxDepth"] = "1" });
        var top = Guid.NewGuid();
        await Harness.Bus.Publish(Step(top, "lead", Call("c1", "agent:helper", new { goal = "relay" })));
        var helper = (await ChildrenOfAsync(top, 1)).Single();

        // The child, one level down, tries to go one level deeper.
        await Harness.Bus.Publish(Step(helper.RunId, "helper", Call("c1", "agent:leaf", new { goal = "too deep" }), Call("c2", "calculator", new { expression = "1+1" })));

        var result = await ResultOfAsync(helper.RunId);
        Assert.That(result.Outcomes.Select(o => o.ErrorKind), Is.EqualTo(new[] { ToolErrorKind.PermissionDenied, ToolErrorKind.None }));
        Assert.That(result.Outcomes[0].Error, Does.StartWith("Permission denied by the sub-agent depth limit: this run is already 1 level(s) below its top-level run, and sub-agents may go at most 1 level(s) deep"));
        Assert.That(_seen.Of<GoalReceived>(g => g.ParentRunId == helper.RunId), Is.Empty);
    }

    [Test]
    public async Task Should_refuse_a_sub_agent_the_agent_does_not_list()
    {
        await StartAsync();
        var run = Guid.NewGuid();

        await Harness.Bus.Publish(Step(run, "leaf", Call("c1", "agent:helper", new { goal = "escalate privileges" })));

        var outcome = (await ResultOfAsync(run)).Outcomes.Single();
        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(outcome.Error, Is.EqualTo("Permission denied: agent 'leaf' may not use the tool 'agent:helper': it is not in the agent's tools list."));
        Assert.That(_seen.Of<GoalReceived>(_ => true), Is.Empty);
    }

    [Test]
    public async Task Should_cancel_the_children_of_a_parent_that_ends_before_them()
    {
        await StartAsync();
        var parent = Guid.NewGuid();
        await Harness.Bus.Publish(Step(parent, "lead", Call("c1", "agent:leaf", new { goal = "slow" }), Call("c2", "agent:leaf", new { goal = "fast" })));
        var children = await ChildrenOfAsync(parent, 2);
        await Harness.Bus.Publish(Completed(children[0].RunId, "leaf", "done fast"));
        Assert.That(await Harness.Consumed.Any<RunCompleted>(m => m.Context.Message.RunId == children[0].RunId), Is.True);

        await Harness.Bus.Publish(new RunFailed(parent, "tenant-1", "lead", "Deadline passed.", 2, TokenUsage.None, TimeSpan.FromMinutes(5)));

        var cancels = await _seen.WaitForAsync<CancelRun>(c => c.RunId == children[1].RunId, 1);
        Assert.That(cancels, Has.Count.EqualTo(1), "the running child was not cancelled");
        Assert.That(await Harness.Consumed.Any<RunFailed>(m => m.Context.Message.RunId == parent), Is.True);
        Assert.That(cancels[0].Reason, Is.EqualTo($"Its parent run {parent} failed before this sub-agent finished."));
        Assert.That(_seen.Of<CancelRun>(c => c.RunId == children[0].RunId), Is.Empty, "a child that had ended was cancelled");
    }
}
