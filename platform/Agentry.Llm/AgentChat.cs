using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using ChatCompletion = OpenAI.Chat.ChatCompletion;
using ChatMessageContent = Microsoft.SemanticKernel.ChatMessageContent;
using ChatTokenUsage = OpenAI.Chat.ChatTokenUsage;

namespace Agentry.Llm;

/// What one planning call produced: tool calls (with an optional thought) or a final answer.
public sealed record ModelReply(string? Thought, IReadOnlyList<ToolCall> ToolCalls, string? FinalAnswer, TokenUsage Usage);

/// Translates between the runtime's messages and Semantic Kernel's chat types.
public static class AgentChat
{
    public const string UsageMetadataKey = "Usage";

    public static ChatHistory ToChatHistory(IEnumerable<ContextMessage> messages)
    {
        var history = new ChatHistory();
        foreach (var message in messages)
        {
            switch (message.Role)
            {
                case ContextRole.System:
                    history.AddSystemMessage(message.Content);
                    break;
                case ContextRole.User:
                    history.AddUserMessage(message.Content);
                    break;
                case ContextRole.Assistant:
                    var items = new ChatMessageContentItemCollection();
                    if (!string.IsNullOrEmpty(message.Content))
                    {
                        items.Add(new TextContent(message.Content));
                    }

                    foreach (var call in message.ToolCalls ?? [])
                    {
                        items.Add(new FunctionCallContent(SubAgentTools.FunctionName(call.Tool), ToolFunctions.PluginName, call.CallId, ToKernelArguments(call.Arguments)));
                    }

                    history.Add(new ChatMessageContent(AuthorRole.Assistant, items));
                    break;
                case ContextRole.Tool:
                    var tool = FindToolName(history, message.CallId);
                    history.Add(new ChatMessageContent(AuthorRole.Tool, [new FunctionResultContent(tool, ToolFunctions.PluginName, message.CallId, message.Content)]));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(messages), message.Role, "Unknown context role.");
            }
        }

        return history;
    }

    public static ModelReply ReadReply(ChatMessageContent reply)
    {
        var calls = FunctionCallContent.GetFunctionCalls(reply)
            .Select((call, index) => new ToolCall(
                string.IsNullOrEmpty(call.Id) ? $"call_{index + 1}" : call.Id,
                SubAgentTools.ToolOfFunction(call.FunctionName),
                RawArguments(reply, call)))
            .ToList();
        var text = string.Concat(reply.Items.OfType<TextContent>().Select(t => t.Text)).Trim();
        var usage = ReadUsage(reply);
        return calls.Count > 0
            ? new ModelReply(text.Length > 0 ? text : null, calls, null, usage)
            : new ModelReply(null, [], text, usage);
    }

    public static TokenUsage ReadUsage(ChatMessageContent reply) =>
        reply.Metadata?.GetValueOrDefault(UsageMetadataKey) switch
        {
            TokenUsage usage => usage,
            ChatTokenUsage openAi => new TokenUsage(openAi.InputTokenCount, openAi.OutputTokenCount),
            _ => TokenUsage.None,
        };

    // Semantic Kernel turns every argument value into a string; the provider's raw JSON keeps
    // numbers, booleans and nested objects as the model wrote them.
    private static JsonElement RawArguments(ChatMessageContent reply, FunctionCallContent call)
    {
        if (reply.InnerContent is ChatCompletion completion
            && completion.ToolCalls.FirstOrDefault(t => t.Id == call.Id) is { } raw)
        {
            try
            {
                using var document = JsonDocument.Parse(raw.FunctionArguments);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                // Malformed arguments go on as a string, for the ToolExecutor to refuse with a reason.
                return JsonSerializer.SerializeToElement(raw.FunctionArguments.ToString());
            }
        }

        return JsonSerializer.SerializeToElement(call.Arguments?.ToDictionary(a => a.Key, a => a.Value) ?? []);
    }

    private static KernelArguments ToKernelArguments(JsonElement arguments)
    {
        var kernelArguments = new KernelArguments();
        if (arguments.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in arguments.EnumerateObject())
            {
                kernelArguments[property.Name] = property.Value.Clone();
            }
        }

        return kernelArguments;
    }

    private static string? FindToolName(ChatHistory history, string? callId) =>
        history.SelectMany(m => m.Items.OfType<FunctionCallContent>()).LastOrDefault(c => c.Id == callId)?.FunctionName;
}
