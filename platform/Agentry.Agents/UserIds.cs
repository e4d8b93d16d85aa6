namespace Agentry.Agents;

/// What a user id may be: long-term memory is kept under it, so the Gateway and the CLI refuse one
/// that could not be typed back or that would be a different key after trimming.
public static class UserIds
{
    public const int MaxLength = 128;

    public static string? Problem(string? userId) => userId switch
    {
        null => null,
        _ when string.IsNullOrWhiteSpace(userId) => "The user id is empty: leave it out, or name the user.",
        _ when userId.Length > MaxLength => $"The user id is {userId.Length} characters long; at most {MaxLength} are allowed.",
        _ when userId.Trim() != userId => $"The user id '{userId}' begins or ends with spaces.",
        _ when userId.Any(char.IsControl) => "The user id contains a control character.",
        _ => null,
    };
}
