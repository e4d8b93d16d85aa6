using Agentry.Llm;

namespace Agentry.Tests.Llm;

/// The offline model cannot tell a durable fact about a user from anything else: asked, it learns nothing.
public sealed class When_the_offline_model_is_asked_what_a_run_taught
{
    [Test]
    public async Task Should_answer_an_empty_list_in_the_format_asked_for()
    {
        var history = MemoryExtractionPrompt.History("User's goal: I live in Lyon and prefer metric units; what is 20 km in miles?");

        var reply = AgentChat.ReadReply((await new OfflineChatModel().GetChatMessageContentsAsync(history)).Single());
        var check = MemoryExtractionPrompt.Check(reply);

        Assert.That(check.IsValid, Is.True, string.Join("; ", check.Problems));
        Assert.That(check.Value, Is.Empty);
    }
}
