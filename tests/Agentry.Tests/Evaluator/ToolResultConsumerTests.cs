using System.Text.Json;
using Agentry.Contracts;
using Agentry.Evaluator;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Evaluator;

[TestFixture]
public sealed class When_tool_results_reach_the_evaluator
{
    private ServiceProvider _provider = null!;
    private ITestHarness _harness = null!;

    [SetUp]
    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddEvaluator(configuration);
        services.AddMassTransitTestHarness(x => x.AddConsumer<ToolResultConsumer>());
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        _harness = _provider.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
    }

    private static ToolResult Result(Guid runId, int step) =>
        new(runId, "tenant-1", "assistant", step, 8,
        [
            new ToolOutcome("c1", "calculator", JsonSerializer.SerializeToElement(new { expression = "2+3" }), "5", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(2)),
        ]);

    /// Publishes the result and waits for the verdict on it.
    private async Task<GoalEvaluated> VerdictOnAsync(ToolResult result, int verdictsSoFar, Guid? messageId = null)
    {
        await _harness.Bus.Publish(result, context => context.MessageId = messageId ?? NewId.NextGuid());
        var verdicts = new List<GoalEvaluated>();
        await foreach (var published in _harness.Published.SelectAsync<GoalEvaluated>(m => m.Context.Message.RunId == result.RunId))
        {
            verdicts.Add(published.Context.Message);
            if (verdicts.Count == verdictsSoFar + 1)
            {
                break;
            }
        }

        Assert.That(verdicts, Has.Count.EqualTo(verdictsSoFar + 1), "no verdict was published for the result");
        return verdicts[^1];
    }

    [Test]
    public async Task Should_give_the_same_verdict_to_a_redelivered_result()
    {
        var runId = Guid.NewGuid();
        var messageId = NewId.NextGuid();

        var first = await VerdictOnAsync(Result(runId, 1), verdictsSoFar: 0, messageId);
        var redelivered = await VerdictOnAsync(Result(runId, 1), verdictsSoFar: 1, messageId);

        Assert.That(first.Verdict, Is.EqualTo(Verdict.Continue));
        Assert.That(redelivered, Is.EqualTo(first));
    }

    [Test]
    public async Task Should_escalate_the_same_result_at_a_later_step()
    {
        var runId = Guid.NewGuid();

        await VerdictOnAsync(Result(runId, 1), verdictsSoFar: 0);
        var repeated = await VerdictOnAsync(Result(runId, 2), verdictsSoFar: 1);

        Assert.That(repeated.Verdict, Is.EqualTo(Verdict.Escalate));
        Assert.That(repeated.Reason, Does.Contain("at step 1 and again at step 2"));
    }

    [Test]
    public async Task Should_keep_the_history_of_each_run_apart()
    {
        await VerdictOnAsync(Result(Guid.NewGuid(), 1), verdictsSoFar: 0);

        var otherRun = await VerdictOnAsync(Result(Guid.NewGuid(), 2), verdictsSoFar: 0);

        Assert.That(otherRun.Verdict, Is.EqualTo(Verdict.Continue));
    }
}
