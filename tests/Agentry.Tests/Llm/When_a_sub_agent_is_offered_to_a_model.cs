using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents.Tools;
using Microsoft.SemanticKernel;

namespace Agentry.Tests.Llm;

/// `agent:NAME` reaches a model as the function `agent__NAME` (no ':' in function names) and its
/// calls come back under the tool's own name; the offline model gives a goal that lists tasks one
/// call per task.
public sealed class When_a_sub_agent_is_offered_to_a_model
{
    [Test]
    public void Should_name_the_function_reversibly()
    {
        var function = ToolFunctions.CreateFunction(SubAgentTools.Descriptor("customer-support", "Answers customers."));

        Assert.That(function.Name, Is.EqualTo("agent__customer_support"));
        Assert.That(function.Description, Does.Contain("customer-support").And.Contain("Answers customers."));
        Assert.That(function.Metadata.Parameters.Single().Name, Is.EqualTo("goal"));
        Assert.That(SubAgentTools.ToolOfFunction(function.Name), Is.EqualTo("agent:customer-support"));
        Assert.That(SubAgentTools.ToolOfFunction("calculator"), Is.EqualTo("calculator"));
    }

    [Test]
    public async Task Should_call_a_sub_agent_once_per_listed_task_in_one_reply_and_show_its_calls_back_under_the_tool_name()
    {
        var history = AgentChat.ToChatHistory([new ContextMessage(ContextRole.System, "Delegate."), new ContextMessage(ContextRole.User, "- Calculate 2 + 3\n- Tell the time in Tokyo")]);

        var reply = await ToolOffer.OfflineReplyAsync(history, [SubAgentTools.Descriptor("assistant", "A general assistant that calculates exactly and tells the time.")]);

        Assert.That(reply.ToolCalls.Select(c => (c.CallId, c.Tool, c.Arguments.GetProperty("goal").GetString())), Is.EqualTo(new[]
        {
            ("call_1_1", "agent:assistant", "Calculate 2 + 3"), ("call_1_2", "agent:assistant", "Tell the time in Tokyo"),
        }));
        var replayed = AgentChat.ToChatHistory([new ContextMessage(ContextRole.Assistant, "", reply.ToolCalls)]);
        Assert.That(replayed.Single().Items.OfType<FunctionCallContent>().Select(c => c.FunctionName), Has.All.EqualTo("agent__assistant"));
    }
}
