using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Contracts;

namespace Agentry.Gateway.Lineage;

/// One step of a replay beside the recorded step. New is null while the replay has not decided it.
public sealed record ReplayStepComparison(int Step, string Recorded, string? New, bool Same);

/// Where a replay's decisions differ from its parent's (docs/durability.md).
public sealed record ReplayComparisonView(Guid RunId, Guid ParentRunId, RunStatus? Status, int Steps, int Decided, int Differences, IReadOnlyList<ReplayStepComparison> Comparison);

/// Compares each recorded decision with the replay's new one: the same tools with the same arguments
/// (in any order, arguments compared as JSON values, not as text), or the same final answer.
public static class ReplayComparison
{
    public static ReplayComparisonView Of(RunView replay, RunView parent)
    {
        var decided = replay.Steps.Where(s => s.Usage is not null).ToDictionary(s => s.Step);
        // The steps the replay was started to decide again: the parent's whole ones (RecordedSteps).
        var replayed = RunLineagesApi.RecordedSteps(parent);
        var rows = parent.Steps.Where(s => s.Step <= replayed)
            .Select(recorded =>
            {
                var made = decided.GetValueOrDefault(recorded.Step);
                return new ReplayStepComparison(recorded.Step, Describe(recorded), made is null ? null : Describe(made), made is not null && Key(made) == Key(recorded));
            })
            .ToList();
        return new ReplayComparisonView(replay.RunId, replay.Lineage!.ParentRunId, replay.Status, rows.Count, rows.Count(r => r.New is not null),
            rows.Count(r => r.New is not null && !r.Same), rows);
    }

    public static string Describe(StepView step) =>
        step.ToolCalls.Count > 0
            ? string.Join("; ", step.ToolCalls.Select(call => $"{call.Tool} {Canonical(call.Arguments)}"))
            : $"answer: {step.FinalAnswer}";

    private static string Key(StepView step) =>
        step.ToolCalls.Count > 0
            ? string.Join("\n", step.ToolCalls.Select(call => $"{call.Tool} {Canonical(call.Arguments)}").Order(StringComparer.Ordinal))
            : "answer\n" + (step.FinalAnswer ?? "").Trim();

    /// Arguments with their object keys in order, so that {"a":1,"b":2} and {"b":2,"a":1} are the same decision.
    private static string Canonical(JsonElement arguments) => Sorted(JsonNode.Parse(arguments.GetRawText()))?.ToJsonString(Readable) ?? "null";

    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value?.DeepClone())))),
        JsonArray a => new JsonArray([.. a.Select(item => Sorted(item?.DeepClone()))]),
        _ => node?.DeepClone(),
    };
}
