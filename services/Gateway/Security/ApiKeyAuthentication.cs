using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Security;

/// A key sent as `Authorization: Bearer agk_...` or `X-Api-Key: agk_...`. The same answer for an
/// unknown id and a wrong secret, so that a caller cannot learn which ids exist; a revoked or expired
/// key is named as such only to a caller who holds its secret.
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IApiKeyStore keys,
    TimeProvider clock) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Credentials.Of(Request) is not { } text)
        {
            return AuthenticateResult.NoResult();
        }

        if (ApiKeys.Parse(text) is not var (id, secret))
        {
            // A misshapen key reaches this scheme whether or not bearer tokens are configured: only
            // text that does not even start like a key means that tokens are off.
            return AuthenticateResult.Fail(text.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal)
                ? "The credential starts like an Agentry API key but is not one: a key reads agk_<16 hex digits>_<secret>."
                : "The credential is not an Agentry API key (agk_...), and this Gateway takes no other bearer tokens.");
        }

        var key = await keys.FindAsync(id, Context.RequestAborted);
        if (key is null || !ApiKeys.Matches(key, secret))
        {
            return AuthenticateResult.Fail("The API key is not valid.");
        }

        if (key.RevokedAt is { } revoked)
        {
            return AuthenticateResult.Fail($"The API key {key.Id} was revoked at {revoked:u}.");
        }

        if (!key.IsActive(clock.GetUtcNow()))
        {
            return AuthenticateResult.Fail($"The API key {key.Id} expired at {key.ExpiresAt:u}.");
        }

        var identity = Caller.Identity(SchemeName, key.TenantId, key.Name, $"key {key.Id}", key.Roles);
        return AuthenticateResult.Success(new AuthenticationTicket(new(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties) =>
        await Credentials.ChallengeAsync(Context, (await HandleAuthenticateOnceSafeAsync()).Failure?.Message);
}

/// `agentry serve --no-auth`: a request without a credential acts as the default tenant with every
/// role, but only over a loopback connection, whatever the server was told to bind.
public sealed class LoopbackAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Loopback";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        Task.FromResult(Context.Connection.IsLoopback()
            ? AuthenticateResult.Success(new AuthenticationTicket(new(Caller.Identity(SchemeName, ServiceDefaults.Extensions.DefaultTenant, "local operator", "no auth", GatewayRoles.All)), SchemeName))
            : AuthenticateResult.Fail("This Gateway runs without authentication and answers only loopback connections."));

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Credentials.ChallengeAsync(Context, "This Gateway runs without authentication and answers only loopback connections.");
}

/// Where a credential is read from, and the 401 that says what was wrong with it.
public static class Credentials
{
    public static string? Of(HttpRequest request)
    {
        if (request.Headers[ApiKeyAuthenticationHandler.Header].FirstOrDefault() is { Length: > 0 } key)
        {
            return key.Trim();
        }

        var authorization = request.Headers.Authorization.FirstOrDefault();
        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim()
            : null;
    }

    public static bool IsApiKey(HttpRequest request) => Of(request)?.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) == true;

    public static Task ChallengeAsync(HttpContext http, string? failure)
    {
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"agentry\"";
        return Results.Problem(
            failure ?? $"Send a credential: `Authorization: Bearer <API key or token>` or `{ApiKeyAuthenticationHandler.Header}: <API key>`. An operator creates keys with `agentry keys create`.",
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Not authenticated.").ExecuteAsync(http);
    }
}
