using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agentry.Contracts;
using Agentry.Planner.StateMachines;
using MassTransit.Serialization;

namespace Agentry.Tests.ContractSchemas;

/// Recorded messages and run states (Fixtures/, one file per shape and schema version) must keep
/// reading with every later build: a contract or the run state that changes shape needs a fixture of
/// its new shape, and the old fixtures must still read (through the upgrades, for an older version).
/// Record what is missing with:
///   AGENTRY_UPDATE_FIXTURES=1 dotnet test tests/Agentry.Tests -c Release --no-build --filter When_recorded_versions_are_read
/// which adds files and never rewrites one. Commit the new files with the change.
public sealed partial class When_recorded_versions_are_read
{
    private const string Record = "record it with AGENTRY_UPDATE_FIXTURES=1 dotnet test tests/Agentry.Tests -c Release --no-build --filter When_recorded_versions_are_read, and commit the new file";

    private static readonly string Folder = Path.Combine(Path.GetDirectoryName(TestAgents.RepositoryAgentsFolder())!, "tests", "Agentry.Tests", "Contracts", "Fixtures");
    private static readonly string MessageFolder = Path.Combine(Folder, "Messages");
    private static readonly string RunStateFolder = Path.Combine(Folder, "RunState");
    private static readonly JsonSerializerOptions MessageJson = SystemTextJsonMessageSerializer.Options;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static bool Recording => Environment.GetEnvironmentVariable("AGENTRY_UPDATE_FIXTURES") == "1";

    /// `GoalReceived.v1.json`, `GoalReceived.v1.2.json` (a second shape of version 1, after an additive change).
    [GeneratedRegex(@"^(?<name>[A-Za-z0-9-]+)\.v(?<version>\d+)(\.(?<shape>\d+))?\.json$")]
    private static partial Regex FixtureName();

    public sealed record Fixture(string Path, string Name, int Version, int Shape)
    {
        public override string ToString() => System.IO.Path.GetFileName(Path);
    }

    private static List<Fixture> Fixtures(string folder) =>
        [.. (Directory.Exists(folder) ? Directory.GetFiles(folder, "*.json") : [])
            .Select(path => (path, match: FixtureName().Match(System.IO.Path.GetFileName(path))))
            .Select(f => f.match.Success
                ? new Fixture(f.path, f.match.Groups["name"].Value, int.Parse(f.match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture), f.match.Groups["shape"].Success ? int.Parse(f.match.Groups["shape"].Value, System.Globalization.CultureInfo.InvariantCulture) : 1)
                : throw new InvalidOperationException($"{f.path} is not named <name>.v<version>[.<shape>].json"))
            .OrderBy(f => f.Name, StringComparer.Ordinal).ThenBy(f => f.Version).ThenBy(f => f.Shape)];

    private static void Write(string folder, string name, int version, JsonNode document, IEnumerable<Fixture> existing)
    {
        var shape = existing.Where(f => f.Name == name && f.Version == version).Select(f => f.Shape).DefaultIfEmpty(0).Max() + 1;
        Directory.CreateDirectory(folder);
        var file = shape == 1 ? $"{name}.v{version}.json" : $"{name}.v{version}.{shape}.json";
        File.WriteAllText(Path.Combine(folder, file), document.ToJsonString(Indented) + "\n");
        TestContext.Out.WriteLine($"Recorded {file}");
    }

    private static string Describe((List<string> Missing, List<string> Unknown) difference) =>
        string.Join("; ", new[]
        {
            difference.Missing.Count > 0 ? $"not in the fixture: {string.Join(", ", difference.Missing)}" : null,
            difference.Unknown.Count > 0 ? $"in the fixture but no longer in the type: {string.Join(", ", difference.Unknown)}" : null,
        }.Where(s => s is not null));

    // Messages ------------------------------------------------------------------------------------

    public static IEnumerable<Type> Messages() => When_message_schemas_are_checked.Messages();

    public static IEnumerable<TestCaseData> RecordedMessages() =>
        Fixtures(MessageFolder).Select(f => new TestCaseData(f).SetArgDisplayNames(f.ToString()));

