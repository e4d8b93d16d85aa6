using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Agentry.Agents.Triggers;
using Microsoft.AspNetCore.Http;

namespace Agentry.Gateway.Triggers.Webhooks;

/// How a webhook's sender proves a delivery is theirs (docs/triggers.md): an HMAC-SHA256 of the body
/// (and, for schemes that sign one, a timestamp) under the secret both sides hold. Each scheme's
/// headers are its sender's own; a trigger may name others.
public static class WebhookSignatures
{
    /// The largest delivery id a header may carry; longer ones are refused, not cut (two ids that
    /// share a long prefix must stay two).
    public const int MaxDeliveryIdLength = 200;

    public static string SourceOf(WebhookTrigger trigger) => trigger.Scheme switch
    {
        WebhookScheme.GitHub => "github",
        WebhookScheme.Zendesk => "zendesk",
        _ => "hmac",
    };

    public static string SignatureHeaderOf(WebhookTrigger trigger) => trigger.SignatureHeader ?? trigger.Scheme switch
    {
        WebhookScheme.GitHub => "X-Hub-Signature-256",
        WebhookScheme.Zendesk => "X-Zendesk-Webhook-Signature",
        // The loader requires signature_header for hmac.
        _ => throw new InvalidOperationException($"Webhook trigger '{trigger.Name}' uses hmac and names no signature header."),
    };

    /// The header of the signed timestamp; null for GitHub, which signs none (its delivery id is
    /// the replay protection), and for an hmac trigger that names none.
    public static string? TimestampHeaderOf(WebhookTrigger trigger) => trigger.TimestampHeader ?? (trigger.Scheme == WebhookScheme.Zendesk ? "X-Zendesk-Webhook-Signature-Timestamp" : null);

    public static string? DeliveryHeaderOf(WebhookTrigger trigger) => trigger.DeliveryHeader ?? trigger.Scheme switch
    {
        WebhookScheme.GitHub => "X-GitHub-Delivery",
        WebhookScheme.Zendesk => "X-Zendesk-Webhook-Invocation-Id",
        _ => null,
    };

    /// The headers the inbox keeps beside the body: what an operator needs to see what came and to
    /// replay it. Never the signature, which is a credential of sorts (it replays the delivery).
    public static IReadOnlyDictionary<string, string> KeptHeaders(WebhookTrigger trigger, IHeaderDictionary headers)
    {
        var names = new[] { "Content-Type", "User-Agent", "X-GitHub-Event", "X-GitHub-Hook-ID", DeliveryHeaderOf(trigger), TimestampHeaderOf(trigger) };
        var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names.OfType<string>())
        {
            if (headers.TryGetValue(name, out var value) && value.ToString() is { Length: > 0 } text && !kept.ContainsKey(name))
            {
                kept[name] = Cut(text, 300);
            }
        }

