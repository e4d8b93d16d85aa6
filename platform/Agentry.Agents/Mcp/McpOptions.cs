using System.Text.RegularExpressions;

using Agentry.Agents.Tools;

namespace Agentry.Agents.Mcp;

/// The Model Context Protocol servers whose tools agents may use (Tools:Mcp:Servers:NAME). Every
/// process of a deployment reads the same settings and lists the same tools (see McpTools).
public sealed partial class McpOptions
{
    public const string Section = "Tools:Mcp";

    public Dictionary<string, McpServerOptions> Servers { get; set; } = new(StringComparer.Ordinal);

    /// How long listing one server's tools at start may take before the server counts as down.
    public TimeSpan ListTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// A server's name becomes part of its tools' names (mcp_NAME_TOOL), which models accept only
    /// as letters, digits and underscores; an underscore in NAME would make the split ambiguous.
    [GeneratedRegex("^[A-Za-z0-9]{1,20}$")]
    public static partial Regex ServerName();
}

/// One server: either a program started with stdio (Command, Args, Env, WorkingDirectory), or an
/// HTTP endpoint (Url, streamable HTTP or SSE) with headers whose values come from environment
/// variables, so that tokens stay out of configuration files.
public sealed class McpServerOptions
{
    public string? Command { get; set; }

    public List<string> Args { get; set; } = [];

    public Dictionary<string, string> Env { get; set; } = new(StringComparer.Ordinal);

    /// Whether the program gets this process's whole environment (connection strings, API keys). By
    /// default it gets only what programs need to start (PATH, HOME and the like) plus Env.
    public bool InheritEnvironment { get; set; }

    public string? WorkingDirectory { get; set; }

    public Uri? Url { get; set; }

    /// Header name to the name of the environment variable holding its value (Authorization: GITHUB_MCP_AUTH).
    public Dictionary<string, string> HeadersFromEnvironment { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// Describes what is wrong with this server's settings, or null when they are usable.
    public string? Problem(string name)
    {
        var where = $"{McpOptions.Section}:Servers:{name}";
        if (!McpOptions.ServerName().IsMatch(name))
        {
            return $"{where}: the server name '{name}' must be 1 to 20 letters or digits, because it becomes part of its tools' names (mcp_{name}_TOOL).";
        }

        if (string.IsNullOrWhiteSpace(Command) == (Url is null))
        {
            return $"{where}: set either Command (a server started over stdio) or Url (a server reached over HTTP), not {(Url is null ? "neither" : "both")}.";
        }

        if (Url is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
        {
            return $"{where}:Url must be an absolute http or https address, not '{url}'.";
        }

        var unset = HeadersFromEnvironment.Where(h => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(h.Value))).Select(h => $"{h.Key} (from {h.Value})").ToList();
        return unset.Count > 0
            ? $"{where}:HeadersFromEnvironment names environment variables that are not set: {string.Join(", ", unset)}."
            : null;
    }
}
