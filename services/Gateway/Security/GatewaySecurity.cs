using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Threading.RateLimiting;
using Agentry.Agents;
using Agentry.Gateway.Stores.Mongo;
using Agentry.Gateway.Stores.Sqlite;
using Agentry.ServiceDefaults;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;
using MongoDB.Driver;

namespace Agentry.Gateway.Security;

/// Who may call the Gateway and how much (docs/security.md): every endpoint but /health asks for a
/// credential, each API asks for a role, and run submissions are rate-limited per key and per tenant.
public static class GatewaySecurity
{
    /// Picks the scheme that reads the request's credential.
    private const string Scheme = "Agentry";

    public static IServiceCollection AddGatewaySecurity(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        if (options.Problem() is { } problem)
        {
            throw new GatewayConfigurationException($"The Gateway's settings are invalid: {problem}");
        }

        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddApiKeyStore(configuration);

        var authentication = services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Agentry credentials", policy => policy.ForwardDefaultSelector = http => SchemeFor(http.Request, options))
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (options.AuthDisabled)
        {
            authentication.AddScheme<AuthenticationSchemeOptions, LoopbackAuthenticationHandler>(LoopbackAuthenticationHandler.SchemeName, null);
        }

        if (options.Jwt.Enabled)
        {
            authentication.AddJwtBearer(JwtBearerDefaults.AuthenticationScheme, jwt => BearerTokens.Configure(jwt, options.Jwt));
        }

        services.AddAuthorization(authorization =>
        {
            foreach (var role in GatewayRoles.All)
            {
                authorization.AddPolicy(role, policy => policy.RequireAuthenticatedUser().RequireRole(role));
            }

            // An endpoint that names no role still needs a caller: nothing is open by omission.
            authorization.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        });
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbiddenAsProblem>();
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                Submissions(options.PerKey, user => "key:" + user.Actor()),
                Submissions(options.PerTenant, user => "tenant:" + user.Tenant()),
                WebhookDeliveries(options.PerWebhook));
            limiter.OnRejected = (rejected, cancellationToken) => new ValueTask(TooManyAsync(rejected, options));
        });
        services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        // A body that cannot be bound is thrown to the exception handler, which answers with the reason.
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context => DescribeProblem(context, options));
        // Authentication brings data protection, which nothing here uses (no cookies, no protected
        // state): ephemeral keys spare a read-only container a key ring on disk and its warnings.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddHostedService<GatewayStartCheck>();
        return services;
    }

    /// The middleware, in order: errors as problem details, who is calling, may they, how often.
    public static WebApplication UseGatewaySecurity(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e switch
            {
                Microsoft.AspNetCore.Http.BadHttpRequestException bad => bad.StatusCode,
                // A service behind the Gateway (Memory, the Planner) did not answer in time: busy or
                // restarting, which a caller retries; not a fault of the request or of the Gateway.
                MassTransit.RequestTimeoutException => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            },
            // A caller's bad body is answered, not logged as a server error.
            SuppressDiagnosticsCallback = context => context.Exception is Microsoft.AspNetCore.Http.BadHttpRequestException,
        });
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// The key store of this configuration: MongoDB when `mongodb` is set, else the SQLite file.
    public static IServiceCollection AddApiKeyStore(this IServiceCollection services, IConfiguration configuration)
    {
        if (StoreConnections.Mongo(configuration) is { } mongodb)
        {
            var url = MongoUrl.Create(mongodb);
            services.TryAddSingleton<IApiKeyStore>(provider => new MongoApiKeyStore(
                (provider.GetService<IMongoClient>() ?? new MongoClient(url)).GetDatabase(url.DatabaseName ?? StoreConnections.DefaultMongoDatabase)));
        }
        else
        {
            services.TryAddSingleton<IApiKeyStore>(_ => new SqliteApiKeyStore(StoreConnections.Sqlite(configuration)));
        }

        return services;
    }

    /// Marks the webhook endpoint: its deliveries are counted per trigger, since they carry no key.
    public static RouteHandlerBuilder CountedAsWebhookDelivery(this RouteHandlerBuilder endpoint) =>
        endpoint.WithMetadata(WebhookMarker.Instance);

    /// Marks the endpoint that starts runs: the only one the submission limits count.
    public static RouteHandlerBuilder CountedAsSubmission(this RouteHandlerBuilder endpoint) =>
        endpoint.WithMetadata(SubmissionMarker.Instance);

    private static void DescribeProblem(ProblemDetailsContext context, GatewayOptions options)
    {
        var error = context.HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (context.ProblemDetails.Status == StatusCodes.Status413PayloadTooLarge)
        {
            context.ProblemDetails.Detail ??= $"The request body is over {options.MaxRequestBodyBytes:N0} bytes ({GatewayOptions.Section}:MaxRequestBodyBytes); nothing was enqueued.";
        }
        else if (error is MassTransit.RequestTimeoutException)
        {
            context.ProblemDetails.Detail ??= "A service behind the Gateway did not answer in time; it may be busy or restarting. Try again shortly.";
            context.HttpContext.Response.Headers.RetryAfter = "1";
        }
        else if (error is Microsoft.AspNetCore.Http.BadHttpRequestException bad)
        {
            context.ProblemDetails.Detail ??= bad.InnerException is System.Text.Json.JsonException json
                ? $"The body is not the JSON expected: {json.Message}"
                : bad.Message;
        }
    }

    private static string SchemeFor(HttpRequest request, GatewayOptions options) =>
        Credentials.Of(request) is null ? (options.AuthDisabled ? LoopbackAuthenticationHandler.SchemeName : ApiKeyAuthenticationHandler.SchemeName)
        : Credentials.IsApiKey(request) || !options.Jwt.Enabled ? ApiKeyAuthenticationHandler.SchemeName
        : JwtBearerDefaults.AuthenticationScheme;

    private static PartitionedRateLimiter<HttpContext> Submissions(SubmissionRate rate, Func<ClaimsPrincipal, string> partition) =>
        PartitionedRateLimiter.Create<HttpContext, string>(http =>
            http.GetEndpoint()?.Metadata.GetMetadata<SubmissionMarker>() is null || http.User.Identity?.IsAuthenticated != true
                ? RateLimitPartition.GetNoLimiter("")
                : RateLimitPartition.GetTokenBucketLimiter(partition(http.User), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = rate.Burst,
                    TokensPerPeriod = rate.PerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));

    /// A bucket per agent and trigger the catalog knows, and one for every name it does not, so
    /// that made-up names neither escape the limit nor grow the limiter's partitions without end.
    private static PartitionedRateLimiter<HttpContext> WebhookDeliveries(SubmissionRate rate) =>
        PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            if (http.GetEndpoint()?.Metadata.GetMetadata<WebhookMarker>() is null)
            {
                return RateLimitPartition.GetNoLimiter("");
            }

            var (agent, trigger) = (http.Request.RouteValues["agent"] as string ?? "", http.Request.RouteValues["trigger"] as string ?? "");
            var known = http.RequestServices.GetRequiredService<AgentCatalog>().Find(agent)?.Triggers.Any(t => t.Name == trigger) == true;
            return RateLimitPartition.GetTokenBucketLimiter(known ? $"hook:{agent}/{trigger}" : "hook:unknown", _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate.Burst,
                TokensPerPeriod = rate.PerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });

    private static Task TooManyAsync(OnRejectedContext rejected, GatewayOptions options)
    {
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
        var http = rejected.HttpContext;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        if (http.GetEndpoint()?.Metadata.GetMetadata<WebhookMarker>() is not null)
        {
            return Results.Problem(
                $"Too many deliveries to this webhook: it takes {options.PerWebhook.Burst} at once and {options.PerWebhook.PerSecond} a second after that ({GatewayOptions.Section}:PerWebhook). Retry after {seconds} s.",
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Rate limited.").ExecuteAsync(http);
        }

        return Results.Problem(
            $"Too many runs submitted. A key may submit {options.PerKey.Burst} at once and {options.PerKey.PerSecond} a second after that; a tenant {options.PerTenant.Burst} and {options.PerTenant.PerSecond}. Retry after {seconds} s.",
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Rate limited.").ExecuteAsync(http);
    }

    private sealed class SubmissionMarker
    {
        public static readonly SubmissionMarker Instance = new();
    }

    private sealed class WebhookMarker
    {
        public static readonly WebhookMarker Instance = new();
    }

    /// A 403 that says which role was missing, as problem details.
    private sealed class ForbiddenAsProblem : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
        {
            if (!authorizeResult.Forbidden || context.User.Identity?.IsAuthenticated != true)
            {
                return _default.HandleAsync(next, context, policy, authorizeResult);
            }

            var roles = policy.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).ToList();
            return Results.Problem(
                $"{context.User.Actor()} lacks the role {string.Join(" or ", roles.Select(r => $"'{r}'"))} that this needs.",
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden.").ExecuteAsync(context);
        }
    }
}
