using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_the_current_time_is_asked
{
    private static readonly ToolInvocation Invocation = new(Guid.NewGuid(), "tenant-1", "assistant", 1, "call_1_1");

    // Wednesday 15 January 2025, 22:30 UTC: already Thursday in Tokyo.
    private FakeTimeProvider _clock = null!;

    [SetUp]
    public void SetClock() => _clock = new FakeTimeProvider(new DateTimeOffset(2025, 1, 15, 22, 30, 5, TimeSpan.Zero));

    private Task<string> AskAsync(string arguments)
    {
        using var document = JsonDocument.Parse(arguments);
        return new CurrentTimeTool(_clock).InvokeAsync(document.RootElement.Clone(), Invocation, CancellationToken.None);
    }

    [TestCase("{}")]
    [TestCase("""{"timezone":""}""")]
    [TestCase("""{"timezone":null}""")]
    public async Task Should_answer_in_utc_by_default(string arguments)
    {
        Assert.That(await AskAsync(arguments), Is.EqualTo("2025-01-15T22:30:05Z (UTC, Wednesday)"));
    }

    [Test]
    public async Task Should_answer_in_the_time_zone_asked_for()
    {
        Assert.That(await AskAsync("""{"timezone":"Asia/Tokyo"}"""), Is.EqualTo("2025-01-16T07:30:05+09:00 (Asia/Tokyo, Thursday)"));
    }

    [Test]
    public async Task Should_follow_daylight_saving_time()
    {
        Assert.That(await AskAsync("""{"timezone":"Europe/Paris"}"""), Is.EqualTo("2025-01-15T23:30:05+01:00 (Europe/Paris, Wednesday)"));

        _clock.Advance(TimeSpan.FromDays(181));

        Assert.That(await AskAsync("""{"timezone":"Europe/Paris"}"""), Is.EqualTo("2025-07-16T00:30:05+02:00 (Europe/Paris, Wednesday)"));
    }

    [Test]
    public async Task Should_read_the_clock_at_each_call()
    {
        var before = await AskAsync("{}");

        _clock.Advance(TimeSpan.FromMinutes(90));

        Assert.That(await AskAsync("{}"), Is.Not.EqualTo(before).And.EqualTo("2025-01-16T00:00:05Z (UTC, Thursday)"));
    }

    [TestCase("Mars/Olympus_Mons")]
    [TestCase("Tokyo")]
    public void Should_refuse_an_unknown_time_zone_as_invalid_arguments(string zone)
    {
        var error = Assert.ThrowsAsync<ToolException>(() => AskAsync(JsonSerializer.Serialize(new { timezone = zone })));

        Assert.That(error!.Kind, Is.EqualTo(ToolErrorKind.InvalidArguments));
        Assert.That(error.Message, Is.EqualTo($"Unknown time zone '{zone}'; use an IANA id such as Europe/Paris or Asia/Tokyo."));
    }
}
