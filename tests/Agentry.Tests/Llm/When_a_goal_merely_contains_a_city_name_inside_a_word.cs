using Agentry.Tools;
using Agentry.Llm;
using Agentry.Agents.Tools;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Tests.Llm;

[TestFixture]
public sealed class When_a_goal_merely_contains_a_city_name_inside_a_word
{
    [TestCase("Write me a poem about the climate")]
    [TestCase("Explain this phenomenon")]
    public async Task Should_not_ask_for_the_time(string goal)
    {
        var kernel = new Kernel();
        kernel.Plugins.Add(ToolFunctions.CreatePlugin(BuiltInTools.All));
        var history = new ChatHistory();
        history.AddSystemMessage("Use the tools.");
        history.AddUserMessage(goal);
        IChatCompletionService model = new OfflineChatModel();

        var reply = AgentChat.ReadReply(await model.GetChatMessageContentAsync(history,
            new OpenAIPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(autoInvoke: false) }, kernel));

        Assert.That(reply.ToolCalls.Select(c => $"{c.Tool} {c.Arguments.GetRawText()}"), Is.Empty);
        Assert.That(reply.FinalAnswer, Does.StartWith("The offline model could not match this goal"));
    }
}
