using System.Text.Json;
using Agentry.Contracts;
using Agentry.ToolExecutor;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

/// The ToolExecutor forgets a run's calls when the run ends, but not when it escalates: an escalated
/// run may be resumed (decision 0021), and its recorded calls and max_calls counts still hold.
public sealed class When_a_run_ends_or_escalates
{
    private static readonly ToolOutcome Refund = new("call_1_1", "refund_order", JsonSerializer.SerializeToElement(new { order_id = "1042" }), "Refunded.", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(5));

    [Test]
    public async Task Should_keep_an_escalated_runs_calls_and_forget_them_once_it_ends()
    {
        var ledger = new InMemoryToolCallLedger();
        await using var provider = new ServiceCollection()
            .AddSingleton<IToolCallLedger>(ledger)
            .AddMassTransitTestHarness(x => x.AddConsumer<RunEndedConsumer>())
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        var runId = Guid.NewGuid();
        await ledger.RecordAsync(runId, Refund, CancellationToken.None);
        Assert.That(await ledger.CountCallAsync(runId, "refund_order", "call_1_1", 1, CancellationToken.None), Is.True);
        var consumed = harness.GetConsumerHarness<RunEndedConsumer>();

        await harness.Bus.Publish(new RunEscalated(runId, "default", "support", "Unsure.", "Summary.", 1, new TokenUsage(1, 1), TimeSpan.FromSeconds(1)));
        Assert.That(await consumed.Consumed.Any<IRunEnded>(m => m.Context.Message.RunId == runId), Is.True);

        Assert.That(await ledger.FindAsync(runId, "call_1_1", CancellationToken.None), Is.EqualTo(Refund));
        Assert.That(await ledger.CountCallAsync(runId, "refund_order", "call_2_1", 1, CancellationToken.None), Is.False, "the run's one refund is still counted");

        await harness.Bus.Publish(new RunCompleted(runId, "default", "support", "Closed.", 1, new TokenUsage(1, 1), TimeSpan.FromSeconds(2), ClosedBy: "alice"));
        // The harness's waits end with its first quiet spell, so the second delivery is polled for.
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); await ledger.FindAsync(runId, "call_1_1", CancellationToken.None) is not null && clock.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(20);
        }

        Assert.That(await ledger.FindAsync(runId, "call_1_1", CancellationToken.None), Is.Null);
    }
}
