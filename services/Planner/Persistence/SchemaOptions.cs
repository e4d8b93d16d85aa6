namespace Agentry.Planner.Persistence;

/// Which schema version of run state this process writes (docs/durability.md). A release that adds
/// a version reads it but still writes the one before; a later release moves the default, once
/// every process of the deployment reads the new version.
public sealed class SchemaOptions
{
    public const string Section = "Agentry:Schema";

    public int Write { get; set; } = 1;
}
