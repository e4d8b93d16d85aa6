using System.Diagnostics.Metrics;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.ServiceDefaults.Payloads;
using MassTransit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Agentry.Tests.EndToEnd;

/// The claim check end to end (docs/durability.md): a tool output of a megabyte is stored once, out
/// of line; the messages and the run state carry a reference and stay small; the model still sees
/// the output (its beginning, within the context's bound); the transcript keeps the reference. In
/// embedded mode (in-memory bus, payloads on files) and on the real RabbitMQ and Redis.
[TestFixture(false)]
[TestFixture(true)]
public sealed class When_a_tool_returns_a_large_result(bool distributed) : RedisFixture
{
    private const int Megabyte = 1_000_000;

    private LargePayloadRun _run = null!;

    [TearDown]
    public async Task Stop()
    {
        if (_run is not null)
        {
            await _run.DisposeAsync();
            _run = null!;
        }
    }

    private async Task StartAsync(int steps, int outputBytes, Dictionary<string, string?>? settings = null) =>
        _run = await LargePayloadRun.StartAsync(distributed, Redis, steps, outputBytes, settings);

    /// While the run goes on: the largest its saga state has been in Redis (distributed mode only).
    private async Task<long> LargestStateAsync(Guid runId, Task end)
    {
        var key = $"{_run.KeyPrefix}saga:agentrun:{runId:D}";
        long largest = 0;
        while (!end.IsCompleted)
        {
            largest = Math.Max(largest, (long)await Redis.Database.ExecuteAsync("HSTRLEN", key, "data"));
            await Task.WhenAny(end, Task.Delay(5));
        }

        return Math.Max(largest, (long)await Redis.Database.ExecuteAsync("HSTRLEN", key, "data"));
    }

    private string[] PayloadFiles() =>
        Directory.Exists(_run.Folder.File("payloads")) ? Directory.GetFiles(_run.Folder.File("payloads"), "*", SearchOption.AllDirectories) : [];

    private async Task<IReadOnlyList<RedisKey>> PayloadKeysAsync() => await Redis.KeysAsync(_run.KeyPrefix + "payload:");

