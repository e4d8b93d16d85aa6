using Agentry.Tools;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Llm;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Tests.Llm;

[TestFixture]
public sealed class When_the_offline_model_is_asked_through_semantic_kernel
{
    private const string Instructions = "You are a careful assistant. Use the tools.";

    private static Task<ChatMessageContent> AskAsync(ChatHistory history) => ToolOffer.AskOfflineAsync(history, BuiltInTools.All);

    private static Task<ChatMessageContent> AskAsync(string goal)
    {
        var history = new ChatHistory();
        history.AddSystemMessage(Instructions);
        history.AddUserMessage(goal);
        return AskAsync(history);
    }

    private static async Task<ModelReply> ReplyToAsync(string goal) => AgentChat.ReadReply(await AskAsync(goal));

    private static ToolCall SingleCall(ModelReply reply)
    {
        Assert.That(reply.FinalAnswer, Is.Null, "a reply with calls has no final answer");
        Assert.That(reply.ToolCalls, Has.Count.EqualTo(1));
        return reply.ToolCalls[0];
    }

    private static Dictionary<string, string?> ArgumentsOf(ToolCall call)
    {
        Assert.That(call.Arguments.ValueKind, Is.EqualTo(JsonValueKind.Object));
        return call.Arguments.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
    }

    private static ChatHistory AfterOneCall(string goal, ToolCall call, string toolResult) =>
        AgentChat.ToChatHistory(
        [
            new ContextMessage(ContextRole.System, Instructions),
            new ContextMessage(ContextRole.User, goal),
            new ContextMessage(ContextRole.Assistant, "The goal fits the calculator tool; calling it.", [call]),
            new ContextMessage(ContextRole.Tool, toolResult, CallId: call.CallId),
        ]);

    private static ToolCall CalculatorCall(string expression) =>
        new("call_1_1", "calculator", JsonSerializer.SerializeToElement(new { expression }));

    [Test]
    public async Task Should_call_the_calculator_with_the_expression_of_the_goal()
    {
        var reply = await ReplyToAsync("What is 17 * 23 + 4?");

        var call = SingleCall(reply);
        Assert.That(call.Tool, Is.EqualTo("calculator"));
        Assert.That(call.CallId, Is.EqualTo("call_1_1"));
        Assert.That(ArgumentsOf(call), Is.EqualTo(new Dictionary<string, string?> { ["expression"] = "17 * 23 + 4" }));
        Assert.That(reply.Thought, Does.StartWith("The goal fits the calculator tool"));
    }

    [Test]
    public async Task Should_turn_operator_words_into_symbols_for_the_calculator()
    {
        var call = SingleCall(await ReplyToAsync("what is 12 divided by 4 plus 1"));

        Assert.That(call.Tool, Is.EqualTo("calculator"));
        Assert.That(ArgumentsOf(call), Is.EqualTo(new Dictionary<string, string?> { ["expression"] = "12 / 4 + 1" }));
    }

    [Test]
    public async Task Should_fetch_the_url_of_the_goal()
    {
        var call = SingleCall(await ReplyToAsync("Fetch https://example.com/status please"));

        Assert.That(call.Tool, Is.EqualTo("http_get"));
        Assert.That(ArgumentsOf(call), Is.EqualTo(new Dictionary<string, string?> { ["url"] = "https://example.com/status" }));
    }

    [Test]
    public async Task Should_leave_trailing_punctuation_out_of_the_url()
    {
        var call = SingleCall(await ReplyToAsync("Can you fetch https://example.com/a/b?"));

        Assert.That(call.Tool, Is.EqualTo("http_get"));
        Assert.That(ArgumentsOf(call)["url"], Is.EqualTo("https://example.com/a/b"));
    }

    [Test]
    public async Task Should_ask_for_the_time_in_the_city_of_the_goal()
    {
        var call = SingleCall(await ReplyToAsync("What time is it in Tokyo?"));

        Assert.That(call.Tool, Is.EqualTo("current_time"));
        Assert.That(ArgumentsOf(call), Is.EqualTo(new Dictionary<string, string?> { ["timezone"] = "Asia/Tokyo" }));
    }

    [Test]
    public async Task Should_say_it_cannot_match_a_goal_no_tool_fits()
    {
        var reply = await ReplyToAsync("Write me a poem");

        Assert.That(reply.ToolCalls, Is.Empty);
        Assert.That(reply.Thought, Is.Null);
        Assert.That(reply.FinalAnswer, Does.StartWith("The offline model could not match this goal to the tools calculator, current_time, http_get"));
        Assert.That(reply.FinalAnswer, Does.Contain("Llm__Endpoint"));
    }

    [Test]
    public async Task Should_say_there_are_no_tools_when_the_kernel_offers_none()
    {
        var history = new ChatHistory();
        history.AddUserMessage("What is 2 + 2?");
        IChatCompletionService model = new OfflineChatModel();

        var reply = AgentChat.ReadReply(await model.GetChatMessageContentAsync(history, ToolOffer.Settings(), new Kernel()));

        Assert.That(reply.ToolCalls, Is.Empty);
        Assert.That(reply.FinalAnswer, Does.StartWith("The offline model could not match this goal to no tools"));
    }

