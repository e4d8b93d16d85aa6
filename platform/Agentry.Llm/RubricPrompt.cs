using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Json.Schema;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Llm;

/// A rubric judge's grade of one answer: 0 (meets no criterion) to 1 (meets every one), and why.
public sealed record RubricGrade(double Score, string Reason);

/// What an evaluation's rubric judge is asked and the JSON it must answer with. One case per call,
/// with no other case in its context, so that a case's grade never depends on the order of a
/// dataset. Its <see cref="Version"/> is stored with every graded result: a changed prompt is a
/// changed judge, and results graded by different judges are not silently compared as equal.
public static class RubricPrompt
{
    public const string Instructions =
        """
        You grade one answer of an AI agent against a rubric, for an evaluation dataset.
        You see one case only: the goal the agent was given, the rubric, and the agent's answer.
        Grade the answer against the rubric alone; do not reward length or style the rubric does not ask for.
        Reply with one JSON object and nothing else, exactly of this form:
        {"score": a number from 0 to 1, "reason": "one sentence"}
        1 means the answer meets every criterion of the rubric, 0 that it meets none.
        """;

    public const string GoalLabel = "Goal:";
    public const string RubricLabel = "Rubric:";
    public const string AnswerLabel = "Answer:";

    private const string SchemaText =
        """
        {
          "type": "object",
          "properties": {
            "score": { "type": "number", "minimum": 0, "maximum": 1 },
            "reason": { "type": "string", "minLength": 1 }
          },
          "required": ["score", "reason"]
        }
        """;

    public static JsonSchema Schema { get; } = JsonSchema.FromText(SchemaText);

    /// The first 12 hex digits of a SHA-256 of the instructions, the message layout and the schema.
    public static string Version { get; } =
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", Instructions, GoalLabel, RubricLabel, AnswerLabel, SchemaText))))[..12];

    public static ChatHistory History(string goal, string rubric, string answer)
    {
        var history = new ChatHistory(Instructions);
        var blank = Environment.NewLine + Environment.NewLine;
        history.AddUserMessage($"{GoalLabel} {goal}{blank}{RubricLabel} {rubric}{blank}{AnswerLabel} {answer}");
        return history;
    }

    public static bool IsRubricRequest(ChatHistory history) =>
        history.Count > 0 && history[0].Role == AuthorRole.System && history[0].Content == Instructions;

    public static ReplyCheck<RubricGrade> Check(ModelReply reply)
    {
        var json = StructuredReplies.CheckJson(StructuredReplies.TextOf(reply), Schema);
        if (!json.IsValid)
        {
            return new ReplyCheck<RubricGrade>(null, json.Problems);
        }

        return ReplyCheck.Valid(new RubricGrade(json.Value.GetProperty("score").GetDouble(), json.Value.GetProperty("reason").GetString()!.Trim()));
    }

    /// The answer part of a rubric request, for the offline model.
    public static string AnswerOf(ChatHistory history)
    {
        var request = history.LastOrDefault(m => m.Role == AuthorRole.User)?.Content ?? "";
        var marker = Environment.NewLine + Environment.NewLine + AnswerLabel;
        var at = request.LastIndexOf(marker, StringComparison.Ordinal);
        return at < 0 ? "" : request[(at + marker.Length)..].Trim();
    }

    public static string Serialize(RubricGrade grade) =>
        JsonSerializer.Serialize(new { score = grade.Score, reason = grade.Reason });
}
