using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Contracts;
using Agentry.Evaluation.Datasets;

namespace Agentry.Cli.Eval;

/// `agentry eval add-run`: a recorded run becomes a regression case. The case asks the same goal of
/// the same agent and expects what the run should have done: to complete; when it did complete,
/// the same tools and an answer with the same facts (graded by the rubric judge); when it failed,
/// escalated or was cancelled, an answer that achieves the goal, with what went wrong and any
/// person's guidance in the rubric. A comment above the case says where it came from: the
/// expectations are a starting point for a person to sharpen, not a verdict.
public static class RunToCase
{
    private static readonly JsonSerializerOptions Inline = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonObject Case(RunView run, string id)
    {
        var expect = new JsonObject { ["status"] = "completed" };
        var rubric = new StringBuilder();
        if (run.Status == RunStatus.Completed)
        {
            // A replay ran no tool: what it decided to call is what its case expects.
            var tools = (run.Lineage?.Kind == LineageKind.Replay
                    ? run.Steps.SelectMany(s => s.ToolCalls).Select(c => c.Tool)
                    : run.Steps.SelectMany(s => s.Outcomes).Where(o => o.Succeeded).Select(o => o.Tool))
                .Distinct(StringComparer.Ordinal).ToList();
            if (tools.Count > 0)
            {
                expect["tools"] = new JsonObject { ["called"] = new JsonArray(tools.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()) };
            }

            rubric.Append(CultureInfo.InvariantCulture, $"The answer gives the same facts as this accepted answer, and contradicts none of them: {run.Answer}");
        }
        else
        {
            rubric.Append(CultureInfo.InvariantCulture, $"The answer achieves the goal. The recorded run did not: it ended {run.Status?.ToString().ToLowerInvariant() ?? "unrecorded"}{(run.Reason is { Length: > 0 } reason ? $" ({reason.TrimEnd('.')})" : "")}.");
        }

        foreach (var guidance in run.Steps.Select(s => s.Guidance).OfType<Guidance>())
        {
            rubric.Append(CultureInfo.InvariantCulture, $" A person's guidance was: {guidance.Text}");
        }

        expect["rubric"] = new JsonObject { ["criteria"] = rubric.ToString() };
        var @case = new JsonObject { ["id"] = id, ["agent"] = run.Agent, ["goal"] = run.Goal };
        if (run.Approvals?.Any(a => a.Approved == true) == true)
        {
            @case["approve"] = true;
        }

        @case["expect"] = expect;
        return @case;
    }

    public static string Provenance(RunView run, DateTimeOffset now) =>
        $"Added from run {run.RunId} ({run.Status?.ToString().ToLowerInvariant() ?? "unrecorded"}){Lineage(run)} by `agentry eval add-run` on {now:yyyy-MM-dd}; review the expectations.";

    /// Where a fork or a replay came from: the case asks the goal from the start, so the note says
    /// which run and step its expectations were made from.
    private static string Lineage(RunView run) => run.Lineage switch
    {
        null => "",
        { Kind: LineageKind.Fork } fork => $", a fork of run {fork.ParentRunId} at step {fork.FromStep}{Model(fork)}{(fork.Guidance is { } g ? " with a person's guidance" : "")},",
        { } replay => $", a replay of run {replay.ParentRunId}{Model(replay)},",
    };

    private static string Model(RunLineage lineage) => lineage.Model is { } model ? $" on model {model}" : "";

    /// Appends the case to the dataset: a JSON line to a .jsonl file; to a YAML file, an item of its
    /// `cases:` list (which must be the file's last key, as in the shipped datasets), indented like
    /// the items already there, its values written as JSON scalars (which YAML reads as they are).
    public static string Append(string datasetFile, JsonObject @case, string provenance)
    {
        var text = File.ReadAllText(datasetFile);
        var newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var separator = text.Length == 0 || text.EndsWith('\n') ? "" : newline;
        if (datasetFile.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            return text + separator + @case.ToJsonString(Inline) + newline;
        }

        var lines = text.Split('\n');
        var indent = lines.Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.TrimStart().StartsWith("- id:", StringComparison.Ordinal)) is { } item
            ? item[..(item.Length - item.TrimStart().Length)]
            : "  ";
        var yaml = new StringBuilder();
        yaml.Append(indent).Append("# ").Append(provenance).Append(newline);
        var first = true;
        foreach (var (key, value) in @case)
        {
            Write(yaml, key, value, indent + (first ? "- " : "  "), indent + "  ", newline);
            first = false;
        }

        return text + separator + yaml;
    }

    private static void Write(StringBuilder yaml, string key, JsonNode? value, string prefix, string indent, string newline)
    {
        if (value is JsonObject map)
        {
            yaml.Append(prefix).Append(key).Append(':').Append(newline);
            foreach (var (k, v) in map)
            {
                Write(yaml, k, v, indent + "  ", indent + "  ", newline);
            }

            return;
        }

        yaml.Append(prefix).Append(key).Append(": ").Append(value?.ToJsonString(Inline) ?? "null").Append(newline);
    }

    /// The dataset after the append, read back with the loader: the case must be in it, or nothing is written.
    public static EvalCase Verify(string datasetFile, string newText, string id)
    {
        var dataset = DatasetLoader.Parse(datasetFile, newText);
        return dataset.Cases.FirstOrDefault(c => c.Id == id)
            ?? throw new DatasetException(datasetFile, 1, 1, $"the case '{id}' was appended at the end of the file but is not part of its cases: make `cases:` the last key of the dataset.");
    }
}
