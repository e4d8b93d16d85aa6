using System.Text.Json;
using Agentry.Agents.Tools;
using Microsoft.SemanticKernel;

namespace Agentry.Llm;

/// Offers tools to a model as Semantic Kernel functions. They are descriptions only: auto-invocation
/// is off, the model proposes calls and the ToolExecutor runs them.
public static class ToolFunctions
{
    public const string PluginName = "tools";

    public static KernelPlugin CreatePlugin(IEnumerable<ToolDescriptor> tools) =>
        KernelPluginFactory.CreateFromFunctions(PluginName, tools.Select(CreateFunction));

    public static KernelFunction CreateFunction(ToolDescriptor tool)
    {
        using var schema = JsonDocument.Parse(tool.ArgumentsSchema);
        var required = schema.RootElement.TryGetProperty("required", out var r)
            ? r.EnumerateArray().Select(e => e.GetString()).ToHashSet()
            : [];
        var parameters = new List<KernelParameterMetadata>();
        if (schema.RootElement.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                parameters.Add(new KernelParameterMetadata(property.Name)
                {
                    Description = property.Value.TryGetProperty("description", out var d) ? d.GetString() : null,
                    IsRequired = required.Contains(property.Name),
                    Schema = KernelJsonSchema.Parse(property.Value.GetRawText()),
                });
            }
        }

        return KernelFunctionFactory.CreateFromMethod(
            new Func<string>(() => throw new InvalidOperationException($"Tool '{tool.Name}' runs in the ToolExecutor; the Planner never invokes it.")),
            new KernelFunctionFromMethodOptions
            {
                FunctionName = SubAgentTools.FunctionName(tool.Name),
                Description = tool.Description,
                Parameters = parameters,
                ReturnParameter = new KernelReturnParameterMetadata { Description = "The tool's output." },
            });
    }
}
