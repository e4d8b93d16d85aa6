using Agentry.Contracts;
using Agentry.ToolExecutor;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_a_tool_keeps_timing_out
{
    private static ServiceProvider Build() => ToolServices.Build(new Dictionary<string, string?>
    {
        ["Tools:CallTimeouts:http_get"] = "00:00:00.100",
        ["Tools:MaxOutputChars"] = "100",
        ["Tools:CircuitBreaker:MinimumThroughput"] = "2",
        ["Tools:CircuitBreaker:FailureRatio"] = "1",
        ["Tools:CircuitBreaker:BreakDuration"] = "00:01:00",
    });

    [Test]
    public async Task Should_time_out_then_short_circuit_the_tool_without_calling_it()
    {
        await using var services = Build();
        var guard = services.GetRequiredService<ToolCallGuard>();
        var never = new TaskCompletionSource<string>();
        var calls = 0;
        Task<string> Hang(CancellationToken token)
        {
            calls++;
            return never.Task;
        }

        var first = await guard.RunAsync("http_get", Hang, CancellationToken.None);
        var second = await guard.RunAsync("http_get", Hang, CancellationToken.None);
        var third = await guard.RunAsync("http_get", Hang, CancellationToken.None);
        var otherTool = await guard.RunAsync("calculator", _ => Task.FromResult("4"), CancellationToken.None);

        Assert.That(first.Kind, Is.EqualTo(ToolErrorKind.Timeout));
        Assert.That(first.Error, Is.EqualTo("http_get did not finish within 0.1s."));
        Assert.That(second.Kind, Is.EqualTo(ToolErrorKind.Timeout));
        Assert.That(third.Kind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(third.Error, Does.StartWith("http_get is not being called for about 60s more: it kept failing or timing out recently"));
        Assert.That(calls, Is.EqualTo(2), "the open breaker still called the tool");
        Assert.That(otherTool.Output, Is.EqualTo("4"), "one tool's breaker stopped another tool");
    }

    [Test]
    public async Task Should_not_count_failures_caused_by_the_arguments()
    {
        await using var services = Build();
        var guard = services.GetRequiredService<ToolCallGuard>();

        for (var i = 0; i < 3; i++)
        {
            var bad = await guard.RunAsync("run_javascript", _ => throw new ToolException(ToolErrorKind.Failed, "The program threw: boom", causedByCaller: true), CancellationToken.None);
            Assert.That(bad.Error, Is.EqualTo("The program threw: boom"));
        }

        var good = await guard.RunAsync("run_javascript", _ => Task.FromResult("ok"), CancellationToken.None);
        Assert.That(good.Output, Is.EqualTo("ok"));
    }

    [Test]
    public async Task Should_cut_a_long_output_with_a_note()
    {
        await using var services = Build();
        var guard = services.GetRequiredService<ToolCallGuard>();

        var attempt = await guard.RunAsync("calculator", _ => Task.FromResult(new string('x', 125)), CancellationToken.None);

        Assert.That(attempt.Output, Is.EqualTo($"{new string('x', 100)}{Environment.NewLine}[output truncated: the first 100 of 125 characters are shown]"));
    }
}