    [Test]
    public async Task Should_answer_with_the_tool_output_once_the_result_is_in()
    {
        var call = CalculatorCall("17 * 23 + 4");

        var reply = AgentChat.ReadReply(await AskAsync(AfterOneCall("What is 17 * 23 + 4?", call, "395")));

        Assert.That(reply.ToolCalls, Is.Empty);
        Assert.That(reply.FinalAnswer, Is.EqualTo("395"));
    }

    [Test]
    public async Task Should_say_it_could_not_complete_the_goal_when_the_tool_failed()
    {
        var call = CalculatorCall("1/0");
        var failure = new ToolOutcome(call.CallId, call.Tool, call.Arguments, "", ToolErrorKind.Failed,
            "Division by zero at position 3 in '1/0'.", TimeSpan.FromMilliseconds(3));

        var reply = AgentChat.ReadReply(await AskAsync(AfterOneCall("What is 1/0?", call, ToolOutcomeText.Format(failure))));

        Assert.That(reply.ToolCalls, Is.Empty);
        Assert.That(reply.FinalAnswer, Does.StartWith("I could not complete the goal"));
        Assert.That(reply.FinalAnswer, Is.EqualTo("I could not complete the goal: calculator failed (Failed: Division by zero at position 3 in '1/0'.)."));
    }

    [Test]
    public async Task Should_report_token_usage()
    {
        var reply = await AskAsync("What is 17 * 23 + 4?");

        var usage = AgentChat.ReadUsage(reply);

        Assert.That(usage.InputTokens, Is.GreaterThan(0));
        Assert.That(usage.OutputTokens, Is.GreaterThan(0));
        Assert.That(AgentChat.ReadReply(reply).Usage, Is.EqualTo(usage));
    }

    [Test]
    public async Task Should_count_more_input_tokens_for_a_longer_history()
    {
        var brief = AgentChat.ReadUsage(await AskAsync("What is 1 + 1?"));
        var verbose = AgentChat.ReadUsage(await AskAsync("What is 1 + 1? " + new string('x', 400)));

        Assert.That(verbose.InputTokens, Is.GreaterThan(brief.InputTokens));
    }

    [TestCase("What is 17 * 23 + 4?")]
    [TestCase("Fetch https://example.com/status please")]
    [TestCase("Write me a poem")]
    public async Task Should_give_the_same_reply_to_the_same_input(string goal)
    {
        var first = await ReplyToAsync(goal);
        var second = await ReplyToAsync(goal);

        Assert.Multiple(() =>
        {
            Assert.That(second.Thought, Is.EqualTo(first.Thought));
            Assert.That(second.FinalAnswer, Is.EqualTo(first.FinalAnswer));
            Assert.That(second.Usage, Is.EqualTo(first.Usage));
            Assert.That(second.ToolCalls.Select(c => (c.CallId, c.Tool, c.Arguments.GetRawText())),
                Is.EqualTo(first.ToolCalls.Select(c => (c.CallId, c.Tool, c.Arguments.GetRawText()))));
        });
    }

    [Test]
    public async Task Should_stream_the_same_reply_as_a_single_chunk()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Write me a poem");
        var model = new OfflineChatModel();

        var chunks = new List<StreamingChatMessageContent>();
        await foreach (var chunk in model.GetStreamingChatMessageContentsAsync(history, ToolOffer.Settings(), ToolOffer.KernelWith(BuiltInTools.All)))
        {
            chunks.Add(chunk);
        }

        Assert.That(chunks, Has.Count.EqualTo(1));
        Assert.That(chunks[0].Content, Does.StartWith("The offline model could not match this goal"));
        Assert.That(chunks[0].ModelId, Is.EqualTo(OfflineChatModel.ModelName));
    }
}

[TestFixture]
public sealed class When_the_offline_model_looks_for_arithmetic
{
    [TestCase("What is 17 * 23 + 4?", "17 * 23 + 4")]
    [TestCase("what is 12 divided by 4 plus 1", "12 / 4 + 1")]
    [TestCase("What is (2 + 3) * 4?", "(2 + 3) * 4")]
    [TestCase("6 times 7", "6 * 7")]
    [TestCase("9 multiplied by 3 minus 2", "9 * 3 - 2")]
    [TestCase("2 to the power of 10", "2 ^ 10")]
    [TestCase("17 mod 5", "17 % 5")]
    [TestCase("17 modulo 5", "17 % 5")]
    [TestCase("3x4", "3 * 4")]
    [TestCase("12 X 3", "12 * 3")]
    [TestCase("What's 1.5 + 2.25 today?", "1.5 + 2.25")]
    [TestCase("Compute 10 ÷ 4 and then 2 × 3 + 1", "2 × 3 + 1")]
    [TestCase("Is 2 + 2 bigger than 100 * 100 - 1?", "100 * 100 - 1")]
    public void Should_find_the_longest_arithmetic_in_the_text(string goal, string expected)
    {
        Assert.That(OfflineChatModel.ArithmeticIn(goal), Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("Write me a poem")]
    [TestCase("I have 3 apples")]
    [TestCase("Call me at 5")]
    [TestCase("What is + and - for?")]
    public void Should_find_none_where_there_is_no_arithmetic(string goal)
    {
        Assert.That(OfflineChatModel.ArithmeticIn(goal), Is.Null);
    }
}
