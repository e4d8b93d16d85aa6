using System.Text.Json.Serialization;

namespace Agentry.Contracts;

/// <summary>What kind of thing long-term memory keeps about a user.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MemoryItemKind>))]
public enum MemoryItemKind
{
    /// <summary>Something true about the user ("lives in Lyon").</summary>
    Fact,
    /// <summary>How the user likes things done ("answers in French").</summary>
    Preference,
}

/// <summary>The remember tool asks Memory to keep an item about the run's user (request/response).</summary>
/// <param name="RunId">The run whose agent remembers it; the item's source.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="CallId">The tool call: with the run, it makes the item's id, so a redelivered request adds nothing.</param>
/// <param name="Text">What to remember, in words.</param>
/// <param name="Kind">A fact or a preference.</param>
/// <param name="UserId">The user; null lets Memory take it from the run's record.</param>
public sealed record RememberMemory(Guid RunId, string TenantId, string CallId, string Text, MemoryItemKind Kind, string? UserId = null);

/// <summary>Memory's answer to RememberMemory.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="ItemId">The item kept (or the one the user already had with the same text); empty when refused.</param>
/// <param name="UserId">The user it was kept for.</param>
/// <param name="AlreadyKnown">The user already had an item with the same text: nothing new was added.</param>
/// <param name="Problem">Why nothing was kept (no user for the run), in words; null when it was.</param>
public sealed record MemoryRemembered(Guid RunId, string TenantId, Guid ItemId, string? UserId, bool AlreadyKnown, string? Problem = null);

/// <summary>Ask Memory for everything it keeps about a user (request/response).</summary>
/// <param name="TenantId">The tenant: another tenant's items are never listed.</param>
/// <param name="UserId">The user.</param>
public sealed record ListMemories(string TenantId, string UserId);

/// <summary>One long-term memory item, as listed to its user.</summary>
/// <param name="Id">The item's id, for deleting it.</param>
/// <param name="Text">What is remembered.</param>
/// <param name="Kind">A fact or a preference.</param>
/// <param name="SourceRunId">The run it was learned in, if any.</param>
/// <param name="CreatedAt">When it was kept.</param>
public sealed record MemoryItemView(Guid Id, string Text, MemoryItemKind Kind, Guid? SourceRunId, DateTimeOffset CreatedAt);

/// <summary>Memory's answer to ListMemories: the user's items, oldest first.</summary>
/// <param name="TenantId">The tenant.</param>
/// <param name="UserId">The user.</param>
/// <param name="Items">The items.</param>
public sealed record MemoryList(string TenantId, string UserId, IReadOnlyList<MemoryItemView> Items);

/// <summary>Delete one of a user's items, or all of them (request/response).</summary>
/// <param name="TenantId">The tenant: another tenant's items are never deleted.</param>
/// <param name="UserId">The user.</param>
/// <param name="ItemId">The item to delete; null deletes every item of the user.</param>
public sealed record ForgetMemories(string TenantId, string UserId, Guid? ItemId = null);

/// <summary>Memory's answer to ForgetMemories.</summary>
/// <param name="TenantId">The tenant.</param>
/// <param name="UserId">The user.</param>
/// <param name="Deleted">How many items were deleted: 0 for an id the user does not have.</param>
public sealed record MemoriesForgotten(string TenantId, string UserId, int Deleted);
