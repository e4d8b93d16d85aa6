using System.ComponentModel.DataAnnotations;

namespace Agentry.Agents;

/// How large a goal may be (configuration section Goals). A larger one is refused at once by the
/// saga, with a reason that names the field and the limit, and no other stage works on it: a goal
/// of megabytes would otherwise sit in context assembly until its deadline.
public sealed class GoalBounds
{
    public const string Section = "Goals";

    public static GoalBounds Default { get; } = new();

    [Range(1, 10_000_000)]
    public int MaxGoalCharacters { get; set; } = 32_768;

    /// The input's JSON text, in UTF-8 bytes.
    [Range(0, 100_000_000)]
    public int MaxInputBytes { get; set; } = 256 * 1024;

    /// How deeply objects and arrays may nest in the input.
    [Range(1, 1000)]
    public int MaxInputDepth { get; set; } = 32;
}
