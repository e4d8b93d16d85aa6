using System.Net.Sockets;

namespace Agentry.Tests;

/// The real RabbitMQ and Redis that integration tests talk to. test.sh makes them reachable and
/// exports RABBITMQ_URL and REDIS_URL; without them the loopback defaults are tried. A server that
/// cannot be reached fails the test in CI (CI=true) and is reported as NOT RUN elsewhere: never a
/// silent pass.
public static class TestServers
{
    public static string RabbitMqUrl => Environment.GetEnvironmentVariable("RABBITMQ_URL") is { Length: > 0 } url ? url : "amqp://guest:guest@127.0.0.1:5672/";

    /// A StackExchange.Redis configuration string ("host:port"); redis://host:port is accepted too.
    public static string RedisConfiguration
    {
        get
        {
            var url = Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } value ? value : "127.0.0.1:6379";
            return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "redis" ? $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)}" : url;
        }
    }

    public static string RequireRabbitMq()
    {
        var uri = new Uri(RabbitMqUrl);
        Require("RabbitMQ", uri.Host, uri.Port > 0 ? uri.Port : 5672, "RABBITMQ_URL");
        return RabbitMqUrl;
    }

    public static string RequireRedis()
    {
        var endpoint = RedisConfiguration.Split(',')[0];
        var separator = endpoint.LastIndexOf(':');
        Require("Redis", endpoint[..separator], int.Parse(endpoint[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture), "REDIS_URL");
        return RedisConfiguration;
    }

    private static void Require(string server, string host, int port, string variable)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(host, port);
        }
        catch (SocketException e)
        {
            var message = $"NOT RUN: this test needs a real {server} and none answers at {host}:{port} ({e.SocketErrorCode}). "
                + $"Run ./test.sh, which installs and starts one, or set {variable}.";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(message);
            }

            TestContext.Error.WriteLine(message);
            Assert.Inconclusive(message);
        }
    }
}