    [TestCaseSource(nameof(Messages))]
    public void Should_hold_a_recorded_message_of_the_current_shape_and_version(Type message)
    {
        var version = ContractVersions.Of(message);
        var fixtures = Fixtures(MessageFolder).Where(f => f.Name == message.Name && f.Version == version).ToList();
        var differences = fixtures.Select(f => Shapes.Compare(message, JsonNode.Parse(File.ReadAllText(f.Path)), MessageJson)).ToList();
        if (Recording && !differences.Any(d => d.Missing.Count == 0 && d.Unknown.Count == 0))
        {
            Write(MessageFolder, message.Name, version, Shapes.Sample(message, MessageJson)!, fixtures);
            return;
        }

        Assert.That(fixtures, Is.Not.Empty, $"{message.Name} is version {version} (ContractVersions) but no message of that version is recorded: {Record}.");
        Assert.That(
            differences.Any(d => d.Missing.Count == 0 && d.Unknown.Count == 0),
            $"{message.Name} changed shape since its version {version} was recorded ({Describe(differences[^1])}). " +
            $"If the change only adds fields (an older reader ignores them, a newer one defaults them), keep version {version} and {Record} beside the old one, which must keep reading. " +
            $"A field removed, renamed or retyped is not additive: move {message.Name}'s version in ContractVersions, with an upgrade of the older body, then record the new version.");
    }

    [TestCaseSource(nameof(RecordedMessages))]
    public void Should_read_every_recorded_message(Fixture fixture)
    {
        var message = Messages().SingleOrDefault(t => t.Name == fixture.Name);
        Assert.That(message, Is.Not.Null, $"{fixture} records a message that is no longer a contract. A contract stays while any deployed build may send it.");
        Assert.That(fixture.Version, Is.EqualTo(ContractVersions.Of(message!)),
            $"{fixture} is not of {message!.Name}'s version ({ContractVersions.Of(message)}). An older version must read through an upgrade of its body (none exists yet: the first goes into ContractVersionCheck); a newer one is not this build's.");

        var read = JsonSerializer.Deserialize(File.ReadAllText(fixture.Path), message, MessageJson);

        Assert.That(read, Is.Not.Null);
        // Every field recorded is still a field: nothing a sender of this version wrote is silently dropped.
        Assert.That(Shapes.Compare(message, JsonNode.Parse(File.ReadAllText(fixture.Path)), MessageJson).Unknown, Is.Empty,
            $"{fixture} holds fields {message.Name} no longer has: a removal or rename is not additive; move its version (ContractVersions) with an upgrade.");
    }

    [Test]
    public void Should_give_every_contract_version_one()
    {
        Assert.That(Messages().Select(ContractVersions.Of), Has.All.GreaterThanOrEqualTo(ContractVersions.Initial));
    }

    // Run state ------------------------------------------------------------------------------------

    /// States of runs, as the saga holds them, recorded in every version this build writes.
    public static IReadOnlyDictionary<string, AgentRunState> RecordedRuns { get; } = new Dictionary<string, AgentRunState>
    {
        ["react-mid-step"] = RunStates.ReactMidStep(),
        ["plan-and-execute-awaiting-approval"] = RunStates.PlanAndExecuteAwaitingApproval(),
    };

    public static IEnumerable<TestCaseData> RecordedRunStates() =>
        Fixtures(RunStateFolder).Select(f => new TestCaseData(f).SetArgDisplayNames(f.ToString()));

    public static IEnumerable<int> WrittenVersions() => AgentRunStateVersions.Formats.Keys.Order();

    private static (List<string> Missing, List<string> Unknown) ShapeOf(Fixture fixture)
    {
        var document = JsonNode.Parse(File.ReadAllText(fixture.Path))!.AsObject();
        document.Remove(Agentry.Planner.Persistence.SagaSchema.VersionProperty);
        return Shapes.Compare(typeof(AgentRunState), document, AgentRunStateVersions.Version1);
    }

