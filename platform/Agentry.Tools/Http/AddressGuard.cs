using System.Net;
using System.Net.Sockets;

namespace Agentry.Tools;

/// Resolves a host name to addresses; replaced in tests to play a hostile DNS server.
public interface IHostResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

public sealed class DnsHostResolver : IHostResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host, out var literal) ? Task.FromResult(new[] { literal }) : Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// Raised when a host resolves to an address the HTTP tools must not reach.
public sealed class BlockedAddressException(string message) : Exception(message);

/// Keeps the HTTP tools off the machine's own network (loopback, private ranges, link-local and the
/// cloud metadata endpoint). The check runs where the socket is opened: the host is resolved once,
/// every address is checked, and the connection goes to a checked address, so a DNS answer that
/// changes between a check and the connect (rebinding) cannot slip through.
public static class AddressGuard
{
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return IsPublic(address.MapToIPv4());
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            // NAT64 (64:ff9b::/96) embeds an IPv4 address that the gateway will reach.
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
            {
                return IsPublic(new IPAddress(b.AsSpan(12, 4)));
            }

            return !(IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6Any)
                || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xfe) == 0xfc          // fc00::/7 unique local (includes fd00:ec2::254, AWS metadata)
                || (b[0] == 0x20 && b[1] == 0x02) // 6to4 embeds an arbitrary IPv4 address
                || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)); // Teredo
        }

        var v4 = address.GetAddressBytes();
        return !(v4[0] == 0 || v4[0] == 10 || v4[0] == 127 || v4[0] >= 224
            || (v4[0] == 100 && (v4[1] & 0xc0) == 64)   // 100.64.0.0/10 carrier-grade NAT
            || (v4[0] == 169 && v4[1] == 254)           // link-local, 169.254.169.254 metadata
            || (v4[0] == 172 && (v4[1] & 0xf0) == 16)
            || (v4[0] == 192 && v4[1] == 168)
            || (v4[0] == 192 && v4[1] == 0 && v4[2] == 0) // IETF protocol assignments (includes 192.0.0.192 metadata)
            || (v4[0] == 198 && (v4[1] & 0xfe) == 18)); // benchmarking
    }

    /// A handler for one tool: no proxy (it would hide the real destination) and no automatic
    /// redirects (the tools check every hop themselves).
    public static SocketsHttpHandler CreateHandler(IHostResolver resolver, Func<HttpToolOptions> settings) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(resolver, settings(), context.DnsEndPoint, cancellationToken),
    };

    private static async ValueTask<Stream> ConnectAsync(IHostResolver resolver, HttpToolOptions settings, DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var host = endpoint.Host.Trim('[', ']');
        var addresses = await resolver.ResolveAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new BlockedAddressException($"Host '{host}' did not resolve to any address.");
        }

        if (!settings.PrivateHosts.Contains(host, StringComparer.OrdinalIgnoreCase) && addresses.FirstOrDefault(a => !IsPublic(a)) is { } blocked)
        {
            throw new BlockedAddressException(
                $"Host '{host}' resolves to {blocked}, a loopback, private, link-local or metadata address, which the HTTP tools may not reach (list the host in the tool's PrivateHosts setting to allow it).");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // The addresses just checked, not a second lookup.
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
