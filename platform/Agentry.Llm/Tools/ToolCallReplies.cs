using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Llm;

/// Checks the tool calls a model proposed against the tools' argument schemas, before the step is
/// proposed, and shows the model its mistakes the way a tool would: as an error result of the call.
/// A call to a tool that is not in the catalog is left to the ToolExecutor, which answers it with
/// UnknownTool like any other outcome.
public sealed class ToolCallReplies(ToolArgumentsValidator validator)
{
    public ReplyCheck<ModelReply> Check(ModelReply reply)
    {
        var problems = reply.ToolCalls
            .Select(call => (call, Problems: Problems(call)))
            .Where(c => c.Problems.Count > 0)
            .Select(c => $"{c.call.Tool}: {string.Join("; ", c.Problems)}")
            .ToList();
        return problems.Count == 0 ? ReplyCheck.Valid(reply) : ReplyCheck.Invalid(problems, reply);
    }

    /// The model's turn, then one tool result per call, as the chat protocol requires: the error for
    /// each invalid call, and for a valid call of the same reply that it was not run.
    public void ShowProblems(ChatHistory history, ModelReply reply, ReplyCheck<ModelReply> check)
    {
        List<ContextMessage> turns = [new(ContextRole.Assistant, reply.Thought ?? "", reply.ToolCalls)];
        foreach (var call in reply.ToolCalls)
        {
            var problems = Problems(call);
            var error = problems.Count > 0
                ? $"Invalid arguments for {call.Tool}: {string.Join("; ", problems)}. The call was not run: call it again with arguments that match its schema."
                : "Not run, because another call of the same reply had invalid arguments: propose it again with the corrected calls.";
            var outcome = new ToolOutcome(call.CallId, call.Tool, call.Arguments, "", ToolErrorKind.InvalidArguments, error, TimeSpan.Zero);
            turns.Add(new ContextMessage(ContextRole.Tool, ToolOutcomeText.Format(outcome), CallId: call.CallId));
        }

        history.AddRange(AgentChat.ToChatHistory(turns));
    }

    private IReadOnlyList<string> Problems(ToolCall call) =>
        validator.Knows(call.Tool) ? validator.Validate(call.Tool, call.Arguments) : [];
}
