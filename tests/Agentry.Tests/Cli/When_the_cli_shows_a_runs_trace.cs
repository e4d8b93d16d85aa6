using System.Text.RegularExpressions;
using Agentry.Cli;

namespace Agentry.Tests.Cli;

/// `agentry run` with every service in this process: the trace id, the Jaeger link and the timing table.
public sealed partial class When_the_cli_shows_a_runs_trace
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    [Test]
    public async Task Should_print_the_trace_id_and_no_jaeger_link_when_nothing_is_exported()
    {
        var output = await RunAsync();

        Assert.That(TraceLine().IsMatch(output), output);
        Assert.That(output, Does.Not.Contain("Jaeger:"));
    }

    [Test]
    public async Task Should_end_with_a_timing_row_for_each_stage_of_each_step()
    {
        var output = await RunAsync();

        var table = output[output.IndexOf("Timing (from this run's spans):", StringComparison.Ordinal)..];
        var rows = table.Split('\n').Skip(2).Select(l => Regex.Replace(l.Trim(), @"\s+", " ")).Where(l => l.Length > 0).ToList();
        Assert.That(rows.Select(r => Regex.Replace(r, @" [0-9.]+$", "")), Is.EqualTo(new[]
        {
            "1 context context of 2 messages",
            "1 plan chat agentry-offline, 206 in / 32 out tokens",
            "1 act calculator: ok",
            "1 evaluate verdict Continue",
            "1 step wall time, first span start to last span end",
            "2 context context of 4 messages",
            "2 plan chat agentry-offline, 289 in / 1 out tokens",
            "2 evaluate verdict Complete",
            "2 step wall time, first span start to last span end",
        }), table);
        Assert.That(rows.All(r => Regex.IsMatch(r, @" [0-9]+\.[0-9]$")), table);
    }

    [Test]
    public async Task Should_link_to_the_local_jaeger_when_traces_are_exported_over_otlp()
    {
        // Nothing listens there: the export fails quietly, the run does not care.
        var output = await RunAsync(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"));

        var traceId = TraceLine().Match(output).Groups[1].Value;
        Assert.That(output, Does.Contain($"Jaeger: http://localhost:16686/trace/{traceId}\n"));
    }

    [Test]
    public async Task Should_link_to_the_jaeger_that_agentry_jaeger_url_names()
    {
        var output = await RunAsync(("AGENTRY_JAEGER_URL", "https://jaeger.example.org/ui/"));

        var traceId = TraceLine().Match(output).Groups[1].Value;
        Assert.That(output, Does.Contain($"Jaeger: https://jaeger.example.org/ui/trace/{traceId}\n"));
    }

    [Test]
    public async Task Should_say_when_agentry_jaeger_url_is_not_an_address_and_still_run()
    {
        var output = await RunAsync(("AGENTRY_JAEGER_URL", "jaeger"));

        Assert.That(output, Does.Contain("Jaeger: no link, AGENTRY_JAEGER_URL must be the http(s) address of Jaeger's UI, such as http://localhost:16686, not 'jaeger'."));
        Assert.That(output, Does.Contain("Answer: 395"));
    }

    private async Task<string> RunAsync(params (string Key, string Value)[] settings)
    {
        var configuration = new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var exit = await Commands.RunAsync(
            new RunOptions("What is 17 * 23 + 4?", "assistant", TestAgents.RepositoryAgentsFolder(), null, Verbose: false, configuration),
            output, error, timeout.Token);
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output.ToString() + error);
        return output.ToString();
    }

    [GeneratedRegex(@"^Trace: ([0-9a-f]{32})$", RegexOptions.Multiline)]
    private static partial Regex TraceLine();
}
