using System.Text.Json;
using Json.Schema;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Llm;

/// The judge's reading of an answer: does it achieve the goal, and how sure it is (0 to 1).
public sealed record JudgeVerdict(bool Achieved, double Confidence, string Reason);

/// What the model judge is asked and the JSON it must answer with. In one place because the
/// Evaluator asks it and the offline model has to recognise it to answer in kind.
public static class JudgePrompt
{
    public const string Instructions =
        """
        You check whether an AI agent's final answer achieves the goal it was given.
        Reply with one JSON object and nothing else, exactly of this form:
        {"verdict": "complete" or "incomplete", "confidence": a number from 0 to 1, "reason": "one sentence"}
        "complete" means the answer achieves the goal; confidence is how sure you are of your verdict.
        """;

    public const string GoalLabel = "Goal:";
    public const string AnswerLabel = "Answer:";

    public static JsonSchema Schema { get; } = JsonSchema.FromText(
        """
        {
          "type": "object",
          "properties": {
            "verdict": { "enum": ["complete", "incomplete"] },
            "confidence": { "type": "number", "minimum": 0, "maximum": 1 },
            "reason": { "type": "string", "minLength": 1 }
          },
          "required": ["verdict", "confidence", "reason"]
        }
        """);

    public static ChatHistory History(string goal, string answer)
    {
        var history = new ChatHistory(Instructions);
        history.AddUserMessage($"{GoalLabel} {goal}{Environment.NewLine}{Environment.NewLine}{AnswerLabel} {answer}");
        return history;
    }

    public static bool IsJudgeRequest(ChatHistory history) =>
        history.Count > 0 && history[0].Role == AuthorRole.System && history[0].Content == Instructions;

    public static ReplyCheck<JudgeVerdict> Check(ModelReply reply)
    {
        var json = StructuredReplies.CheckJson(StructuredReplies.TextOf(reply), Schema);
        if (!json.IsValid)
        {
            return new ReplyCheck<JudgeVerdict>(null, json.Problems);
        }

        var value = json.Value;
        return ReplyCheck.Valid(new JudgeVerdict(
            value.GetProperty("verdict").GetString() == "complete",
            value.GetProperty("confidence").GetDouble(),
            value.GetProperty("reason").GetString()!.Trim()));
    }

    /// The answer part of a judge request, for the offline model.
    public static string AnswerOf(ChatHistory history)
    {
        var request = history.LastOrDefault(m => m.Role == AuthorRole.User)?.Content ?? "";
        var at = request.IndexOf(Environment.NewLine + Environment.NewLine + AnswerLabel, StringComparison.Ordinal);
        return at < 0 ? "" : request[(at + Environment.NewLine.Length * 2 + AnswerLabel.Length)..].Trim();
    }

    public static string Serialize(JudgeVerdict verdict) =>
        JsonSerializer.Serialize(new { verdict = verdict.Achieved ? "complete" : "incomplete", confidence = verdict.Confidence, reason = verdict.Reason });
}
