using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Agentry.ServiceDefaults.Telemetry;
using OpenTelemetry;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.Cli;

/// Keeps the Agentry spans of the runs this process follows, as they end. With every service in
/// this process, that is every stage of the run; a deployment's spans end in other processes.
public sealed class RunSpans : BaseProcessor<Activity>
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Activity>> _runs = new();

    public void Follow(Guid runId) => _runs.TryAdd(runId.ToString(), new ConcurrentQueue<Activity>());

    public IReadOnlyList<Activity> Forget(Guid runId) =>
        _runs.TryRemove(runId.ToString(), out var spans) ? [.. spans] : [];

    public override void OnEnd(Activity data)
    {
        if (data.Source == Source && data.GetTagItem(Tags.RunId) is string runId && _runs.TryGetValue(runId, out var spans))
        {
            spans.Enqueue(data);
        }
    }
}

/// The per-step timing table `agentry run` ends with, built only from the run's spans: each row is
/// one stage span's own duration; the step's wall time also holds the hops between stages
/// (the in-memory bus, the saga's transitions), which no stage row contains.
public static class TimingTable
{
    public static void Print(TextWriter output, IReadOnlyList<Activity> spans)
    {
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var steps = spans
            .Where(s => s.GetTagItem(Tags.Step) is int)
            .GroupBy(s => (int)s.GetTagItem(Tags.Step)!)
            .OrderBy(g => g.Key)
            .ToList();
        if (steps.Count == 0)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine("Timing (from this run's spans):");
        output.WriteLine($"  {"step",-5} {"stage",-9} {"what",-44} {"ms",9}");
        foreach (var step in steps)
        {
            // A stage row is a span whose parent is not one of ours: nested spans are inside their parent's time.
            foreach (var span in step.Where(s => (string?)s.GetTagItem(Tags.Stage) != Stages.Saga && !ids.Contains(s.ParentSpanId)).OrderBy(s => s.StartTimeUtc))
            {
                Row(output, step.Key, (string?)span.GetTagItem(Tags.Stage) ?? "", Describe(span), span.Duration);
            }

            var wall = step.Max(s => s.StartTimeUtc + s.Duration) - step.Min(s => s.StartTimeUtc);
            Row(output, step.Key, "step", "wall time, first span start to last span end", wall);
        }
    }

    private static void Row(TextWriter output, int step, string stage, string what, TimeSpan duration) =>
        output.WriteLine($"  {step,-5} {stage,-9} {Fit(what),-44} {duration.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture),9}");

    private static string Describe(Activity span) => (string?)span.GetTagItem(Tags.Stage) switch
    {
        Stages.Context => $"context of {span.GetTagItem(Tags.ContextMessages)} messages",
        Stages.Plan => $"{span.DisplayName}, {span.GetTagItem(Tags.GenAiInputTokens) ?? 0} in / {span.GetTagItem(Tags.GenAiOutputTokens) ?? 0} out tokens",
        Stages.Act => $"{span.GetTagItem(Tags.GenAiToolName)}: {span.GetTagItem(Tags.ToolOutcome)}",
        Stages.Evaluate => $"verdict {span.GetTagItem(Tags.Verdict)}",
        _ => span.DisplayName,
    };

    private static string Fit(string text) => text.Length <= 44 ? text : string.Concat(text.AsSpan(0, 41), "...");
}
