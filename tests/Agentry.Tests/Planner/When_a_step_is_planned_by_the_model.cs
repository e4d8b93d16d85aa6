using Agentry.Contracts;
using Agentry.Planner;
using Agentry.Planner.Planning;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Planner;

/// The planning consumer with the offline model behind Semantic Kernel's IChatCompletionService.
public sealed class When_a_step_is_planned_by_the_model : HarnessFixture
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddPlanner(new ConfigurationBuilder().Build());

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddConsumer<PlanStepConsumer>();

    [Test]
    public async Task Should_propose_the_tool_call_that_fits_the_goal()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new ContextLoaded(runId, "t", "assistant", 1,
            [new ContextMessage(ContextRole.System, "Use the tools."), new ContextMessage(ContextRole.User, "What is 6 * 7?")]));

        Assert.That(await Harness.Published.Any<StepProposed>(m => m.Context.Message.RunId == runId));
        var proposal = await PublishedOne<StepProposed>(m => m.RunId == runId);
        Assert.That(proposal.Error, Is.Null);
        Assert.That(proposal.ToolCalls.Single().Tool, Is.EqualTo("calculator"));
        Assert.That(proposal.ToolCalls.Single().Arguments.GetProperty("expression").GetString(), Is.EqualTo("6 * 7"));
        Assert.That(proposal.Model, Is.EqualTo("agentry-offline"));
        Assert.That(proposal.Usage.InputTokens, Is.GreaterThan(0));
    }

    [Test]
    public async Task Should_propose_an_error_for_an_agent_it_does_not_know()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new ContextLoaded(runId, "t", "nobody", 1, [new ContextMessage(ContextRole.User, "hi")]));

        Assert.That(await Harness.Published.Any<StepProposed>(m => m.Context.Message.RunId == runId));
        Assert.That((await PublishedOne<StepProposed>(m => m.RunId == runId)).Error, Does.StartWith("Unknown agent 'nobody'"));
    }
}
