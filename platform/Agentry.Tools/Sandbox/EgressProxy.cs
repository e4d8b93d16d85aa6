using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Agentry.Agents;
using Microsoft.Extensions.Logging;

namespace Agentry.Tools;

/// The one way out of a sandboxed call whose agent lists sandbox.allowed_hosts (docs/sandbox.md,
/// Egress): a CONNECT proxy on a unix socket that only that call's sandbox sees. It is enforced here,
/// outside the sandbox: a tunnel opens only to a listed host and port, the host is resolved here and
/// every address checked as the HTTP tools check theirs (no loopback, private, link-local or metadata
/// address unless the host is in Tools:Sandbox:Egress:PrivateHosts), and the connection goes to the
/// address checked, with no second lookup. Plain-HTTP forwarding is refused. Each tunnel is logged and
/// recorded on the call's span; all of them close when the call ends.
public sealed partial class EgressProxy : IAsyncDisposable
{
    public const string SocketName = "proxy.sock";
    private const int MaxHeaderBytes = 8 << 10;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _tunnels = [];
    private readonly Lock _gate = new();
    private readonly IReadOnlyList<string> _allowedHosts;
    private readonly IHostResolver _resolver;
    private readonly SandboxEgressOptions _settings;
    private readonly ILogger _logger;
    private readonly Activity? _span;
    private readonly string _call;
    private readonly Task _accepting;
    private long _bytesLeft;

