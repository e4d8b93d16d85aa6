using System.Security.Claims;
using System.Text;
using Agentry.Agents.Triggers;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Triggers.Webhooks;

/// RunId: the run the delivery started (or had started, for a duplicate); Status: started,
/// duplicate or ignored; Reason: why it was ignored or what its first delivery came to; Inbox: the
/// delivery's id in the inbox, for `agentry hooks replay`.
public sealed record WebhookAnswer(Guid? RunId, string DeliveryId, string Status, string? Reason, Guid Inbox);

/// A delivery as operators list it: never its signature; the body's size, not the body.
public sealed record WebhookDeliveryView(
    Guid Id, string Agent, string Trigger, string Source, string DeliveryId, DateTimeOffset ReceivedAt, WebhookDeliveryState State,
    Guid? RunId, string? Reason, int Duplicates, DateTimeOffset? SettledAt, IReadOnlyDictionary<string, string> Headers, int? BodyBytes);

/// POST /hooks/{agent}/{trigger}: a webhook's deliveries, authenticated by their signature instead
/// of a credential (docs/triggers.md, docs/security.md). And for operators (manage or admin): the
/// tenant's deliveries, and the replay of one that failed for a reason since fixed.
public static partial class WebhooksApi
{
    private static readonly WebhookDeliveryState[] Retried = [WebhookDeliveryState.Refused, WebhookDeliveryState.Failed];
    private static readonly WebhookDeliveryState[] Replayable = [WebhookDeliveryState.Received, WebhookDeliveryState.Filtered, WebhookDeliveryState.Refused, WebhookDeliveryState.Failed];

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/hooks");

        hooks.MapPost("/{agent}/{trigger}", ReceiveAsync)
            // The signature is the credential; the limits of every request still hold.
            .AllowAnonymous()
            .CountedAsWebhookDelivery();

        var operators = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(GatewayRoles.Manage, GatewayRoles.Admin).Build();
        hooks.MapGet("/deliveries", async (string? agent, string? trigger, int? limit, ClaimsPrincipal caller, IWebhookInbox inbox, CancellationToken cancellationToken) =>
        {
            if (limit is < 1 or > 1000)
            {
                return Results.Problem($"limit must be 1 to 1000, not {limit}.", statusCode: StatusCodes.Status400BadRequest, title: "The deliveries cannot be listed.");
            }

            var deliveries = await inbox.ListAsync(caller.Tenant(), Blank(agent), Blank(trigger), limit ?? 50, cancellationToken);
            return Results.Ok(deliveries.Select(View));
        }).RequireAuthorization(operators);

