using System.ComponentModel;
using ModelContextProtocol.Server;

namespace Agentry.McpTestServer;

/// The tools the tests' MCP servers offer, over stdio (this program) and over HTTP (hosted in the tests).
[McpServerToolType]
public static class TestTools
{
    [McpServerTool(Name = "echo", ReadOnly = true), Description("Returns the text it is given, prefixed with 'echo: '.")]
    public static string Echo([Description("The text to return.")] string text) => $"echo: {text}";

    [McpServerTool(Name = "read_env", ReadOnly = true), Description("Returns the value of an environment variable of the server's process.")]
    public static string ReadEnv([Description("The variable's name.")] string name) => Environment.GetEnvironmentVariable(name) ?? "(not set)";

    [McpServerTool(Name = "fail"), Description("Always fails, with the reason it is given.")]
    public static string Fail([Description("Why it fails.")] string reason) => throw new InvalidOperationException(reason);

    [McpServerTool(Name = "sleep", ReadOnly = true), Description("Waits for the given number of milliseconds, then says so.")]
    public static async Task<string> Sleep([Description("How long to wait.")] int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return $"slept {milliseconds} ms";
    }
}
