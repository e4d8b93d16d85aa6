using Agentry.Contracts;
using Agentry.Evaluation.Datasets;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.AI.Evaluation;

namespace Agentry.Evaluation.Grading;

/// What one trial of a case left behind: the run as Memory recorded it (steps, tool calls with their
/// arguments, outcomes, usage, cost) and how long it took from goal to end.
public sealed record RunEvidence(RunView Run, TimeSpan Latency)
{
    public string Answer => Run.Answer ?? "";

    public IEnumerable<ToolCall> Calls => Run.Steps.SelectMany(s => s.ToolCalls);

    public int Steps => Run.Steps.Count;

    public int Tokens => Run.Usage?.Total ?? 0;

    public decimal Cost => Run.TotalCost ?? 0;

    /// The models that planned the run's steps, as the steps recorded them.
    public IReadOnlyList<string> Models => Run.Steps.Select(s => s.Model).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
}

/// The case and its run, handed to a grader through M.E.AI's additional context: Agentry's graders are
/// IEvaluators, and grade a whole run (tools, steps, cost), not only the chat response.
public sealed class CaseEvidence(EvalCase @case, RunEvidence run)
    : EvaluationContext("Agentry run", $"Run {run.Run.RunId} of case {@case.Id}")
{
    public EvalCase Case { get; } = @case;

    public RunEvidence Run { get; } = run;

    /// The chat as M.E.AI's evaluators see it: the goal, then the run's answer.
    public IReadOnlyList<ChatMessage> Messages => [new(ChatRole.User, Case.Goal)];

    public ChatResponse Response => new(new ChatMessage(ChatRole.Assistant, Run.Answer));
}
