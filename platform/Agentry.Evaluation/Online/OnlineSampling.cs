using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Agentry.Evaluation.Online;

/// Which runs are graded online. The choice is a function of the run id alone: every Evaluator
/// replica agrees on it without asking the others, and a redelivered RunCompleted is chosen again,
/// never twice differently. Run ids are sequential (NewId), so they are hashed first: their low
/// bits would otherwise pick runs by when they started.
public static class OnlineSampling
{
    /// Where the run falls in [0, 1): a run is sampled when this is below the sample rate.
    public static double PositionOf(Guid runId)
    {
        Span<byte> id = stackalloc byte[16];
        runId.TryWriteBytes(id);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(id, hash);
        // The top 53 bits: as many as a double holds exactly, so every position is below 1.
        return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) / (double)(1UL << 53);
    }

    public static bool IsSampled(Guid runId, double sample) => PositionOf(runId) < sample;
}
