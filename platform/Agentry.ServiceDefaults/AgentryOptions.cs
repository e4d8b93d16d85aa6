using System.ComponentModel.DataAnnotations;

namespace Agentry.ServiceDefaults;

public sealed class AgentsOptions
{
    public const string Section = "Agents";

    /// The folder of agent definitions (agents/*.yaml).
    [Required]
    public string Path { get; set; } = "agents";
}
