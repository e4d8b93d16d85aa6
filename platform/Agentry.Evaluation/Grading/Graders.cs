using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Evaluation.Datasets;
using Agentry.Llm;

namespace Agentry.Evaluation.Grading;

/// How the run ended. Every case is graded on it: a case that says nothing expects `completed`.
public sealed class OutcomeGrader : Grader
{
    public override string Name => "status";

    public override bool Applies(EvalCase @case) => true;

    public override ValueTask<Grade> GradeAsync(EvalCase @case, RunEvidence run, CancellationToken cancellationToken)
    {
        var expected = @case.Expect.Status ?? RunStatus.Completed;
        var actual = run.Run.Status;
        return ValueTask.FromResult(actual == expected
            ? new Grade(Name, 1, true, $"The run ended {Word(actual)}, as expected.")
            : new Grade(Name, 0, false, $"The run ended {Word(actual)}, not {Word(expected)}{(run.Run.Reason is { Length: > 0 } reason ? $": {reason}" : ".")}"));
    }

    private static string Word(RunStatus? status) => status?.ToString().ToLowerInvariant() ?? "unrecorded";
}

/// The answer's text: exact (after trimming), contains and not_contains (ignoring case), regex.
public sealed class AnswerGrader : Grader
{
    public override string Name => "answer";

    public override bool Applies(EvalCase @case) => @case.Expect.ChecksTheAnswer;

    public override ValueTask<Grade> GradeAsync(EvalCase @case, RunEvidence run, CancellationToken cancellationToken)
    {
        var expect = @case.Expect;
        var answer = run.Answer;
        var checks = new List<(bool, string)>();
        if (expect.Exact is { } exact)
        {
            checks.Add((answer.Trim() == exact.Trim(), $"The answer is not exactly \"{exact.Trim()}\" (it is \"{Shorten(answer)}\")."));
        }

        checks.AddRange(expect.Contains.Select(text => (answer.Contains(text, StringComparison.OrdinalIgnoreCase), $"The answer does not contain \"{text}\".")));
        checks.AddRange(expect.NotContains.Select(text => (!answer.Contains(text, StringComparison.OrdinalIgnoreCase), $"The answer contains \"{text}\", which it must not.")));
        checks.AddRange(expect.Matches.Select(regex => (regex.IsMatch(answer), $"The answer does not match /{regex}/.")));
        var grade = Grade.OfChecks(Name, checks);
        return ValueTask.FromResult(grade.Passed ? grade : grade with { Reason = $"{grade.Reason} Answer: \"{Shorten(answer)}\"" });
    }

    internal static string Shorten(string text) => text.Length <= 160 ? text : text[..157] + "...";
}

/// The answer as structured output: JSON (a Markdown code fence around it is tolerated) that
/// validates against the case's JSON Schema.
public sealed class SchemaGrader : Grader
{
    public override string Name => "schema";

    public override bool Applies(EvalCase @case) => @case.Expect.OutputSchema is not null;

    public override ValueTask<Grade> GradeAsync(EvalCase @case, RunEvidence run, CancellationToken cancellationToken)
    {
        var check = StructuredReplies.CheckJson(run.Answer, @case.Expect.OutputSchema!);
        return ValueTask.FromResult(check.IsValid
            ? new Grade(Name, 1, true, "The answer is JSON that matches the schema.")
            : new Grade(Name, 0, false, $"The answer does not match the output schema: {string.Join("; ", check.Problems)}"));
    }
}

/// Tools that must be called (optionally with given arguments: each listed argument equal, as JSON,
/// in at least one call) and tools that must not be.
public sealed class ToolGrader : Grader
{
    public override string Name => "tools";

    public override bool Applies(EvalCase @case) => @case.Expect.ChecksTools;

    public override ValueTask<Grade> GradeAsync(EvalCase @case, RunEvidence run, CancellationToken cancellationToken)
    {
        var calls = run.Calls.ToList();
        var checks = new List<(bool, string)>();
        foreach (var expected in @case.Expect.Called)
        {
            var ofTool = calls.Where(c => c.Tool == expected.Tool).ToList();
            if (expected.Arguments is not { } arguments)
            {
                checks.Add((ofTool.Count > 0, $"{expected.Tool} was not called{Made(calls)}."));
                continue;
            }

            checks.Add((ofTool.Any(c => Carries(c.Arguments, arguments)),
                ofTool.Count == 0
                    ? $"{expected.Tool} was not called{Made(calls)}."
                    : $"{expected.Tool} was never called with {arguments.GetRawText()} (calls: {string.Join(", ", ofTool.Select(c => c.Arguments.GetRawText()))})."));
        }

        checks.AddRange(@case.Expect.NotCalled.Select(tool => (calls.All(c => c.Tool != tool), $"{tool} was called, which the case forbids.")));
        return ValueTask.FromResult(Grade.OfChecks(Name, checks));
    }

    private static string Made(List<ToolCall> calls) =>
        calls.Count == 0 ? " (no tool was called)" : $" (called: {string.Join(", ", calls.Select(c => c.Tool).Distinct())})";

    /// Every expected argument is present with an equal JSON value; the call may carry more.
    private static bool Carries(JsonElement actual, JsonElement expected) =>
        actual.ValueKind == JsonValueKind.Object
        && expected.EnumerateObject().All(e => actual.TryGetProperty(e.Name, out var value) && JsonElement.DeepEquals(value, e.Value));
}

/// The run's spend against the case's budget: steps, tokens, cost (US dollars), latency.
public sealed class BudgetGrader : Grader
{
    public override string Name => "budget";

    public override bool Applies(EvalCase @case) => @case.Expect.ChecksBudget;

    public override ValueTask<Grade> GradeAsync(EvalCase @case, RunEvidence run, CancellationToken cancellationToken)
    {
        var expect = @case.Expect;
        var checks = new List<(bool, string)>();
        if (expect.MaxSteps is { } steps)
        {
            checks.Add((run.Steps <= steps, $"{run.Steps} steps, more than the {steps} allowed."));
        }

        if (expect.MaxTokens is { } tokens)
        {
            checks.Add((run.Tokens <= tokens, $"{run.Tokens} tokens, more than the {tokens} allowed."));
        }

        if (expect.MaxCost is { } cost)
        {
            checks.Add((run.Cost <= cost, $"{ModelPrices.Format(run.Cost)} spent, more than the {ModelPrices.Format(cost)} allowed."));
        }

        if (expect.MaxLatency is { } latency)
        {
            checks.Add((run.Latency <= latency, string.Create(CultureInfo.InvariantCulture, $"{run.Latency.TotalSeconds:0.###} s, longer than the {latency.TotalSeconds:0.###} s allowed.")));
        }

        return ValueTask.FromResult(Grade.OfChecks(Name, checks));
    }
}
