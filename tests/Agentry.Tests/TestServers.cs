using System.Diagnostics;
using System.Net.Sockets;
using Testcontainers.RabbitMq;
using Testcontainers.Redis;

namespace Agentry.Tests;

/// The real RabbitMQ and Redis that integration tests talk to. test.sh makes them reachable and
/// exports RABBITMQ_URL and REDIS_URL; on a machine with a Docker engine it sets
/// AGENTRY_TESTCONTAINERS=1 instead and the servers are started here, once per test run. A server
/// that cannot be reached fails the test in CI (CI=true) and is reported as NOT RUN elsewhere:
/// never a silent pass.
public static class TestServers
{
    private static readonly Lazy<(RabbitMqContainer RabbitMq, RedisContainer Redis)?> Containers = new(StartContainers);

    public static string RabbitMqUrl =>
        Environment.GetEnvironmentVariable("RABBITMQ_URL") is { Length: > 0 } url ? url
        : Containers.Value is { } started ? started.RabbitMq.GetConnectionString()
        : "amqp://guest:guest@127.0.0.1:5672/";

    /// A StackExchange.Redis configuration string ("host:port"); redis://host:port is accepted too.
    public static string RedisConfiguration
    {
        get
        {
            var url = Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } value ? value
                : Containers.Value is { } started ? started.Redis.GetConnectionString()
                : "127.0.0.1:6379";
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

    /// rabbitmqctl against the test broker: the local one, or inside the Testcontainers container.
    /// Returns null when neither is available (a remote broker given by RABBITMQ_URL).
    public static async Task<(int ExitCode, string Output)?> RabbitMqCtlAsync(params string[] arguments)
    {
        if (Containers.Value is { } started)
        {
            var result = await started.RabbitMq.ExecAsync(["rabbitmqctl", .. arguments]);
            return ((int)result.ExitCode!, result.Stdout);
        }

        try
        {
            var start = new ProcessStartInfo("rabbitmqctl") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static (RabbitMqContainer, RedisContainer)? StartContainers()
    {
        if (Environment.GetEnvironmentVariable("AGENTRY_TESTCONTAINERS") != "1")
        {
            return null;
        }

        var rabbitMq = new RabbitMqBuilder("rabbitmq:3.13-management").WithUsername("guest").WithPassword("guest").Build();
        var redis = new RedisBuilder("redis:7").Build();
        Task.WaitAll(rabbitMq.StartAsync(), redis.StartAsync());
        TestContext.Progress.WriteLine($"Testcontainers: RabbitMQ at {rabbitMq.GetConnectionString()}, Redis at {redis.GetConnectionString()}");
        return (rabbitMq, redis);
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
            Unavailable($"NOT RUN: this test needs a real {server} and none answers at {host}:{port} ({e.SocketErrorCode}). "
                + $"Run ./test.sh, which installs and starts one, or set {variable}.");
        }
    }

    /// Ends a test that lacks a server: a failure in CI (CI=true), a loud NOT RUN elsewhere.
    public static void Unavailable(string message)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(message);
        }

        TestContext.Error.WriteLine(message);
        NotRun.Report(message);
        Assert.Inconclusive(message);
    }
}