    [Test]
    public async Task Should_store_each_output_once_and_keep_messages_and_the_run_state_small_over_twenty_steps()
    {
        const int steps = 20;
        await StartAsync(steps, Megabyte, new()
        {
            // Tight bounds: every message and the state must stay far below one output.
            ["Payloads:MaxMessageBytes"] = (256 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Payloads:MaxStateBytes"] = (64 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        var (runId, end) = await _run.StartRunAsync();
        var largestState = distributed ? LargestStateAsync(runId, end) : Task.FromResult(0L);
        var how = await LargePayloadRun.EndOf(end, TimeSpan.FromMinutes(3));

        Assert.That(how, Is.EqualTo($"RunCompleted: Done after {steps} steps."));
        TestContext.Out.WriteLine($"largest messages: {string.Join(", ", _run.LargestMessage.OrderByDescending(m => m.Value).Select(m => $"{m.Key} {m.Value:N0}"))}");
        // The context is the one message that carries outputs: the latest memory.recent_steps (4) of them,
        // each cut to Payloads:ContextChars (16,384 characters).
        Assert.That(_run.LargestMessage[nameof(ContextLoaded)], Is.InRange(4 * 16_384, 128 * 1024), "the context carries the latest outputs' beginnings");
        Assert.That(_run.LargestMessage.Where(m => m.Key != nameof(ContextLoaded)).Max(m => m.Value), Is.LessThan(16 * 1024), "every other message carries references");
        Assert.That(_run.LargestMessage.Keys, Is.SupersetOf(new[] { nameof(ToolResult), nameof(ContextRequested), nameof(ContextLoaded), nameof(StepPlanned) }));
        if (distributed)
        {
            var state = await largestState;
            TestContext.Out.WriteLine($"largest run state: {state:N0} bytes");
            Assert.That(state, Is.InRange(1, 16 * 1024), "the run state carries references, not outputs");
            var keys = await PayloadKeysAsync();
            Assert.That(keys, Has.Count.EqualTo(steps), "each output stored once, in Redis");
            Assert.That(await Redis.Database.StringLengthAsync(keys[0]), Is.EqualTo(Megabyte));
            Assert.That(await Redis.Database.KeyTimeToLiveAsync(keys[0]), Is.GreaterThan(TimeSpan.FromMinutes(20)), "kept for Payloads:RedisRetention");
        }
        else
        {
            Assert.That(PayloadFiles(), Has.Length.EqualTo(steps), "each output stored once, on files beside the database");
            Assert.That(new FileInfo(PayloadFiles()[0]).Length, Is.EqualTo(Megabyte));
        }

        // The model saw each output as it acts on it: its beginning, up to Payloads:ContextChars, never the megabyte.
        var last = _run.Model.Requests[^1];
        var tool = last.Messages.EnumerateArray().Last(m => m.GetProperty("role").GetString() == "tool").GetProperty("content").GetString()!;
        Assert.That(tool, Does.Contain($"s{steps}:xxxxxxxx").And.Contain("[output shortened: the first 16,384 characters of 1,000,000 bytes are shown]"));
        Assert.That(tool, Has.Length.LessThan(17_000));
        Assert.That(last.Body, Has.Length.LessThan(200_000), "the whole context stays bounded");

        // The transcript keeps the reference and the preview, and a reader resolves it whole.
        await using var db = new SqliteConnection(_run.Folder.SqliteConnectionString);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT count(*), max(length(output)), min(output_ref) FROM outcomes WHERE output_ref IS NOT NULL";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.That((reader.GetInt32(0), reader.GetInt32(1)), Is.EqualTo((steps, reader.GetInt32(1))));
        Assert.That(reader.GetInt32(1), Is.LessThan(1000));
        var run = (await _run.Services.GetRequiredService<IRequestClient<GetRun>>().GetResponse<RunView>(new GetRun(runId))).Message;
        var first = run.Steps[0].Outcomes.Single();
        Assert.That(first.OutputRef, Is.Not.Null);
        var whole = await _run.Services.GetRequiredService<PayloadStore>().ResolveAsync(first, null, CancellationToken.None);
        Assert.That(whole.Output, Has.Length.EqualTo(Megabyte).And.StartWith("s1:xxx"));
    }

    [Test]
    public async Task Should_keep_a_large_input_out_of_the_run_state_and_of_each_context_request_and_show_it_to_the_model()
    {
        await StartAsync(2, 100);
        var rows = string.Join(",", Enumerable.Range(0, 2000).Select(i => $$"""{"id":{{i}},"note":"order line {{i}} of the input"}"""));
        var input = System.Text.Json.JsonDocument.Parse($$"""{"rows":[{{rows}}]}""").RootElement;

        var (runId, end) = await _run.StartRunAsync(input: input);
        var largestState = distributed ? LargestStateAsync(runId, end) : Task.FromResult(0L);
        Assert.That(await LargePayloadRun.EndOf(end, TimeSpan.FromMinutes(2)), Is.EqualTo("RunCompleted: Done after 2 steps."));

        Assert.That(input.GetRawText(), Has.Length.GreaterThan(80_000));
        Assert.That(_run.LargestMessage[nameof(GoalReceived)], Is.GreaterThan(80_000), "the goal carries the input as published");
        Assert.That(_run.LargestMessage[nameof(ContextRequested)], Is.LessThan(8 * 1024), "each context request carries its reference");
        Assert.That(distributed ? (await PayloadKeysAsync()).Count : PayloadFiles().Length, Is.EqualTo(1), "the input, stored once");
        if (distributed)
        {
            Assert.That(await largestState, Is.LessThan(8 * 1024), "the run state keeps the reference");
        }

        var firstUser = _run.Model.Requests[0].Messages.EnumerateArray().First(m => m.GetProperty("role").GetString() == "user").GetProperty("content").GetString()!;
        Assert.That(firstUser, Does.Contain("order line 1999 of the input"), "Memory resolved the input for the model, whole");
    }

    [Test]
    public async Task Should_store_an_output_once_when_its_step_is_delivered_again_after_the_ledger_lost_it()
    {
        if (!distributed)
        {
            Assert.Ignore("The tool-call ledger is in memory in embedded mode; the store's idempotency is When_a_payload_store_keeps_payloads'.");
        }

        await StartAsync(1, Megabyte);
        var (runId, end) = await _run.StartRunAsync();
        Assert.That(await LargePayloadRun.EndOf(end, TimeSpan.FromMinutes(2)), Does.StartWith("RunCompleted"));
        Assert.That(await PayloadKeysAsync(), Has.Count.EqualTo(1));

        // As if the ToolExecutor died after storing the output but before recording the call: the step
        // comes back and the tool runs again, with the same output.
        foreach (var key in (await Redis.KeysAsync(_run.KeyPrefix)).Where(k => k.ToString().Contains(runId.ToString(), StringComparison.Ordinal) && !k.ToString().Contains("saga:", StringComparison.Ordinal)))
        {
            await Redis.Database.KeyDeleteAsync(key);
        }

        var written = 0;
        var results = new TaskCompletionSource<ToolResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PayloadStore.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref written));
        listener.Start();
        var bus = _run.Services.GetRequiredService<IBus>();
        await bus.ConnectReceiveEndpoint(e => e.Handler<ToolResult>(c =>
        {
            results.TrySetResult(c.Message);
            return Task.CompletedTask;
        })).Ready;

        await bus.Publish(_run.Steps.Single(s => s.RunId == runId && s.ToolCalls.Count > 0));
        var again = await results.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.That(again.Outcomes.Single().OutputRef?.Size, Is.EqualTo(Megabyte), "the tool ran again and its output went out of line again");
        Assert.That(written, Is.Zero, "the same content was not written a second time");
        Assert.That(await PayloadKeysAsync(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_end_the_run_with_the_reason_when_a_message_is_over_its_bound()
    {
        // Outputs stay inline up to a megabyte here, so a 200 kB one makes a ToolResult over 64 KiB.
        await StartAsync(1, 200_000, new() { ["Payloads:InlineBytes"] = "1000000", ["Payloads:MaxMessageBytes"] = "65536" });

        var (_, end) = await _run.StartRunAsync();
        var how = await LargePayloadRun.EndOf(end, TimeSpan.FromMinutes(2));

        Assert.That(how, Does.StartWith("RunFailed: A StepPlanned of this run could not be processed by 'execute-step'")
            .And.Contain("The ToolResult message of run").And.Contain("over the bound of 65,536 bytes (Payloads:MaxMessageBytes); it was not sent"));
    }

    [Test]
    public async Task Should_end_the_run_with_the_reason_when_its_state_is_over_its_bound()
    {
        if (!distributed)
        {
            Assert.Ignore("The run state is bounded where it is stored, in Redis; the embedded mode keeps it in memory.");
        }

        // The output travels inline (under the message bound) and so would sit in the run state.
        await StartAsync(1, 40_000, new() { ["Payloads:InlineBytes"] = "1000000", ["Payloads:MaxStateBytes"] = "16384" });

        var (runId, end) = await _run.StartRunAsync();
        var how = await LargePayloadRun.EndOf(end, TimeSpan.FromMinutes(2));

        Assert.That(how, Does.StartWith("RunFailed: A ToolResult of this run could not be processed by 'agent-run-state'")
            .And.Contain($"The state of AgentRunState {runId} would be").And.Contain("over the bound of 16,384 bytes (Payloads:MaxStateBytes); it was not saved"));
        Assert.That((long)await Redis.Database.ExecuteAsync("HSTRLEN", $"{_run.KeyPrefix}saga:agentrun:{runId:D}", "data"), Is.LessThan(16_384));
    }
}
