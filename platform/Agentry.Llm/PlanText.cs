using System.Text.Encodings.Web;
using System.Text.Json;
using Agentry.Contracts;

namespace Agentry.Llm;

/// How a plan is written for people and models: one format for the CLI, the prompts and the
/// offline model, which recognises a plan request by its opening words.
public static class PlanText
{
    /// The first words of every request for a plan (first or revised).
    public const string PlanRequestOpening = "Write a plan";

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Describe(Plan plan) =>
        plan.Steps.Count == 0
            ? $"(revision {plan.Revision}) no steps: nothing to do before the answer"
            : $"(revision {plan.Revision}){Environment.NewLine}" + string.Join(Environment.NewLine, plan.Steps.Select(Describe));

    public static string Describe(PlanStep step)
    {
        var after = step.DependsOn.Count == 0 ? "" : $" [after {string.Join(", ", step.DependsOn)}]";
        var action = step.Tool is null
            ? $"sub-goal: {step.Description}"
            : $"{step.Tool} {(step.Arguments is { } arguments ? JsonSerializer.Serialize(arguments, Compact) : "{}")} - {step.Description}";
        return $"{step.Number}.{after} {action}";
    }
}
