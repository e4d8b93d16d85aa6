using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Planner.Persistence;
using Agentry.Planner.StateMachines;
using Agentry.ServiceDefaults.Versions;

namespace Agentry.Tests.Planner.Persistence;

/// The stored forms of a run's state (AgentRunStateVersions), without Redis: what each version
/// writes, that every content of a JSON-holding field comes back exactly, and how a document of
/// no version or an unknown one is read.
public sealed class When_run_state_is_stored_in_a_version
{
    private static readonly SagaSchema<AgentRunState> Writes1 = AgentRunStateVersions.Schema(1);
    private static readonly SagaSchema<AgentRunState> Writes2 = AgentRunStateVersions.Schema(2);
    private static readonly JsonSerializerOptions Legacy = new(JsonSerializerDefaults.General);

    private static AgentRunState Run(string? input) => new()
    {
        CorrelationId = Guid.Parse("11111111-2222-3333-4444-555555555555"),
        CurrentState = "LoadingContext",
        TenantId = "acme",
        Agent = "assistant",
        Goal = "What is 2 + 3?",
        InputJson = input,
        Step = 1,
    };

    private static AgentRunState Read(SagaSchema<AgentRunState> schema, string document) =>
        schema.Deserialize(Encoding.UTF8.GetBytes(document), Guid.Empty);

    // What a field holding JSON may hold: an object or array (nested in version 2), JSON that is not
    // (a string, a number, null), text that is not JSON (a reference another change may put there).
    [TestCase("""{"ticket":42,"note":"a \"quoted\" <word> & é"}""", JsonValueKind.Object)]
    [TestCase("""[1,{"a":[]}]""", JsonValueKind.Array)]
    [TestCase("\"C-7\"", JsonValueKind.String)]
    [TestCase("null", JsonValueKind.String)]
    [TestCase("42", JsonValueKind.String)]
    [TestCase("{not json", JsonValueKind.String)]
    [TestCase("ref:blob/2f9c", JsonValueKind.String)]
    [TestCase(null, JsonValueKind.Null)]
    public void Should_give_back_exactly_what_a_field_holding_json_held(string? input, JsonValueKind stored)
    {
        var written = Writes2.Serialize(Run(input));

        Assert.That(JsonDocument.Parse(written).RootElement.GetProperty(nameof(AgentRunState.InputJson)).ValueKind, Is.EqualTo(stored), written);
        Assert.That(Read(Writes1, written).InputJson, Is.EqualTo(input), "read by a build that writes version 1");
        Assert.That(Read(Writes2, Writes1.Serialize(Run(input))).InputJson, Is.EqualTo(input), "version 1 read by a build that writes version 2");
        // Version 1 read through its upgrade alone: the same JSON for an object or array, the same text otherwise.
        var upgraded = Writes2.Upgrade(Encoding.UTF8.GetBytes(Writes1.Serialize(Run(input))), 1, Guid.Empty).InputJson;
        if (stored is JsonValueKind.Object or JsonValueKind.Array)
        {
            Assert.That(JsonNode.Parse(upgraded!)!.ToJsonString(), Is.EqualTo(TryParse(input!)!.ToJsonString()));
        }
        else
        {
            Assert.That(upgraded, Is.EqualTo(input));
        }
    }

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [Test]
    public void Should_write_its_version_first()
    {
        Assert.That(Writes1.Serialize(Run(null)), Does.StartWith("""{"SchemaVersion":1,"CorrelationId":"""));
        Assert.That(Writes2.Serialize(Run(null)), Does.StartWith("""{"SchemaVersion":2,"CorrelationId":"""));
        Assert.That((Writes1.Reads, Writes2.Reads, Writes2.Current), Is.EqualTo((new[] { 1, 2 }, new[] { 1, 2 }, 2)));
    }

    [Test]
    public void Should_read_a_state_written_before_versions_as_version_1()
    {
        // As the Planner wrote it before this change: the instance's plain JSON, no SchemaVersion.
        var legacy = JsonSerializer.Serialize(Run("""{"ticket":42}"""), Legacy);

        Assert.That(SagaSchema.VersionOf(Encoding.UTF8.GetBytes(legacy)), Is.EqualTo(1));
        Assert.That((Read(Writes2, legacy).InputJson, Read(Writes2, legacy).Agent), Is.EqualTo(("""{"ticket":42}""", "assistant")));
    }

    [Test]
    public void Should_find_the_version_wherever_it_stands()
    {
        Assert.That(SagaSchema.VersionOf("""{"Agent":"a","Nested":{"SchemaVersion":7},"SchemaVersion":2}"""u8), Is.EqualTo(2));
    }

    [TestCase(99)]
    [TestCase(0)]
    public void Should_refuse_a_version_it_does_not_read_naming_the_run_and_the_versions_it_reads(int version)
    {
        var runId = Guid.NewGuid();
        var document = Writes1.Serialize(Run(null)).Replace("\"SchemaVersion\":1", $"\"SchemaVersion\":{version}", StringComparison.Ordinal);

        var refused = Assert.Throws<UnreadableVersionException>(() => Writes1.Deserialize(Encoding.UTF8.GetBytes(document), runId));

        Assert.That(refused!.Message, Does.Contain($"AgentRunState {runId}").And.Contain($"schema version {version}").And.Contain("versions 1, 2"));
        Assert.That(refused.IsRunState, Is.True);
    }

    [Test]
    public void Should_refuse_to_write_a_version_it_has_no_format_for()
    {
        var refused = Assert.Throws<ArgumentException>(() => AgentRunStateVersions.Schema(3));

        Assert.That(refused!.Message, Does.Contain("version 3").And.Contain("1, 2"));
    }
}
