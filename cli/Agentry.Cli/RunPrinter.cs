using System.Text.Encodings.Web;
using System.Text.Json;
using System.Globalization;
using Agentry.Contracts;
using Agentry.Llm;

namespace Agentry.Cli;

/// Prints a run's steps as they happen. Events of one step travel on separate queues and may
/// arrive out of order, so they are buffered and printed in lifecycle order: plan, results, verdict.
public sealed class RunPrinter(TextWriter output)
{
    private const int MaxShown = 400;

    // Compact and unescaped: this is for a person reading a terminal, not for a parser.
    private static readonly JsonSerializerOptions Display = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Dictionary<int, StepPlanned> _planned = [];
    private readonly Dictionary<int, ToolResult> _results = [];
    private readonly Dictionary<int, GoalEvaluated> _verdicts = [];
    private int _step = 1;
    private Phase _phase = Phase.Plan;

    private enum Phase
    {
        Plan,
        Results,
        Verdict,
    }

    /// Returns true when the event ended the run.
    public bool Print(object message)
    {
        switch (message)
        {
            case StepPlanned planned:
                _planned[planned.Step] = planned;
                break;
            case ToolResult result:
                _results[result.Step] = result;
                break;
            case GoalEvaluated verdict:
                _verdicts[verdict.Step] = verdict;
                break;
            default:
                FlushAll();
                PrintEnd(message);
                return true;
        }

        FlushInOrder();
        return false;
    }

    private void FlushInOrder()
    {
        while (true)
        {
            if (_phase == Phase.Plan && _planned.Remove(_step, out var planned))
            {
                PrintPlan(planned);
                _phase = planned.ToolCalls.Count > 0 ? Phase.Results : Phase.Verdict;
            }
            else if (_phase == Phase.Results && _results.Remove(_step, out var result))
            {
                PrintResults(result);
                _phase = Phase.Verdict;
            }
            else if (_phase == Phase.Verdict && _verdicts.Remove(_step, out var verdict))
            {
                PrintVerdict(verdict);
                _step++;
                _phase = Phase.Plan;
            }
            else
            {
                return;
            }
        }
    }

    private void FlushAll()
    {
        FlushInOrder();
        foreach (var step in _planned.Keys.Concat(_results.Keys).Concat(_verdicts.Keys).Distinct().Order())
        {
            if (_planned.Remove(step, out var planned))
            {
                PrintPlan(planned);
            }

            if (_results.Remove(step, out var result))
            {
                PrintResults(result);
            }

            if (_verdicts.Remove(step, out var verdict))
            {
                PrintVerdict(verdict);
            }
        }
    }

    private void PrintPlan(StepPlanned step)
    {
        output.WriteLine($"Step {step.Step}");
        if (step.Plan is { } plan)
        {
            Line("plan", PlanText.Describe(plan));
        }

        if (!string.IsNullOrWhiteSpace(step.Thought))
        {
            Line("thought", step.Thought);
        }

        foreach (var call in step.ToolCalls)
        {
            Line("call", $"{call.Tool} {JsonSerializer.Serialize(call.Arguments, Display)}");
        }

        if (step.ToolCalls.Count == 0)
        {
            Line("answer", step.FinalAnswer ?? "");
        }

        Line("tokens", step.CacheHit
            ? $"none: answered from the response cache ({step.Model})"
            : $"{step.Usage.InputTokens} in, {step.Usage.OutputTokens} out ({step.Model}), {ModelPrices.Format(step.Cost)}");
        if (step.ContextUsage is { } context)
        {
            Line("summary", $"{context.InputTokens} in, {context.OutputTokens} out, {ModelPrices.Format(step.ContextCost)}: earlier steps summarized to fit the context");
        }
    }

    private void PrintResults(ToolResult result)
    {
        foreach (var outcome in result.Outcomes)
        {
            var duration = $"{outcome.Duration.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture)} ms";
            Line("result", outcome.Succeeded
                ? $"{outcome.Tool} -> {Shorten(outcome.Output)} ({duration})"
                : $"{outcome.Tool} failed, {outcome.ErrorKind}: {Shorten(outcome.Error ?? "")} ({duration})");
        }
    }

    private void PrintVerdict(GoalEvaluated verdict) => Line("verdict", $"{verdict.Verdict}: {verdict.Reason}");

    private void PrintEnd(object end)
    {
        output.WriteLine();
        switch (end)
        {
            case RunCompleted completed:
                output.WriteLine($"Answer: {completed.Answer}");
                output.WriteLine($"Completed in {Summary(completed.Steps, completed.Usage, completed.TotalCost, completed.Duration)}.");
                break;
            case RunFailed failed:
                output.WriteLine($"Failed: {failed.Reason}");
                output.WriteLine($"Stopped after {Summary(failed.Steps, failed.Usage, failed.TotalCost, failed.Duration)}.");
                break;
            case RunEscalated escalated:
                output.WriteLine($"Escalated to a person: {escalated.Reason}");
                output.WriteLine(escalated.Summary);
                output.WriteLine($"Stopped after {Summary(escalated.Steps, escalated.Usage, escalated.TotalCost, escalated.Duration)}.");
                output.WriteLine($"A person can take it over where the run lives (a deployment or `agentry serve`): agentry resume {escalated.RunId} \"guidance\", or agentry close {escalated.RunId} \"resolution\".");
                break;
            case RunCancelled cancelled:
                output.WriteLine($"Cancelled: {cancelled.Reason}");
                output.WriteLine($"Stopped after {Summary(cancelled.Steps, cancelled.Usage, cancelled.TotalCost, cancelled.Duration)}.");
                break;
            default:
                throw new ArgumentException($"Not an end of a run: {end.GetType().Name}.", nameof(end));
        }
    }

    private void Line(string label, string text)
    {
        var lines = text.Split('\n');
        output.WriteLine($"  {label,-8} {lines[0].TrimEnd('\r')}");
        foreach (var more in lines.Skip(1))
        {
            output.WriteLine($"  {"",-8} {more.TrimEnd('\r')}");
        }
    }

    private static string Summary(int steps, TokenUsage usage, decimal cost, TimeSpan duration) =>
        $"{steps} step{(steps == 1 ? "" : "s")}, {usage.Total} tokens ({usage.InputTokens} in, {usage.OutputTokens} out), {ModelPrices.Format(cost)}, {duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    private static string Shorten(string text)
    {
        var oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= MaxShown ? oneLine : string.Concat(oneLine.AsSpan(0, MaxShown), $"... ({text.Length} characters)");
    }
}
