using System.Diagnostics.Metrics;
using Agentry.Planner.Persistence;

namespace Agentry.Tests.Planner.Persistence;

/// Counts the version conflicts the Redis saga repository reports for one saga type, through the
/// same metric operators see. (It matches the instrument by its constant name: the callback can run
/// while the metrics class is still being initialized.)
public sealed class SagaConflicts : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public SagaConflicts(string sagaType)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RedisSagaMetrics.MeterName && instrument.Name == RedisSagaMetrics.ConflictsName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "saga.type", Value: string type } && type == sagaType)
                {
                    Interlocked.Add(ref _count, value);
                }
            }
        });
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