        return kept;
    }

    /// Why the delivery is not the sender's, or null when its signature holds under the secret and
    /// its timestamp (for schemes that sign one) lies within the trigger's tolerance of now.
    public static string? Refusal(WebhookTrigger trigger, ReadOnlySpan<byte> secret, IHeaderDictionary headers, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        var signatureHeader = SignatureHeaderOf(trigger);
        if (Header(headers, signatureHeader) is not { } signatureText)
        {
            return $"The delivery is not signed: it has no {signatureHeader} header. This webhook takes only deliveries signed with its secret ({SourceOf(trigger)} scheme).";
        }

        var timestampHeader = TimestampHeaderOf(trigger);
        string? timestampText = null;
        DateTimeOffset timestamp = default;
        if (timestampHeader is not null)
        {
            timestampText = Header(headers, timestampHeader);
            if (timestampText is null)
            {
                return $"The delivery has no {timestampHeader} header: this webhook's signature covers a timestamp, and a delivery without one is refused.";
            }

            if (!TryParseTime(timestampText, out timestamp))
            {
                return $"The {timestampHeader} header, '{Cut(timestampText, 40)}', is not a time: send Unix seconds or an ISO 8601 time.";
            }
        }

        if (Decode(trigger, signatureText) is not { } signature)
        {
            return $"The {signatureHeader} header is not {Format(trigger)}.";
        }

        var expected = HMACSHA256.HashData(secret, Signed(trigger, timestampText, body));
        // Constant time: how much of a guess matched must not show in how long the answer took.
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
        {
            return $"The signature in {signatureHeader} does not match the delivery: it was not signed with this webhook's secret, or it was changed on the way.";
        }

        if (timestampHeader is not null)
        {
            var age = now - timestamp;
            if (age > trigger.Tolerance)
            {
                return $"The delivery is stale: its {timestampHeader} ({timestamp.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}) is {Seconds(age)} old, more than this webhook's tolerance of {Seconds(trigger.Tolerance)}; an old delivery may be a replay. Send it anew (with a new timestamp), or check the sender's clock.";
            }

            if (-age > trigger.Tolerance)
            {
                return $"The delivery's {timestampHeader} ({timestamp.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}) is {Seconds(-age)} in the future, more than this webhook's tolerance of {Seconds(trigger.Tolerance)}: check the sender's clock.";
            }
        }

        return null;
    }

    /// The delivery's id: the sender's delivery header, or, when it sends none, "sha256:" and the
    /// hash of what it signed (the body, after the timestamp when one is signed), so that the very
    /// same request sent twice is one delivery while a new signed timestamp makes a new one.
    /// Problem: why the header cannot serve as an id.
    public static (string? DeliveryId, string? Problem) DeliveryIdOf(WebhookTrigger trigger, IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        if (DeliveryHeaderOf(trigger) is { } header && Header(headers, header) is { } id)
        {
            return id.Length > MaxDeliveryIdLength || id.Any(char.IsControl)
                ? (null, $"The {header} header is not a delivery id: it must be at most {MaxDeliveryIdLength} printable characters.")
                : (id, null);
        }

        var timestampHeader = TimestampHeaderOf(trigger);
        var timestamp = timestampHeader is null ? null : Header(headers, timestampHeader);
        return ("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Signed(trigger, timestamp, body))), null);
    }

    /// What the sender signs: GitHub the body; Zendesk the timestamp then the body; hmac the
    /// timestamp, a '.', then the body when it names a timestamp header, else the body.
    private static byte[] Signed(WebhookTrigger trigger, string? timestamp, ReadOnlySpan<byte> body)
    {
        if (timestamp is null)
        {
            return body.ToArray();
        }

        var prefix = Encoding.UTF8.GetBytes(trigger.Scheme == WebhookScheme.Zendesk ? timestamp : timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return signed;
    }

    /// The signature's bytes as the scheme writes them, or null when the text is not that.
    private static byte[]? Decode(WebhookTrigger trigger, string text)
    {
        try
        {
            return trigger.Scheme switch
            {
                WebhookScheme.GitHub => text.StartsWith("sha256=", StringComparison.Ordinal) ? Convert.FromHexString(text.AsSpan(7)) : null,
                WebhookScheme.Zendesk => Convert.FromBase64String(text),
                // Many senders prefix the algorithm as GitHub does; the rest is hex either way.
                _ => Convert.FromHexString(text.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase) ? text.AsSpan(7) : text),
            };
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Format(WebhookTrigger trigger) => trigger.Scheme switch
    {
        WebhookScheme.GitHub => "a GitHub signature (sha256= and the HMAC-SHA256 of the body in hex)",
        WebhookScheme.Zendesk => "a Zendesk signature (the HMAC-SHA256 of the timestamp and the body in base64)",
        _ => "an HMAC-SHA256 in hex",
    };

    private static bool TryParseTime(string text, out DateTimeOffset time)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            // Unix seconds; a sender that writes milliseconds writes 13 digits or more.
            var valid = seconds is >= 0 and < 253_402_300_800_000;
            time = valid ? DateTimeOffset.FromUnixTimeMilliseconds(seconds >= 100_000_000_000 ? seconds : seconds * 1000) : default;
            return valid;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }

    private static string? Header(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.ToString().Trim() is { Length: > 0 } value ? value : null;

    private static string Seconds(TimeSpan span) => $"{Math.Round(span.TotalSeconds):0} s";

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..length] + "...";
}
