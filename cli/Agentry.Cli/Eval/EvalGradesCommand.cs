using System.Globalization;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Evaluation.Online;

namespace Agentry.Cli.Eval;

/// `agentry eval grades RUN`: the online grades the Evaluator gave a production run, as Memory keeps
/// them with the run (from a deployment's Gateway, or from the local store of the embedded runs).
public static class EvalGradesCommand
{
    public static async Task<int> ShowAsync(
        string runId, GatewayTarget? gateway, string? agentsPath, IReadOnlyDictionary<string, string?>? settings,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(runId, out var id))
        {
            await error.WriteLineAsync($"'{runId}' is not a run id (a GUID, as `agentry run` prints after Run:).");
            return ExitCodes.BadInput;
        }

        var run = gateway is null
            ? await EvalCommands.LocalRunAsync(id, agentsPath, settings, cancellationToken)
            : await EvalCommands.RemoteRunAsync(gateway, id, error, cancellationToken);
        if (run is null)
        {
            return ExitCodes.NotCompleted;
        }

        if (!run.Found)
        {
            await error.WriteLineAsync($"No run {id} is recorded {(gateway is null ? "in the local store" : $"at {gateway.Url}")}. Give the id `agentry run` or the Gateway printed{(gateway is null ? ", or name the deployment with --gateway" : "")}.");
            return ExitCodes.BadInput;
        }

        if (run.OnlineEvaluation is not { } grades)
        {
            await output.WriteLineAsync(WhyNoGrades(run, agentsPath));
            return ExitCodes.NotCompleted;
        }

        Print(output, run, grades);
        return ExitCodes.Completed;
    }

    private static void Print(TextWriter output, RunView run, OnlineEvaluationView grades)
    {
        var place = grades.Sequence > 0 ? $" (the agent's scored run {grades.Sequence})" : "";
        output.WriteLine($"Run {run.RunId} of {run.Agent}, graded online {grades.GradedAt.ToString("u", CultureInfo.InvariantCulture)}");
        output.WriteLine(grades.Score is { } score
            ? string.Create(CultureInfo.InvariantCulture, $"Score: {score:0.00}{place}")
            : "Score: none: no grader could grade this run, so it takes no place in the agent's windows.");
        output.WriteLine();
        var width = Math.Max("grader".Length, grades.Grades.Select(g => g.Grader.Length).DefaultIfEmpty(0).Max());
        output.WriteLine($"{"grader".PadRight(width)}  {"score",5}  {"verdict",-10}  reason");
        foreach (var grade in grades.Grades)
        {
            var verdict = grade.NotGraded ? "NOT GRADED" : grade.Passed ? "PASS" : "FAIL";
            var value = grade.NotGraded ? "-" : grade.Score.ToString("0.00", CultureInfo.InvariantCulture);
            output.WriteLine($"{grade.Grader.PadRight(width)}  {value,5}  {verdict,-10}  {grade.Reason}");
        }

        if (grades.Grades.Any(g => g.NotGraded))
        {
            output.WriteLine();
            output.WriteLine("A grader that could not grade is left out of the score.");
        }
    }

    /// Says which of the reasons it is, as far as this machine can tell: the run has not completed,
    /// its agent (as defined here) does not sample it, or the Evaluator has not recorded its grades yet.
    private static string WhyNoGrades(RunView run, string? agentsPath)
    {
        var prefix = $"Run {run.RunId} of {run.Agent ?? "an unknown agent"} has no online grades";
        if (run.Status is not RunStatus.Completed)
        {
            return $"{prefix}: it is {run.Status?.ToString().ToLowerInvariant() ?? "not recorded as ended"}, and online evaluation grades completed runs only.";
        }

        var agent = run.Agent is null ? null : EvalCommands.LocalAgents(agentsPath)?.Find(run.Agent);
        return agent switch
        {
            null => $"{prefix}: it was not sampled for online evaluation (its agent's evaluation.online), or the Evaluator has not graded it yet.",
            { Evaluation.Online: null } => $"{prefix}: it was not sampled: agent {agent.Name} has no evaluation.online in {agent.SourceFile}.",
            { Evaluation.Online: { } online } when !OnlineSampling.IsSampled(run.RunId, online.Sample) =>
                string.Create(CultureInfo.InvariantCulture, $"{prefix}: it was not sampled: agent {agent.Name} grades {online.Sample:P0} of its completed runs (evaluation.online.sample in {agent.SourceFile}), and this one is not among them."),
            _ => $"{prefix} yet: it is sampled for online evaluation; the Evaluator records its grades shortly after the run completes. Ask again in a moment.",
        };
    }
}
