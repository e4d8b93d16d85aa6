using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Agentry.Distributed.Tests;

/// Ports for the servers the tests start, and stop and start again on the same port (a killed
/// service, a restarted broker or Redis). A port bound with 0 comes from the kernel's ephemeral
/// range, from which every outgoing connection also takes its local port: a ToolExecutor restarted
/// on its port found it taken by one ("address already in use") and the test's runs never ended.
/// So these come from below that range, where no connection is given a port.
internal static class TestPorts
{
    private const int Lowest = 10_000;
    private static readonly ConcurrentDictionary<int, bool> Given = new();
    private static readonly int EphemeralStart = ReadEphemeralStart();

    public static int Free()
    {
        if (EphemeralStart - Lowest < 1_000)
        {
            // No room below the ephemeral range on this host: the kernel's choice is all there is.
            using var any = new TcpListener(IPAddress.Loopback, 0);
            any.Start();
            return ((IPEndPoint)any.LocalEndpoint).Port;
        }

        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = Random.Shared.Next(Lowest, EphemeralStart);
            if (!Given.TryAdd(port, true))
            {
                continue;
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Another program listens there: try another.
            }
        }

        throw new InvalidOperationException($"No free port between {Lowest} and {EphemeralStart} after 1,000 tries.");
    }

    private static int ReadEphemeralStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start)
            ? start
            : 32_768;
    }
}