        hooks.MapPost("/deliveries/{id:guid}/replay", ReplayAsync).RequireAuthorization(operators);
        return app;
    }

    public static WebhookDeliveryView View(WebhookDelivery d) =>
        new(d.Id, d.Agent, d.Trigger, d.Source, d.DeliveryId, d.ReceivedAt, d.State, d.RunId, d.Reason, d.Duplicates, d.SettledAt, d.Headers,
            d.Body is null ? null : Encoding.UTF8.GetByteCount(d.Body));

    private static async Task<IResult> ReceiveAsync(
        string agent, string trigger, HttpContext http, WebhookDeliveries deliveries, IWebhookInbox inbox, WebhookSecrets secrets,
        IOptions<GatewayOptions> options, TimeProvider clock, IPublishEndpoint bus, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(WebhooksApi));
        if (deliveries.Find(agent, trigger) is not { } hook)
        {
            // The same answer for an unknown agent and an unknown trigger: nothing about which exist.
            return Results.Problem("No such webhook.", statusCode: StatusCodes.Status404NotFound, title: "Not found.");
        }

        var now = clock.GetUtcNow();
        // Until verified, the delivery id is only what the request claims: recorded for the operator, never deduplicated on.
        var claimed = WebhookSignatures.DeliveryHeaderOf(hook) is { } header && http.Request.Headers[header].ToString() is { Length: > 0 } id ? id[..Math.Min(id.Length, WebhookSignatures.MaxDeliveryIdLength)] : "";
        var refused = new WebhookDelivery(Guid.NewGuid(), ServiceDefaults.Extensions.TenantOf(hook.Tenant), agent, trigger, WebhookSignatures.SourceOf(hook), claimed,
            now, WebhookSignatures.KeptHeaders(hook, http.Request.Headers), null, WebhookDeliveryState.Unverified, SettledAt: now);
        async Task<IResult> RefuseAsync(int status, string reason, string? answer = null)
        {
            await inbox.RecordUnverifiedAsync(refused with { Reason = reason }, CancellationToken.None);
            LogRefused(logger, agent, trigger, status, reason);
            return Results.Problem(answer ?? reason, statusCode: status, title: "Webhook delivery refused.");
        }

        var limit = options.Value.MaxRequestBodyBytes;
        byte[] body;
        try
        {
            body = http.Request.ContentLength > limit ? throw new BadHttpRequestException("over the limit", StatusCodes.Status413PayloadTooLarge) : await ReadAsync(http.Request, http.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return await RefuseAsync(StatusCodes.Status413PayloadTooLarge, $"The body is over {limit:N0} bytes ({GatewayOptions.Section}:MaxRequestBodyBytes); nothing was started.");
        }

        if (secrets.Of(hook.Secret) is not { } secret)
        {
            // The operator's to fix (the log at start named it); the sender is told only to retry later.
            return await RefuseAsync(StatusCodes.Status503ServiceUnavailable,
                $"The webhook's signing secret is not configured: set {WebhookSecrets.SettingOf(hook.Secret)}.",
                "This webhook cannot take deliveries now: its signing secret is not configured on the Gateway (its log says which setting). Deliver again once it is.");
        }

        if (WebhookSignatures.Refusal(hook, secret, http.Request.Headers, body, now) is { } unverified)
        {
            return await RefuseAsync(StatusCodes.Status401Unauthorized, unverified);
        }

        var (deliveryId, problem) = WebhookSignatures.DeliveryIdOf(hook, http.Request.Headers, body);
        if (deliveryId is null)
        {
            return await RefuseAsync(StatusCodes.Status400BadRequest, problem!);
        }

        var (delivery, isNew) = await inbox.ReceiveAsync(
            refused with { DeliveryId = deliveryId, Body = Encoding.UTF8.GetString(body), State = WebhookDeliveryState.Received, SettledAt = null }, CancellationToken.None);
        if (!isNew)
        {
            LogDuplicate(logger, agent, trigger, deliveryId, delivery.State, delivery.Duplicates);
            // A delivery refused or failed before is tried again (a sender's redelivery after the
            // agent's mapping was fixed); one started, filtered or in hand is not.
            if (!Retried.Contains(delivery.State) || !await inbox.ReopenAsync(delivery.Id, Retried, CancellationToken.None))
            {
                return Results.Ok(new WebhookAnswer(delivery.RunId ?? (delivery.State == WebhookDeliveryState.Received ? TriggeredRuns.RunIdOf(agent, trigger, deliveryId) : null),
                    deliveryId, "duplicate", $"delivered before: {Describe(delivery)}", delivery.Id));
            }
        }

        var outcome = await deliveries.StartAsync(delivery, hook, bus, overrideFilter: false);
        return outcome.State switch
        {
            WebhookDeliveryState.Started => Results.Accepted($"/runs/{outcome.RunId}", new WebhookAnswer(outcome.RunId, deliveryId, "started", null, delivery.Id)),
            WebhookDeliveryState.Filtered => Results.Json(new WebhookAnswer(null, deliveryId, "ignored", outcome.Reason, delivery.Id), statusCode: StatusCodes.Status202Accepted),
            WebhookDeliveryState.Failed => Results.Problem(outcome.Reason, statusCode: StatusCodes.Status503ServiceUnavailable, title: "The run could not be started."),
            _ => Results.Problem(outcome.Reason, statusCode: StatusCodes.Status400BadRequest, title: "Webhook delivery refused."),
        };
    }

    private static async Task<IResult> ReplayAsync(Guid id, HttpContext http, WebhookDeliveries deliveries, IWebhookInbox inbox, IPublishEndpoint bus, CancellationToken cancellationToken)
    {
        if (await inbox.FindAsync(id, cancellationToken) is not { } delivery || delivery.TenantId != http.User.Tenant())
        {
            return Results.Problem($"No webhook delivery {id} is known.", statusCode: StatusCodes.Status404NotFound, title: "Delivery not found.");
        }

        if (Conflict(delivery) is { } conflict)
        {
            return Results.Problem(conflict, statusCode: StatusCodes.Status409Conflict, title: "The delivery cannot be replayed.");
        }

        if (deliveries.Find(delivery.Agent, delivery.Trigger) is not { } hook)
        {
            return Results.Problem($"Agent '{delivery.Agent}' has no webhook trigger '{delivery.Trigger}' any more: put it back in the agent's definition to replay its deliveries.",
                statusCode: StatusCodes.Status409Conflict, title: "The delivery cannot be replayed.");
        }

        if (!await inbox.ReopenAsync(id, Replayable, cancellationToken))
        {
            // Another replay or a redelivery got there first.
            var now = await inbox.FindAsync(id, cancellationToken);
            return Results.Problem(Conflict(now!) ?? $"Delivery {id} is being handled by another request; list the deliveries again.", statusCode: StatusCodes.Status409Conflict, title: "The delivery cannot be replayed.");
        }

        var outcome = await deliveries.StartAsync(delivery, hook, bus, overrideFilter: true);
        await bus.RecordAsync(http, "webhook.replayed", outcome.RunId, target: $"{delivery.Agent}/{delivery.Trigger} delivery {delivery.DeliveryId}",
            detail: $"was {Describe(delivery)}; now {Describe(delivery with { State = outcome.State, RunId = outcome.RunId, Reason = outcome.Reason })}");
        return outcome.State switch
        {
            WebhookDeliveryState.Started => Results.Accepted($"/runs/{outcome.RunId}", new WebhookAnswer(outcome.RunId, delivery.DeliveryId, "started", null, delivery.Id)),
            WebhookDeliveryState.Failed => Results.Problem(outcome.Reason, statusCode: StatusCodes.Status503ServiceUnavailable, title: "The run could not be started."),
            _ => Results.Problem($"The replay started nothing: {outcome.Reason}", statusCode: StatusCodes.Status400BadRequest, title: "The delivery cannot be replayed."),
        };
    }

    /// Why the delivery can never be replayed, or null when it can.
    private static string? Conflict(WebhookDelivery delivery) => delivery.State switch
    {
        WebhookDeliveryState.Started => $"Delivery {delivery.Id} already started run {delivery.RunId}; a replay would start nothing new.",
        WebhookDeliveryState.Unverified => $"Delivery {delivery.Id} was refused before it was verified ({delivery.Reason}). Its body was not kept, and only its sender can vouch for it: deliver it again from the sender.",
        _ => null,
    };

    private static string Describe(WebhookDelivery delivery) => delivery.State switch
    {
        WebhookDeliveryState.Started => $"started run {delivery.RunId}",
        WebhookDeliveryState.Received => "received, its run being started",
        var state => $"{state.ToString().ToLowerInvariant()}: {delivery.Reason}",
    };

    private static async Task<byte[]> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Agent}/{Trigger}: a delivery was refused with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string agent, string trigger, int status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Agent}/{Trigger}: delivery {DeliveryId} came again ({State}, {Duplicates} duplicate(s) so far)")]
    private static partial void LogDuplicate(ILogger logger, string agent, string trigger, string deliveryId, WebhookDeliveryState state, int duplicates);
}
