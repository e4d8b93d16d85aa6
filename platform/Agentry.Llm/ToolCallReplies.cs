using Agentry.Contracts;
using Agentry.ServiceDefaults.Tools;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Llm;

/// Checks the tool calls a model proposed against the tools' argument schemas, before the step is
/// proposed, and shows the model its mistakes the way a tool would: as an error result of the call.
/// A call to a tool that is not in the catalog is left to the ToolExecutor, which answers it with
/// UnknownTool like any other outcome.
public sealed class ToolCallReplies(ToolArgumentsValidator validator)
{
    public ReplyCheck<ModelReply> Check(ChatMessageContent content)
    {
        var reply = AgentChat.ReadReply(content);
        var problems = reply.ToolCalls
            .Select(call => (call, Problems: Problems(call)))
            .Where(c => c.Problems.Count > 0)
            .Select(c => $"{c.call.Tool}: {string.Join("; ", c.Problems)}")
            .ToList();
        return problems.Count == 0 ? ReplyCheck.Valid(reply) : new ReplyCheck<ModelReply>(reply, problems);
    }

    /// The model's turn, then one tool result per call, as the chat protocol requires: the error for
    /// each invalid call, and for a valid call of the same reply that it was not run.
    public void ShowProblems(ChatHistory history, ChatMessageContent content, ReplyCheck<ModelReply> check)
    {
        history.Add(content);
        // In the order ReadReply numbered them, so the index pairs each call with its reading.
        foreach (var (call, index) in FunctionCallContent.GetFunctionCalls(content).Select((c, i) => (c, i)))
        {
            var proposed = check.Value?.ToolCalls.ElementAtOrDefault(index);
            var problems = proposed is null ? [] : Problems(proposed);
            var text = problems.Count > 0
                ? ToolOutcomeText.Format(new ToolOutcome(call.Id ?? "", call.FunctionName, default, "", ToolErrorKind.InvalidArguments,
                    $"Invalid arguments for {call.FunctionName}: {string.Join("; ", problems)}. The call was not run: call it again with arguments that match its schema.", TimeSpan.Zero))
                : ToolOutcomeText.Format(new ToolOutcome(call.Id ?? "", call.FunctionName, default, "", ToolErrorKind.InvalidArguments,
                    "Not run, because another call of the same reply had invalid arguments: propose it again with the corrected calls.", TimeSpan.Zero));
            history.Add(new ChatMessageContent(AuthorRole.Tool, [new FunctionResultContent(call.FunctionName, call.PluginName, call.Id, text)]));
        }
    }

    private IReadOnlyList<string> Problems(ToolCall call) =>
        validator.Knows(call.Tool) ? validator.Validate(call.Tool, call.Arguments) : [];
}
