namespace Agentry.Contracts;

/// <summary>
/// The schema version of every message type, kept in one place. Every message an Agentry process sends
/// or publishes carries its type's version in the <see cref="Header"/> header, and a consumer refuses a
/// version it does not read. A message without the header (a raw publish by an upstream system) is read
/// as the current version. Every type is at <see cref="Initial"/> until a change that is not additive
/// moves it (docs/durability.md, "Versions of run state and messages").
/// </summary>
public static class ContractVersions
{
    /// <summary>The transport header that carries a message's schema version.</summary>
    public const string Header = "Agentry-Schema-Version";

    /// <summary>The version of a message type no change has moved yet.</summary>
    public const int Initial = 1;

    /// <summary>The prefix of a contract's MassTransit message type, as in MT-MessageType.</summary>
    public const string UrnPrefix = "urn:message:Agentry.Contracts:";

    // Message types above version 1, by name; none yet. A type moves here with an upgrade of its
    // older bodies (ServiceDefaults' ContractVersionCheck) and a fixture of the new version.
    private static readonly Dictionary<string, int> Moved = new(StringComparer.Ordinal);

    /// <summary>Whether the type is one of the contracts (namespace Agentry.Contracts), which carry a version.</summary>
    public static bool IsContract(Type messageType) => messageType.Namespace == typeof(ContractVersions).Namespace;

    /// <summary>The version this build writes and reads of a contract, by its type name.</summary>
    public static int Of(string messageName) => Moved.TryGetValue(messageName, out var version) ? version : Initial;

    /// <summary>The version this build writes and reads of a contract.</summary>
    public static int Of(Type messageType) => Of(messageType.Name);
}
