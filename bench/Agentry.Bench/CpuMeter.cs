using System.Diagnostics;
using System.Globalization;

namespace Agentry.Bench;

/// CPU time spent by this process (every service and the load), the broker (beam.smp) and Redis
/// (redis-server), read from /proc: on a 2-core machine at 100 runs all three are CPU-bound, so CPU
/// per step says where a step's cost goes better than wall-clock time does.
public sealed class CpuMeter
{
    // Linux reports utime and stime in clock ticks; USER_HZ is 100 on every Linux ABI .NET runs on.
    private const double TicksPerSecond = 100;

    public sealed record Sample(TimeSpan Agentry, TimeSpan Broker, TimeSpan Redis)
    {
        public static Sample operator -(Sample after, Sample before) =>
            new(after.Agentry - before.Agentry, after.Broker - before.Broker, after.Redis - before.Redis);
    }

    public static Sample Now() =>
        new(Process.GetCurrentProcess().TotalProcessorTime, ProcessesNamed("beam.smp"), ProcessesNamed("redis-server"));

    /// Every process of that name: a machine measured on runs one broker and one Redis.
    private static TimeSpan ProcessesNamed(string name)
    {
        if (!OperatingSystem.IsLinux())
        {
            return TimeSpan.Zero;
        }

        var ticks = 0L;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
                var open = stat.IndexOf('(');
                var close = stat.LastIndexOf(')');
                if (stat[(open + 1)..close] != name)
                {
                    continue;
                }

                var fields = stat[(close + 2)..].Split(' ');
                // Fields after comm start at state (field 3): utime is field 14, stime 15.
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The process ended while it was read.
            }
        }

        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