    /// Together, the newest recording of each run covers every field of AgentRunState (one run holds
    /// no approvals, the other no trigger origin) and holds none it no longer has.
    [TestCaseSource(nameof(WrittenVersions))]
    public void Should_hold_recorded_run_states_of_the_current_shape_in_every_version_it_writes(int version)
    {
        var fixtures = Fixtures(RunStateFolder).Where(f => f.Version == version).ToList();
        var newest = RecordedRuns.Keys
            .Select(run => fixtures.Where(f => f.Name == run).MaxBy(f => f.Shape))
            .ToList();
        var shapes = newest.OfType<Fixture>().Select(ShapeOf).ToList();
        var missing = shapes.Count == 0 ? ["every field"] : shapes.Skip(1).Aggregate((IEnumerable<string>)shapes[0].Missing, (all, shape) => all.Intersect(shape.Missing)).ToList();
        var unknown = shapes.SelectMany(shape => shape.Unknown).Distinct().ToList();
        var current = newest.All(f => f is not null) && missing.Count == 0 && unknown.Count == 0;
        if (Recording && !current)
        {
            foreach (var (run, state) in RecordedRuns)
            {
                Write(RunStateFolder, run, version, JsonNode.Parse(AgentRunStateVersions.Schema(version).Serialize(state))!, fixtures);
            }

            return;
        }

        Assert.That(newest, Has.All.Not.Null, $"This build writes run state version {version} but not every run of RunStates is recorded in it: {Record}.");
        Assert.That(
            current,
            $"AgentRunState changed shape since its version {version} was recorded ({Describe((missing, unknown))}). " +
            $"A field added: give it a value in RunStates (tests/Agentry.Tests/Contracts) and {Record} (one per run) beside the old ones, which must keep reading. " +
            "A field removed, renamed, retyped or stored differently: add a version to AgentRunStateVersions with the upgrade from the one before.");
    }

    [TestCaseSource(nameof(RecordedRunStates))]
    public void Should_read_every_recorded_run_state(Fixture fixture)
    {
        var schema = AgentRunStateVersions.Schema(AgentRunStateVersions.Formats.Keys.Min());
        var document = File.ReadAllBytes(fixture.Path);
        Assert.That(Agentry.Planner.Persistence.SagaSchema.VersionOf(document), Is.EqualTo(fixture.Version), $"{fixture} holds another version than its name says");

        var read = schema.Deserialize(document, Guid.Empty);

        Assert.That((read.CorrelationId, read.CurrentState), Is.Not.EqualTo((Guid.Empty, "")), $"{fixture} read as an empty run");
        if (fixture.Version < schema.Current)
        {
            // As a later build reads it, once this version's format is gone: through the upgrades alone.
            Assert.That(Normalized(schema.Upgrade(document, fixture.Version, Guid.Empty)), Is.EqualTo(Normalized(read)), $"{fixture} reads differently through its upgrades");
        }

        // The same run recorded in each version reads as one state.
        foreach (var other in Fixtures(RunStateFolder).Where(f => f.Name == fixture.Name && f.Shape == fixture.Shape && f.Version != fixture.Version))
        {
            Assert.That(Normalized(schema.Deserialize(File.ReadAllBytes(other.Path), Guid.Empty)), Is.EqualTo(Normalized(read)), $"{fixture} and {other} read as different states");
        }
    }

    [Test]
    public void Should_write_and_read_back_every_recorded_run_in_every_version()
    {
        foreach (var (name, run) in RecordedRuns)
        {
            foreach (var version in AgentRunStateVersions.Formats.Keys)
            {
                var schema = AgentRunStateVersions.Schema(version);
                var read = schema.Deserialize(System.Text.Encoding.UTF8.GetBytes(schema.Serialize(run)), run.CorrelationId);

                // Exactly, not only as equal JSON: the saga compares a run with its stored form to skip unchanged writes.
                Assert.That(AgentRunStateVersions.Schema(1).Serialize(read), Is.EqualTo(AgentRunStateVersions.Schema(1).Serialize(run)), $"{name} in version {version}");
            }
        }
    }

    /// A state as version 1 writes it, with the JSON its fields hold parsed: equal JSON, however spaced or escaped.
    private static string Normalized(AgentRunState run)
    {
        var document = JsonNode.Parse(AgentRunStateVersions.Schema(1).Serialize(run))!.AsObject();
        return AgentRunStateVersions.Upgrades[1](document).ToJsonString();
    }
}
