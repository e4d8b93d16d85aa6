using System.Net;
using System.Text.Json;

namespace Agentry.Distributed.Tests;

/// A Gateway process whose Memory is not there (being replaced, or too busy to answer in time): a
/// read it cannot answer is a 503 the caller may retry, with a Retry-After and a problem that says
/// so; not a 500, which would say the Gateway or the request is at fault.
// Ten seconds of waiting for an answer that does not come: it runs beside the other fixtures marked so.
[Parallelizable]
public sealed class When_the_services_behind_the_gateway_do_not_answer
{
    [Test]
    public async Task Should_answer_503_with_when_to_retry()
    {
        await using var deployment = await Deployment.StartAsync(extra: null, "Gateway");
        using var http = await deployment.GatewayClientAsync();

        // Both wait out the Gateway's 10 s for Memory at the same time.
        var answers = await Task.WhenAll(http.GetAsync("/approvals"), http.GetAsync($"/runs/{Guid.NewGuid()}"));

        foreach (var answer in answers)
        {
            var body = await answer.Content.ReadAsStringAsync();
            var what = $"{answer.RequestMessage!.RequestUri!.AbsolutePath}: {(int)answer.StatusCode} {body}";
            Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), what);
            Assert.That(answer.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), what);
            Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(),
                Is.EqualTo("A service behind the Gateway did not answer in time; it may be busy or restarting. Try again shortly."), what);
            Assert.That(answer.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)), what);
            answer.Dispose();
        }
    }
}
