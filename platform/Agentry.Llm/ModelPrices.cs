using System.Collections.Concurrent;
using System.Globalization;
using Agentry.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Llm;

/// The price of one model, in US dollars per million tokens (Llm:Prices:MODEL).
public sealed class ModelPrice
{
    public decimal InputPerMillion { get; set; }
    public decimal OutputPerMillion { get; set; }
}

/// The price table, keyed by the model id the provider reports (environment
/// Llm__Prices__gpt-4o-mini__InputPerMillion=0.15).
public sealed class ModelPriceOptions
{
    public Dictionary<string, ModelPrice> Prices { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// Turns token counts into US dollars. Decimal all the way, so totals add up exactly. A model
/// with no price costs nothing, with one warning per model so the gap in the table is noticed.
public sealed partial class ModelPrices(IOptions<ModelPriceOptions> options, ILogger<ModelPrices> logger)
{
    private const decimal Million = 1_000_000m;

    private readonly ConcurrentDictionary<string, bool> _warned = new(StringComparer.OrdinalIgnoreCase);

    /// What every answer cost together: each at its own model's price (a fallback model may differ).
    public decimal CostOf(IEnumerable<ModelAnswer> answers) => answers.Sum(a => CostOf(a.Model, a.Reply.Usage));

    /// model: as a step records it, NAME or PROVIDER/NAME; a price under the full name wins over
    /// one under the bare model name.
    public decimal CostOf(string model, TokenUsage usage)
    {
        var slash = model.IndexOf('/', StringComparison.Ordinal);
        if (!options.Value.Prices.TryGetValue(model, out var price)
            && (slash < 0 || !options.Value.Prices.TryGetValue(model[(slash + 1)..], out price)))
        {
            // The offline model is free by nature; a price for it may still be set, for tests and demos.
            if (model != OfflineChatModel.ModelName && _warned.TryAdd(model, true))
            {
                LogNoPrice(logger, model);
            }

            return 0m;
        }

        return (usage.InputTokens * price.InputPerMillion / Million) + (usage.OutputTokens * price.OutputPerMillion / Million);
    }

    /// Dollars for a person: cents when the amount is whole cents, every significant digit otherwise.
    public static string Format(decimal dollars)
    {
        var cents = decimal.Round(dollars, 2);
        return "$" + (cents == dollars
            ? dollars.ToString("0.00", CultureInfo.InvariantCulture)
            : dollars.ToString("0.00##########", CultureInfo.InvariantCulture));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No price is configured for model {Model}: its calls are counted as costing $0. Set Llm:Prices:{Model}:InputPerMillion and OutputPerMillion (US dollars per million tokens).")]
    private static partial void LogNoPrice(ILogger logger, string model);
}
