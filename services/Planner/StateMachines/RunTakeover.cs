using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using static Agentry.Planner.StateMachines.RunMessages;

namespace Agentry.Planner.StateMachines;

/// An escalated run waits for a person (docs/decisions/0021): resumed with guidance, or closed with
/// a resolution. A request that names the step it saw applies only while the run is still escalated
/// at that step, so a stale request never resumes a later escalation.
internal sealed class RunTakeover(AgentCatalog agents, TimeProvider clock)
{
    public static bool StillAt(AgentRunState run, int? atStep) => atStep is null || atStep == run.Step;

    /// The resume the run applied last (for a redelivered ResumeRun).
    public static bool IsTheResume(AgentRunState run, ResumeRun resume) =>
        Deserialize<Guidance>(run.GuidanceJson) is { } guidance && guidance.Text == resume.Guidance.Trim() && guidance.By == resume.By;

    /// The close the run applied (for a redelivered CloseRun).
    public static bool IsTheClose(AgentRunState run, CloseRun close) =>
        run.ClosedBy == close.By && run.Answer == close.Resolution.Trim();

    /// The run goes on at the next step with a fresh allowance: as many steps and as much time as it
    /// started with. Tokens and cost keep counting against the run's limits: a resume buys time and
    /// steps, never money.
    public void Resume(AgentRunState run, ResumeRun resume)
    {
        var limits = agents.Find(run.Agent)?.Limits ?? AgentLimits.Default;
        var steps = run.StepAllowance > 0 ? run.StepAllowance : limits.MaxSteps;
        var time = run.DeadlineAllowance > TimeSpan.Zero ? run.DeadlineAllowance : limits.Deadline;
        run.Step++;
        run.ResumedAtStep = run.Step;
        run.MaxSteps = run.Step - 1 + steps;
        run.Deadline = clock.GetUtcNow() + time;
        run.GuidanceJson = JsonSerializer.Serialize(new Guidance(resume.Guidance.Trim(), resume.By));
        run.PendingVerdictJson = null;
        if (run.PlanAndExecute)
        {
            RunPlans.ReplanForGuidance(run, resume.Guidance.Trim());
        }
    }

    /// The person's resolution becomes the run's answer.
    public static void Close(AgentRunState run, CloseRun close)
    {
        run.Answer = close.Resolution.Trim();
        run.ClosedBy = close.By;
    }
}
