using System.ComponentModel.DataAnnotations;

namespace Agentry.ServiceDefaults.Payloads;

/// The claim check and the size bounds (configuration section Payloads, docs/durability.md).
public sealed class PayloadOptions
{
    public const string Section = "Payloads";

    /// A tool output or a run's input larger than this many UTF-8 bytes is stored out of line and
    /// travels as a PayloadRef.
    [Range(1024, 64 * 1024 * 1024)]
    public int InlineBytes { get; set; } = 64 * 1024;

    /// The most a message may be, serialized as it goes to the broker (envelope included). A larger one
    /// is refused at send: RabbitMQ 3.x accepts up to 128 MiB (max_message_size), 4.x up to 16 MiB,
    /// and a message of megabytes holds up every other on its queue long before that.
    [Range(16 * 1024, 128 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 8 * 1024 * 1024;

    /// The most a run's saga state may be, as JSON in Redis. It is read and written at every transition;
    /// Redis accepts values up to 512 MiB, but a state of megabytes costs every step of the run.
    [Range(16 * 1024, 512 * 1024 * 1024)]
    public int MaxStateBytes { get; set; } = 1024 * 1024;

    /// How much of an out-of-line output the inline Output keeps, so logs, traces and the transcript
    /// still show what it began with.
    [Range(0, 16 * 1024)]
    public int PreviewChars { get; set; } = 400;

    /// How much of an out-of-line output Memory puts in the model's context: an output never enters
    /// it whole, as Tools:MaxOutputChars keeps an inline one short.
    [Range(1, 10_000_000)]
    public int ContextChars { get; set; } = 16 * 1024;

    /// Where new payloads are written: file, redis or mongodb. Empty: mongodb when the connection string
    /// `mongodb` is set, else redis when `redis` is, else file. A reader resolves each reference from the
    /// store it names.
    public string? Store { get; set; }

    /// The embedded store's folder; empty: `payloads` beside the SQLite file.
    public string? Directory { get; set; }

    /// How long a payload kept in Redis lives after it was last stored: longer than a finished run is
    /// kept there (Planner:Redis:FinishedRunRetention, 7 days) plus the longest run.
    public TimeSpan RedisRetention { get; set; } = TimeSpan.FromDays(8);

    public string RedisKeyPrefix { get; set; } = "agentry:payload:";
}
