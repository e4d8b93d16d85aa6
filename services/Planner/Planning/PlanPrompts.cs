using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents;

namespace Agentry.Planner.Planning;

/// What a plan-and-execute agent's model is asked, after its instructions and the transcript.
public static class PlanPrompts
{
    private static readonly string Format = $$"""
        Reply with one JSON object and no other text, matching this JSON Schema:
        {{PlanFormat.Schema}}
        Each step is either a tool call ("tool" and "arguments", when you know the arguments now) or a
        sub-goal (no "tool": work whose tool calls you will choose when it runs, after the steps it
        depends on, with their results in front of you). "depends_on" lists the numbers (from 1) of
        earlier steps that must finish first; steps with nothing left to wait for run in parallel.
        Use only the tools offered. Do not add a step that writes the answer: once every step is
        done you will be asked for the answer.
        """;

    public static string MakePlan(AgentDefinition agent) =>
        $"{PlanText.PlanRequestOpening} for the goal before acting.{Environment.NewLine}{Tools(agent)}{Environment.NewLine}{Format}";

    private static string Tools(AgentDefinition agent) =>
        agent.Tools.Count == 0 ? "No tools are offered." : $"The tools, by the names to use in the plan: {string.Join(", ", agent.Tools.Select(t => t.Name))}.";

    public static string Replan(AgentDefinition agent, PlanRequest request) =>
        $"""
        {PlanText.PlanRequestOpening} again: the current plan went wrong. {request.Reason}
        The plan was:
        {(request.Plan is { } plan ? PlanText.Describe(plan) : "(none)")}
        Plan only the work that remains: results already obtained are above and need not be fetched
        again. An empty "steps" list means nothing is left to do but answer.
        {Tools(agent)}
        {Format}
        """;

    public static string Correct(IReadOnlyList<string> problems) =>
        $"That plan is not valid: {string.Join("; ", problems)}. Reply with the corrected plan as one JSON object only.";

    public static string SubGoal(Plan plan, PlanStep step) =>
        $"""
        You are carrying out step {step.Number} of this plan:
        {PlanText.Describe(plan)}
        Step {step.Number} is: {step.Description}
        Call the tool or tools this step needs now, using the results above. Do this step only.
        """;

    public static string Answer(Plan plan) =>
        $"""
        Every step of the plan is done:
        {PlanText.Describe(plan)}
        Write the final answer to the goal from the results above.
        """;
}