    private EgressProxy(string folder, IReadOnlyList<string> allowedHosts, IHostResolver resolver, SandboxEgressOptions settings, ILogger logger, string call)
    {
        Folder = folder;
        _allowedHosts = allowedHosts;
        _resolver = resolver;
        _settings = settings;
        _logger = logger;
        _call = call;
        _span = Activity.Current;
        _bytesLeft = settings.MaxBytesPerCall;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var path = Path.Combine(folder, SocketName);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(16);
        // The sandbox runs as another host uid (the service may be root): it must reach the socket,
        // and nothing else is in this folder.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
        }
        _accepting = AcceptAsync();
    }

    /// The folder holding the socket, bind-mounted into the sandbox.
    public string Folder { get; }

    public static EgressProxy Start(IReadOnlyList<string> allowedHosts, IHostResolver resolver, SandboxEgressOptions settings, ILogger logger, string call)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"agentry-egress-{Guid.NewGuid():N}")).FullName;
        try
        {
            return new EgressProxy(folder, allowedHosts, resolver, settings, logger, call);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        Task[] open;
        lock (_gate)
        {
            open = [.. _tunnels, _accepting];
        }

        await Task.WhenAll(open.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        _stopping.Dispose();
        Directory.Delete(Folder, recursive: true);
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            lock (_gate)
            {
                _tunnels.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        await using var inside = new NetworkStream(client, ownsSocket: false);
        string target;
        using (var header = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            header.CancelAfter(_settings.HeaderTimeout);
            try
            {
                target = await ReadConnectTargetAsync(inside, header.Token);
            }
            catch (EgressRefusedException refused)
            {
                await RefuseAsync(inside, refused.Status, refused.Target, refused.Message);
                return;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
                Record("-", refusal: "the request did not arrive in time or the connection broke", bytes: 0);
                return;
            }
        }

        Socket upstream;
        try
        {
            upstream = await OpenAsync(target);
        }
        catch (EgressRefusedException refused)
        {
            await RefuseAsync(inside, refused.Status, target, refused.Message);
            return;
        }

        using (upstream)
        {
            await using var outside = new NetworkStream(upstream, ownsSocket: false);
            await inside.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), _stopping.Token);
            using var tunnel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var up = CopyAsync(inside, outside, tunnel);
            var down = CopyAsync(outside, inside, tunnel);
            var bytes = await up + await down;
            Record(target, refusal: Interlocked.Read(ref _bytesLeft) <= 0 ? $"closed at the call's limit of {_settings.MaxBytesPerCall} bytes" : null, bytes);
        }
    }

    /// The CONNECT request's host:port. Anything else is refused: only tunnels leave the sandbox.
    private static async Task<string> ReadConnectTargetAsync(Stream inside, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxHeaderBytes];
        var length = 0;
        while (true)
        {
            var read = await inside.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                throw new IOException("closed before the request ended");
            }

            length += read;
            var text = Encoding.Latin1.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var line = text[..text.IndexOf("\r\n", StringComparison.Ordinal)].Split(' ');
                if (line is not ["CONNECT", var target, _])
                {
                    throw new EgressRefusedException(405, line.Length > 1 ? line[1] : "-", "Only CONNECT tunnels leave the sandbox (https, or http over a tunnel); plain-HTTP forwarding is refused.");
                }

                return target;
            }

            if (length == buffer.Length)
            {
                throw new EgressRefusedException(431, "-", $"The request's header is over {MaxHeaderBytes} bytes.");
            }
        }
    }

    private async Task<Socket> OpenAsync(string target)
    {
        var colon = target.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(target.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new EgressRefusedException(400, target, $"'{target}' is not host:port.");
        }

        var host = target[..colon].Trim('[', ']').ToLowerInvariant();
        if (!HostAllowList.Allows(_allowedHosts, host, port, portWhenUnnamed: 443))
        {
            throw new EgressRefusedException(403, target, $"{host}:{port} is not in the agent's sandbox.allowed_hosts ({string.Join(", ", _allowedHosts)}).");
        }

        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        connecting.CancelAfter(_settings.ConnectTimeout);
        IPAddress[] addresses;
        try
        {
            addresses = await _resolver.ResolveAsync(host, connecting.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            throw new EgressRefusedException(502, target, $"{host} did not resolve: {e.Message}");
        }

        if (addresses.Length == 0)
        {
            throw new EgressRefusedException(502, target, $"{host} did not resolve to any address.");
        }

        if (!_settings.PrivateHosts.Contains(host, StringComparer.OrdinalIgnoreCase) && addresses.FirstOrDefault(a => !AddressGuard.IsPublic(a)) is { } blocked)
        {
            throw new EgressRefusedException(403, target, $"{host} resolves to {blocked}, a loopback, private, link-local or metadata address, which sandboxed code may not reach.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // The addresses just checked, not a second lookup.
            await socket.ConnectAsync(addresses, port, connecting.Token);
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw new EgressRefusedException(502, target, $"{host}:{port} could not be reached: {e.Message}");
        }
    }

    /// Copies one direction until either side closes or the call's byte budget is spent, then ends the other.
    private async Task<long> CopyAsync(Stream from, Stream to, CancellationTokenSource tunnel)
    {
        var buffer = new byte[16 << 10];
        long copied = 0;
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, tunnel.Token)) > 0)
            {
                if (Interlocked.Add(ref _bytesLeft, -read) < 0)
                {
                    break;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), tunnel.Token);
                copied += read;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // Either side went away or the call ended.
        }

        await tunnel.CancelAsync();
        return copied;
    }

    private async Task RefuseAsync(Stream inside, int status, string target, string reason)
    {
        Record(target, reason, bytes: 0);
        var body = $"Agentry sandbox egress: {reason}\n";
        var response = $"HTTP/1.1 {status} {(status == 403 ? "Forbidden" : status == 405 ? "Method Not Allowed" : status == 502 ? "Bad Gateway" : "Bad Request")}\r\n"
            + $"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
        try
        {
            await inside.WriteAsync(Encoding.UTF8.GetBytes(response), _stopping.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // The code stopped listening.
        }
    }

    private void Record(string target, string? refusal, long bytes)
    {
        _span?.AddEvent(new ActivityEvent("sandbox.egress", tags: new ActivityTagsCollection
        {
            ["agentry.egress.target"] = target,
            ["agentry.egress.bytes"] = bytes,
            ["agentry.egress.refused"] = refusal,
        }));
        if (refusal is null)
        {
            LogTunnel(_logger, _call, target, bytes);
        }
        else
        {
            LogRefused(_logger, _call, target, refusal);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox egress of {Call}: tunnel to {Target} closed after {Bytes} bytes.")]
    private static partial void LogTunnel(ILogger logger, string call, string target, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox egress of {Call}: {Target} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string call, string target, string reason);

    private sealed class EgressRefusedException(int status, string target, string message) : Exception(message)
    {
        public int Status { get; } = status;

        public string Target { get; } = target;
    }
}
