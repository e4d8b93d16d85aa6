using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Llm;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Tests.Llm;

/// Tools offered to a chat model the way the Planner offers them: as kernel functions the model may
/// choose to call, without Semantic Kernel invoking them (Agentry runs each call itself, as a step).
public static class ToolOffer
{
    public static Kernel KernelWith(IEnumerable<ToolDescriptor> tools)
    {
        var kernel = new Kernel();
        kernel.Plugins.Add(ToolFunctions.CreatePlugin(tools));
        return kernel;
    }

    /// A new instance per call: settings are mutable, and no test should see another's.
    public static OpenAIPromptExecutionSettings Settings(double? temperature = null) => new()
    {
        Temperature = temperature,
        FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(autoInvoke: false),
    };

    /// The offline model's answer to the history with the tools offered, as Semantic Kernel returns it.
    public static Task<ChatMessageContent> AskOfflineAsync(ChatHistory history, IEnumerable<ToolDescriptor> tools)
    {
        IChatCompletionService model = new OfflineChatModel();
        return model.GetChatMessageContentAsync(history, Settings(), KernelWith(tools));
    }

    /// The offline model's answer to the history with the tools offered, read as the Planner reads it.
    public static async Task<ModelReply> OfflineReplyAsync(ChatHistory history, IEnumerable<ToolDescriptor> tools) =>
        AgentChat.ReadReply(await AskOfflineAsync(history, tools));
}
