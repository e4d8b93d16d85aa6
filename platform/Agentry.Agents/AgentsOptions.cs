using System.ComponentModel.DataAnnotations;

namespace Agentry.Agents;

public sealed class AgentsOptions
{
    public const string Section = "Agents";

    /// The folder of agent definitions (agents/*.yaml).
    [Required]
    public string Path { get; set; } = "agents";

    /// How long the definition store keeps a definition that runs pinned, from the latest run that
    /// pinned it (or moved to it). Longer than any run lives, escalations waiting for a person included.
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan PinnedDefinitionRetention { get; set; } = TimeSpan.FromDays(30);

    /// Where in Redis the pinned definitions are kept, the hash after it. Deployments sharing a Redis
    /// may share it too (a hash names one content); tests give theirs a prefix of their own to clean up.
    [Required]
    public string PinnedDefinitionKeyPrefix { get; set; } = "agentry:agent-definition:";

    /// A relative path is looked for in the working folder and then in each folder above it,
    /// as git looks for .git, so commands work from anywhere inside a checkout.
    public string ResolvePath()
    {
        if (System.IO.Path.IsPathRooted(Path))
        {
            return Path;
        }

        for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = System.IO.Path.Combine(folder.FullName, Path);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return System.IO.Path.GetFullPath(Path);
    }
}
