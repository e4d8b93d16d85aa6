using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Json;
using Json.Schema;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Llm;

/// What a check made of one reply: the value it read, or the problems that make the reply unusable.
/// An invalid check may still carry what was read, for showing the model its mistakes.
public sealed record ReplyCheck<T>(T? Value, IReadOnlyList<string> Problems)
{
    public bool IsValid => Problems.Count == 0;
}

public static class ReplyCheck
{
    public static ReplyCheck<T> Valid<T>(T value) => new(value, []);

    public static ReplyCheck<T> Invalid<T>(IReadOnlyList<string> problems, T? value = default) => new(value, problems);
}

/// The outcome of asking until a reply passes its check: the value (default when the bound was
/// reached), the last check, and every answer, for usage and cost (each attempt is paid for).
public sealed record CheckedReply<T>(T? Value, ReplyCheck<T> LastCheck, IReadOnlyList<ModelAnswer> Attempts)
{
    public bool IsValid => LastCheck.IsValid;

    public ModelAnswer Last => Attempts[^1];

    public TokenUsage Usage => Attempts.Aggregate(TokenUsage.None, (total, answer) => total + answer.Reply.Usage);

    /// Only when no attempt reached a model were no tokens spent.
    public bool CacheHit => Attempts.All(a => a.CacheHit);

    /// What the model kept getting wrong, for a failure reason.
    public string Problem => string.Join("; ", LastCheck.Problems);
}

/// Asks a model for a reply that must pass a check (tool arguments valid against their schemas, a
/// JSON verdict, a plan) and, while it does not, asks again a bounded number of times, showing the
/// model what was wrong as a message in the chat history. The Planner checks tool calls with it,
/// the Evaluator its judge's verdict, the plan-and-execute planner its plans (PlanFormat.Check):
///
///     var plan = await StructuredReplies.AskAsync(
///         (history, token) => models.AskAsync(agent.Model, history, settings, kernel: null, token),
///         history, StructuredReplies.JsonMatching(schema), maxReasks: 2, cancellationToken: token);
///     if (!plan.IsValid) ... fail with plan.Problem; plan.Usage and prices.CostOf(plan.Attempts) are the spend.
public static class StructuredReplies
{
    public static async Task<CheckedReply<T>> AskAsync<T>(
        Func<ChatHistory, CancellationToken, Task<ModelAnswer>> ask,
        ChatHistory history,
        Func<ModelReply, ReplyCheck<T>> check,
        int maxReasks,
        Action<ChatHistory, ModelReply, ReplyCheck<T>>? showProblems = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxReasks);
        showProblems ??= ShowProblemsAsUserMessage;
        var attempts = new List<ModelAnswer>();
        while (true)
        {
            var answer = await ask(history, cancellationToken);
            attempts.Add(answer);
            var result = check(answer.Reply);
            if (result.IsValid || attempts.Count > maxReasks)
            {
                return new CheckedReply<T>(result.IsValid ? result.Value : default, result, attempts);
            }

            showProblems(history, answer.Reply, result);
        }
    }

    /// The reply as the model's turn, then a user turn that says what was wrong with it.
    public static void ShowProblemsAsUserMessage<T>(ChatHistory history, ModelReply reply, ReplyCheck<T> check)
    {
        history.AddAssistantMessage(TextOf(reply));
        history.AddUserMessage(
            "Your reply could not be used: " + string.Join("; ", check.Problems) + ". Reply again, correcting this, in the required format only.");
    }

    /// A check that the reply's text is one JSON object valid against the schema. A Markdown code
    /// fence around the JSON is tolerated: models add one even when asked not to.
    public static Func<ModelReply, ReplyCheck<JsonElement>> JsonMatching(JsonSchema schema) =>
        reply => CheckJson(TextOf(reply), schema);

    public static ReplyCheck<JsonElement> CheckJson(string text, JsonSchema schema)
    {
        var json = StripCodeFence(text.Trim());
        if (json.Length == 0)
        {
            return ReplyCheck.Invalid<JsonElement>(["the reply is empty; a JSON object was expected"]);
        }

        JsonElement value;
        try
        {
            using var document = JsonDocument.Parse(json);
            value = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return ReplyCheck.Invalid<JsonElement>([$"the reply is not valid JSON ({e.Message})"]);
        }

        var problems = JsonSchemaCheck.Problems(schema, value, "reply");
        return problems.Count == 0 ? ReplyCheck.Valid(value) : ReplyCheck.Invalid(problems, value);
    }

    /// The text of a reply: its answer, or the thought that came with tool calls.
    public static string TextOf(ModelReply reply) => reply.FinalAnswer ?? reply.Thought ?? "";

    private static string StripCodeFence(string text)
    {
        if (!text.StartsWith("```", StringComparison.Ordinal) || !text.EndsWith("```", StringComparison.Ordinal) || text.Length < 6)
        {
            return text;
        }

        var firstLineEnd = text.IndexOf('\n', StringComparison.Ordinal);
        return firstLineEnd < 0 ? text : text[(firstLineEnd + 1)..^3].Trim();
    }
}
