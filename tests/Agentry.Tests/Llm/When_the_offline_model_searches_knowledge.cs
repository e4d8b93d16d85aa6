using Agentry.Tools;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents.Tools;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Tests.Llm;

/// The offline model with search_knowledge offered: a question goes to the knowledge base first, and
/// the answer quotes the best passage with its citation.
public sealed class When_the_offline_model_searches_knowledge
{
    private static Task<ModelReply> AskAsync(ChatHistory history, params ToolDescriptor[] tools) => ToolOffer.OfflineReplyAsync(history, tools);

    private static ChatHistory Goal(string goal) => AgentChat.ToChatHistory([new ContextMessage(ContextRole.System, "Answer."), new ContextMessage(ContextRole.User, goal)]);

    [Test]
    public async Task Should_search_the_knowledge_base_with_the_question()
    {
        var reply = await AskAsync(Goal("How many vacation days do I get?"), SearchKnowledgeTool.Descriptor, CalculatorTool.Descriptor);

        Assert.That(reply.ToolCalls.Single().Tool, Is.EqualTo("search_knowledge"));
        Assert.That(reply.ToolCalls.Single().Arguments.GetRawText(), Is.EqualTo("""{"query":"How many vacation days do I get?"}"""));
    }

    [TestCase("What is 17 * 23 + 4?", "calculator")]
    [TestCase("Fetch https://example.com/status please", "http_get")]
    public async Task Should_still_use_the_tool_that_takes_something_specific_from_the_goal(string goal, string tool)
    {
        var reply = await AskAsync(Goal(goal), [.. BuiltInTools.All]);

        Assert.That(reply.ToolCalls.Single().Tool, Is.EqualTo(tool));
    }

    [Test]
    public async Task Should_not_search_for_a_goal_that_is_not_a_question()
    {
        var reply = await AskAsync(Goal("Write me a poem"), SearchKnowledgeTool.Descriptor);

        Assert.That(reply.ToolCalls, Is.Empty);
        Assert.That(reply.FinalAnswer, Does.StartWith("The offline model could not match this goal"));
    }

    [Test]
    public async Task Should_quote_the_most_relevant_sentence_of_the_best_passage_with_its_citation()
    {
        var call = new ToolCall("call_1_1", "search_knowledge", JsonSerializer.SerializeToElement(new { query = "How many vacation days do I get?" }));
        const string found = "2 passages for \"How many vacation days do I get?\", best first. Cite them as shown in brackets.\n\n"
            + "[leave.md, passage 1]\n# Paid vacation\n\nThis page covers time off. Every employee gets 27 days of paid vacation per year. Ask HR.\n\n"
            + "[travel.md, passage 2]\nThe hotel budget is 160 euros per night.";
        var history = AgentChat.ToChatHistory(
        [
            new ContextMessage(ContextRole.System, "Answer."),
            new ContextMessage(ContextRole.User, "How many vacation days do I get?"),
            new ContextMessage(ContextRole.Assistant, "Searching.", [call]),
            new ContextMessage(ContextRole.Tool, ToolOutcomeText.Wrap(found), CallId: call.CallId),
        ]);

        var reply = await AskAsync(history, SearchKnowledgeTool.Descriptor);

        Assert.That(reply.FinalAnswer, Is.EqualTo(
            "\"Every employee gets 27 days of paid vacation per year.\" [leave.md, passage 1]\n"
            + "(Quoted by the offline model from the best passage of the knowledge base; it does not compose answers.)"));
    }

    [Test]
    public async Task Should_say_so_when_the_knowledge_base_has_nothing()
    {
        var call = new ToolCall("call_1_1", "search_knowledge", JsonSerializer.SerializeToElement(new { query = "Who won in 1966?" }));
        var history = AgentChat.ToChatHistory(
        [
            new ContextMessage(ContextRole.User, "Who won in 1966?"),
            new ContextMessage(ContextRole.Assistant, "Searching.", [call]),
            new ContextMessage(ContextRole.Tool, ToolOutcomeText.Wrap("No passage of the knowledge base matches \"Who won in 1966?\"."), CallId: call.CallId),
        ]);

        var reply = await AskAsync(history, SearchKnowledgeTool.Descriptor);

        Assert.That(reply.FinalAnswer, Does.StartWith("The knowledge base has no passage about this"));
    }
}
