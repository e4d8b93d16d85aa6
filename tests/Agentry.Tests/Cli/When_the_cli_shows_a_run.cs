using System.Net.Http.Json;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.ServiceDefaults.Payloads;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Cli;

/// `agentry show RUN_ID` against `agentry serve`: what started the run, and how it went.
public sealed class When_the_cli_shows_a_run : AgentryServerFixture
{
    [Test]
    public async Task Should_say_an_api_call_started_it_with_its_steps_and_answer()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is (2 + 3) * 4?" });
        var started = (await response.Content.ReadFromJsonAsync<StartRunResponse>())!;
        await UntilEndedAsync(started.RunId);

        var (exit, output, error) = await ShowAsync(started.RunId.ToString());

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), error);
        Assert.That(output, Does.Contain($"run {started.RunId}  agent assistant  tenant default  Completed"));
        Assert.That(output, Does.Contain("started by: an API call"));
        Assert.That(output, Does.Contain("step 1: calculator  -> Continue"));
        Assert.That(output, Does.Contain("answer: 20"));
    }

    [Test]
    public async Task Should_name_the_schedule_and_the_due_time_that_started_a_scheduled_run()
    {
        var runId = Guid.NewGuid();
        var due = new DateTimeOffset(2026, 12, 7, 6, 0, 0, TimeSpan.FromHours(1));
        await App.Services.GetRequiredService<IBus>().Publish(new GoalReceived(
            runId, "default", "assistant", "What is 6 * 7?", Trigger: TriggerKind.Schedule,
            Origin: new TriggerOrigin("weekday-report", "0 6 * * 1-5 (Europe/Berlin)", DueAt: due)));
        await UntilEndedAsync(runId);

        var (exit, output, _) = await ShowAsync(runId.ToString());

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed));
        Assert.That(output, Does.Contain("started by: schedule 'weekday-report' (0 6 * * 1-5 (Europe/Berlin)), due 2026-12-07 05:00:00Z"));
    }

    [Test]
    public async Task Should_list_an_output_kept_out_of_line_and_print_it_whole_with_output()
    {
        // What Memory records for a step whose tool returned 300 kB: the outcome as it travelled, a
        // preview and a reference to the output stored once beside the database (docs/durability.md).
        var runId = Guid.NewGuid();
        var text = "BEGIN" + new string('y', 300_000) + "END";
        var arguments = System.Text.Json.JsonDocument.Parse("""{"url":"https://example.com/big"}""").RootElement;
        var outcome = await App.Services.GetRequiredService<PayloadStore>().OutOfLineAsync(
            new ToolOutcome("call_1", "http_get", arguments, text, ToolErrorKind.None, null, TimeSpan.FromMilliseconds(5)), CancellationToken.None);
        var bus = App.Services.GetRequiredService<IBus>();
        // A goal the saga refuses at once (no such agent) still makes a run of the tenant that Memory records.
        await bus.Publish(new GoalReceived(runId, "default", "no-such-agent", "Read the big page."));
        await UntilEndedAsync(runId);
        await bus.Publish(new StepPlanned(runId, "default", "assistant", 1, 8, null, [], null, new TokenUsage(1, 1), "m"));
        await bus.Publish(new ToolResult(runId, "default", "assistant", 1, 8, [outcome]));
        await Eventually.RunAsync(Http, runId, run => run.Steps.Any(s => s.Outcomes.Count > 0), $"run {runId}'s outcome to be recorded");

        var (exit, output, error) = await ShowAsync(runId.ToString());
        var whole = await ShowAsync(runId.ToString(), "call_1");
        var unknown = await ShowAsync(runId.ToString(), "call_9");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), error);
        Assert.That(output, Does.Contain($"call_1 http_get: 300,008 bytes kept out of line ({outcome.OutputRef!.Id}); --output call_1 prints it"));
        Assert.That(whole.Exit, Is.EqualTo(ExitCodes.Completed), whole.Error);
        Assert.That(whole.Output.TrimEnd(), Is.EqualTo(text), "the whole output, read from the payload store");
        Assert.That((unknown.Exit, unknown.Error), Is.EqualTo((ExitCodes.BadInput, unknown.Error)));
        Assert.That(unknown.Error, Does.Contain("has no recorded outcome of a call 'call_9'"));
    }

    [Test]
    public async Task Should_exit_2_for_a_run_nobody_knows_or_an_id_that_is_no_run_id()
    {
        var unknown = await ShowAsync(Guid.NewGuid().ToString());
        var malformed = await ShowAsync("run-17");

        Assert.That((unknown.Exit, malformed.Exit), Is.EqualTo((ExitCodes.BadInput, ExitCodes.BadInput)));
        Assert.That(unknown.Error, Does.Contain("is known"));
        Assert.That(malformed.Error, Does.Contain("'run-17' is not a run id"));
    }

    private Task UntilEndedAsync(Guid runId) =>
        Eventually.RunAsync(Http, runId, run => run.Status != RunStatus.Running, $"run {runId} to end");

    private async Task<(int Exit, string Output, string Error)> ShowAsync(string runId, string? callId = null)
    {
        var key = await CreateKeyAsync("default", [GatewayRoles.Read]);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await RunCommands.ShowAsync(new GatewayTarget(LocalHttpServer.BaseAddressOf(App).ToString(), key), runId, output, error, CancellationToken.None, callId);
        return (exit, output.ToString(), error.ToString());
    }
}
