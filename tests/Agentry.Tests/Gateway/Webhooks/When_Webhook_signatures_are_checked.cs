using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Agentry.Agents;
using Agentry.Agents.Triggers;
using Agentry.Gateway.Triggers.Webhooks;
using Microsoft.AspNetCore.Http;

namespace Agentry.Tests.Gateway.Webhooks;

/// The schemes' rules at their edges, on the verifier itself with a fixed clock: the tolerance is
/// inclusive, one second past it is refused either way, and the YAML refuses what a scheme cannot do.
public sealed class When_Webhook_signatures_are_checked
{
    private const string Secret = "s3cret";
    private const string Body = """{"order":{"total":3}}""";
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static WebhookTrigger Trigger(string scheme, string extra = "") =>
        (WebhookTrigger)TestAgents.Parse("hooked", $$$"""
            description: A hooked agent.
            instructions: Use the calculator.
            tools: [calculator]
            triggers:
              - name: hook
                webhook: {{{scheme}}}
                secret: the-secret
            {{{extra}}}
                goal: "What is {{order.total}} + 1?"
            """).Triggers.Single();

    [TestCase(-300, true)]
    [TestCase(-301, false)]
    [TestCase(300, true)]
    [TestCase(301, false)]
    public void Should_take_a_zendesk_timestamp_within_the_tolerance_inclusive(int seconds, bool taken)
    {
        var timestamp = Now.AddSeconds(seconds).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var headers = new HeaderDictionary
        {
            ["X-Zendesk-Webhook-Signature-Timestamp"] = timestamp,
            ["X-Zendesk-Webhook-Signature"] = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(timestamp + Body))),
        };

        var refusal = WebhookSignatures.Refusal(Trigger("zendesk"), Encoding.UTF8.GetBytes(Secret), headers, Encoding.UTF8.GetBytes(Body), Now);

        Assert.That(refusal, taken ? Is.Null : Does.Contain(seconds < 0 ? "stale" : "in the future"));
    }

    [Test]
    public void Should_sign_an_hmac_timestamp_with_a_dot_before_the_body_in_unix_seconds()
    {
        var trigger = Trigger("hmac", "    signature_header: X-Sig\n    timestamp_header: X-Ts\n    tolerance: 1m\n");
        var timestamp = Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        string Sign(string signed) => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(signed)));

        string? Check(string signature) => WebhookSignatures.Refusal(trigger, Encoding.UTF8.GetBytes(Secret),
            new HeaderDictionary { ["X-Ts"] = timestamp, ["X-Sig"] = signature }, Encoding.UTF8.GetBytes(Body), Now);

        Assert.That(Check(Sign(timestamp + "." + Body)), Is.Null);
        Assert.That(Check(Sign(timestamp + "." + Body).ToUpperInvariant()), Is.Null, "hex in either case");
        Assert.That(Check(Sign(timestamp + Body)), Does.Contain("does not match"), "the dot is part of what is signed");
        Assert.That(Check(Sign(Body)), Does.Contain("does not match"), "the timestamp is part of what is signed");
    }

    [Test]
    public void Should_refuse_a_timestamp_header_on_a_github_webhook_naming_the_line()
    {
        var e = Assert.Throws<AgentDefinitionException>(() => Trigger("github", "    timestamp_header: X-Ts\n"));

        Assert.That(e!.Message, Does.StartWith("hooked.yaml:8:").And.Contain("GitHub signs no timestamp: remove triggers.hook.timestamp_header"));
    }

    [Test]
    public void Should_refuse_an_hmac_webhook_without_its_signature_header()
    {
        var e = Assert.Throws<AgentDefinitionException>(() => Trigger("hmac"));

        Assert.That(e!.Message, Does.Contain("uses hmac: name the header that carries the signature"));
    }
}
