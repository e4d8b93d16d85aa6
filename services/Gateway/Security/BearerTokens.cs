using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace Agentry.Gateway.Security;

/// OIDC/JWT bearer tokens: the issuer, audience and signature are checked by JwtBearer; the tenant
/// and roles are read from the claims the configuration names, and a token without a tenant is refused.
public static class BearerTokens
{
    public static void Configure(JwtBearerOptions jwt, JwtOptions options)
    {
        jwt.Authority = string.IsNullOrWhiteSpace(options.Authority) ? null : options.Authority;
        jwt.Audience = options.Audience;
        jwt.RequireHttpsMetadata = options.RequireHttpsMetadata;
        jwt.MapInboundClaims = false;
        // The token is never kept in the authentication properties, so nothing can log or echo it.
        jwt.SaveToken = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = string.IsNullOrWhiteSpace(options.Issuer) ? null : options.Issuer,
            ValidateAudience = true,
            ValidAudience = options.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            IssuerSigningKeys = options.SigningKeys.Select(SigningKey).ToList(),
            ClockSkew = TimeSpan.FromSeconds(30),
        };
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                var claims = context.Principal!;
                if (claims.FindFirstValue(options.TenantClaim) is not { Length: > 0 } tenant)
                {
                    context.Fail($"The token names no tenant: it needs the claim '{options.TenantClaim}'.");
                    return Task.CompletedTask;
                }

                var roles = claims.FindAll(options.RoleClaim).Select(c => c.Value)
                    .Concat(claims.FindAll("scope").SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
                    .Where(GatewayRoles.All.Contains);
                var who = claims.FindFirstValue("preferred_username") ?? claims.FindFirstValue("email") ?? claims.FindFirstValue("name");
                var subject = claims.FindFirstValue("sub") ?? "unknown subject";
                context.Principal = new ClaimsPrincipal(Caller.Identity(JwtBearerDefaults.AuthenticationScheme, tenant, who ?? subject, $"token {subject}", roles));
                return Task.CompletedTask;
            },
            OnChallenge = context =>
            {
                context.HandleResponse();
                return Credentials.ChallengeAsync(context.HttpContext, Describe(context.AuthenticateFailure));
            },
        };
    }

    private static string? Describe(Exception? failure) => failure switch
    {
        null => null,
        SecurityTokenExpiredException expired => $"The token expired at {expired.Expires:u}.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not the one this Gateway trusts.",
        SecurityTokenInvalidAudienceException => "The token was issued for another audience.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's signature does not verify with the issuer's keys.",
        SecurityTokenNoExpirationException => "The token has no expiry: this Gateway takes only tokens that expire.",
        SecurityTokenMalformedException or ArgumentException => "The bearer credential is neither an API key nor a well-formed token.",
        AuthenticationFailureException => failure.Message,
        _ => "The token is not valid.",
    };

    /// A PEM public key (RSA or EC), or a shared secret written `base64:...`.
    private static SecurityKey SigningKey(string text)
    {
        if (text.StartsWith("base64:", StringComparison.Ordinal))
        {
            var secret = Convert.FromBase64String(text["base64:".Length..]);
            return secret.Length >= 32
                ? new SymmetricSecurityKey(secret)
                : throw new GatewayConfigurationException($"{GatewayOptions.Section}:Jwt:SigningKeys has a shared secret of {secret.Length} bytes: it needs at least 32.");
        }

        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(text);
            return new RsaSecurityKey(rsa);
        }
        catch (ArgumentException)
        {
            try
            {
                var ec = ECDsa.Create();
                ec.ImportFromPem(text);
                return new ECDsaSecurityKey(ec);
            }
            catch (ArgumentException e)
            {
                throw new GatewayConfigurationException($"{GatewayOptions.Section}:Jwt:SigningKeys has an entry that is neither a PEM public key (RSA or EC) nor `base64:<secret>`: {e.Message}", e);
            }
        }
    }
}
