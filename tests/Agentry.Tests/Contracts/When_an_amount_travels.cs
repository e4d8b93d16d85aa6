using System.Text.Json;
using Agentry.Contracts;
using MassTransit.Serialization;

namespace Agentry.Tests.ContractSchemas;

/// Dollar amounts go over the wire exactly as decimals: written as strings by MassTransit, and read
/// back from a string or a number, as the schemas say.
public sealed class When_an_amount_travels
{
    [Test]
    public void Should_be_written_as_an_exact_string()
    {
        var json = JsonSerializer.Serialize(new RunLimits(MaxCost: 0.1000000000000000000000000001m), SystemTextJsonMessageSerializer.Options);

        Assert.That(JsonDocument.Parse(json).RootElement.GetProperty("maxCost").GetString(), Is.EqualTo("0.1000000000000000000000000001"));
    }

    [TestCase("""{"maxCost": "0.25"}""")]
    [TestCase("""{"maxCost": 0.25}""")]
    public void Should_be_read_from_a_string_or_a_number(string json)
    {
        var limits = JsonSerializer.Deserialize<RunLimits>(json, SystemTextJsonMessageSerializer.Options)!;

        Assert.That(limits.MaxCost, Is.EqualTo(0.25m));
    }
}
