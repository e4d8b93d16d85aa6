using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults;

namespace Agentry.Tests.Hosting;

/// The reason a run gets when one of its messages cannot be read names the field to fix.
public sealed class When_a_poison_message_is_described
{
    [Test]
    public void Should_name_the_field_of_the_wrong_type()
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<GoalReceived>(
            """{"runId":"2f7f6d3e-9a7b-4c5e-8a53-0d7c0b1e9b11","tenantId":"t","agent":"assistant","goal":42}""", JsonSerializerOptions.Web))!;

        var reason = PoisonMessageReporter.Describe(new InvalidOperationException("deserializing the envelope failed", error));

        Assert.That(reason, Does.StartWith("field 'goal' has the wrong type or shape for the message (The JSON value could not be converted to "));
        Assert.That(reason, Does.Not.Contain("LineNumber"));
    }

    [Test]
    public void Should_keep_any_other_error_as_it_is() =>
        Assert.That(PoisonMessageReporter.Describe(new InvalidOperationException("NOT NULL constraint failed")), Is.EqualTo("NOT NULL constraint failed"));
}
