using Agentry.Tools;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Tests.Llm;

[TestFixture]
public sealed class When_a_goal_merely_contains_a_city_name_inside_a_word
{
    [TestCase("Write me a poem about the climate")]
    [TestCase("Explain this phenomenon")]
    public async Task Should_not_ask_for_the_time(string goal)
    {
        var history = new ChatHistory();
        history.AddSystemMessage("Use the tools.");
        history.AddUserMessage(goal);

        var reply = await ToolOffer.OfflineReplyAsync(history, BuiltInTools.All);

        Assert.That(reply.ToolCalls.Select(c => $"{c.Tool} {c.Arguments.GetRawText()}"), Is.Empty);
        Assert.That(reply.FinalAnswer, Does.StartWith("The offline model could not match this goal"));
    }
}
