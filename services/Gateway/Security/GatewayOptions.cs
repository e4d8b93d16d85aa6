namespace Agentry.Gateway.Security;

/// How the Gateway knows its callers and how much it takes from them (docs/security.md). API keys
/// always work; bearer tokens work when Jwt names an issuer or an authority.
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// Serve without credentials, as the default tenant with every role: for one person on their own
    /// machine (`agentry serve --no-auth`). Refused on any address but loopback.
    public bool AuthDisabled { get; set; }

    public JwtOptions Jwt { get; set; } = new();

    /// How many POST /runs one key (or token subject) and one tenant may make: a token bucket each.
    public SubmissionRate PerKey { get; set; } = new() { Burst = 60, PerSecond = 10 };

    public SubmissionRate PerTenant { get; set; } = new() { Burst = 200, PerSecond = 40 };

    /// How many deliveries one webhook (an agent's trigger) takes: its senders sign instead of
    /// holding a key, so the bucket is the trigger's (all unknown ones share one).
    public SubmissionRate PerWebhook { get; set; } = new() { Burst = 100, PerSecond = 20 };

    /// The largest request body; a larger one is answered 413 before it is read.
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    public string? Problem()
    {
        if ((PerKey.Problem("PerKey") ?? PerTenant.Problem("PerTenant") ?? PerWebhook.Problem("PerWebhook")) is { } rate)
        {
            return rate;
        }

        if (MaxRequestBodyBytes < 1024)
        {
            return $"{Section}:MaxRequestBodyBytes is {MaxRequestBodyBytes}: it must be at least 1024.";
        }

        return Jwt.Problem();
    }
}

/// Bearer tokens of an OpenID Connect provider. Authority finds the issuer's signing keys by
/// discovery; without it, Issuer and SigningKeys name them.
public sealed class JwtOptions
{
    /// The provider's base address (https://login.example.com/realms/acme): keys come from its discovery document.
    public string? Authority { get; set; }

    /// The issuer a token must name; defaults to the authority's.
    public string? Issuer { get; set; }

    /// The audience a token must name (this Gateway's client or API id). Required.
    public string? Audience { get; set; }

    /// Keys that sign tokens, when there is no authority: PEM public keys (RSA or EC), or a shared
    /// secret written `base64:<at least 32 bytes>`.
    public List<string> SigningKeys { get; set; } = [];

    /// The claim that names the caller's tenant; a token without it is refused.
    public string TenantClaim { get; set; } = "tenant";

    /// The claim that lists roles (also read: space-separated `scope`).
    public string RoleClaim { get; set; } = "roles";

    /// Whether discovery must use HTTPS (only a test provider on loopback turns this off).
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(Issuer);

    public string? Problem()
    {
        if (!Enabled)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            return $"{GatewayOptions.Section}:Jwt:Audience is empty: bearer tokens need the audience they are issued for.";
        }

        if (string.IsNullOrWhiteSpace(Authority) && SigningKeys.Count == 0)
        {
            return $"{GatewayOptions.Section}:Jwt names an issuer but no Authority and no SigningKeys: there is no way to check a token's signature.";
        }

        return null;
    }
}

public sealed class SubmissionRate
{
    /// Submissions allowed at once.
    public int Burst { get; set; }

    /// Submissions added back each second, up to Burst.
    public int PerSecond { get; set; }

    public string? Problem(string name) =>
        Burst < 1 || PerSecond < 1 ? $"{GatewayOptions.Section}:{name} needs Burst and PerSecond of at least 1 (Burst {Burst}, PerSecond {PerSecond})." : null;
}

/// Settings the Gateway cannot start with, said in words a person can act on.
public sealed class GatewayConfigurationException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
