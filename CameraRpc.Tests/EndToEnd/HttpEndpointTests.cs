using System.Globalization;
using CameraRpc.Tests.EndToEnd.Support;
using CameraRpc.Tests.TestSupport;

namespace CameraRpc.Tests.EndToEnd;

/// <summary>Every plain-HTTP endpoint and status code of CONTRACT section 2, against the real executable.</summary>
[NonParallelizable]
public sealed class HttpEndpointTests
{
    [Test, CancelAfter(30_000)]
    public async Task post_of_a_call_is_200_application_json_with_the_answer(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);

        HttpAnswer answer = await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(1), cancellationToken);

        answer.Status.Should().Be(200, "a JSON-RPC call over HTTP is answered with 200");
        answer.ContentType.Should().StartWith("application/json", "the answer is JSON");
        answer.Body.Should().Be(RpcMessages.Pong(1), "ping answers pong with the id of the call");
    }

    [Test, CancelAfter(30_000)]
    public async Task post_of_a_body_that_is_not_json_is_200_with_a_parse_error(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);

        HttpAnswer answer = await HttpExchange.PostAsync(server.HttpUri(), "this is not JSON", cancellationToken);

        answer.Status.Should().Be(200, "a body that is not JSON still gets a JSON-RPC answer, not an HTTP error");
        answer.ContentType.Should().StartWith("application/json", "the -32700 answer is JSON");
        answer.Body.Should().Be("""{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}""", "not JSON is -32700 with id null");
    }

    [TestCase("""{"jsonrpc":"2.0","method":"ping"}""", TestName = "post_of_one_notification_is_204_without_a_body")]
    [TestCase("""[{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","method":"echo","params":[1]}]""", TestName = "post_of_a_batch_of_notifications_is_204_without_a_body")]
    [CancelAfter(30_000)]
    public async Task post_of_notifications_only(string body, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);

        HttpAnswer answer = await HttpExchange.PostAsync(server.HttpUri(), body, cancellationToken);

        answer.Status.Should().Be(204, "notifications are never answered, so there is no content");
        answer.Body.Should().BeEmpty("a 204 has no body");
    }

    [Test, CancelAfter(30_000)]
    public async Task post_of_a_body_exactly_at_max_message_bytes_is_answered_and_one_byte_more_is_413(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken, "--max-message-bytes", "200");
        string atLimit = RpcMessages.EchoOfLength(200);
        string overLimit = RpcMessages.EchoOfLength(201);

        HttpAnswer accepted = await HttpExchange.PostAsync(server.HttpUri(), atLimit, cancellationToken);
        HttpAnswer refused = await HttpExchange.PostAsync(server.HttpUri(), overLimit, cancellationToken);

        accepted.Status.Should().Be(200, "a body of exactly --max-message-bytes is within the limit");
        accepted.Body.Should().Be(RpcMessages.EchoAnswer(atLimit), "the body at the limit is executed normally");
        refused.Status.Should().Be(413, "a body one byte over --max-message-bytes is too large");
    }

    [TestCase("PUT")]
    [TestCase("DELETE")]
    [TestCase("PATCH")]
    [TestCase("OPTIONS")]
    [CancelAfter(30_000)]
    public async Task any_other_method_on_the_path_is_405_with_an_allow_header(string method, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);

        // A body, so that HttpListener does not answer 411 Length Required on its own.
        HttpAnswer answer = await HttpExchange.SendAsync(new HttpMethod(method), server.HttpUri(), RpcMessages.Ping(1), cancellationToken);

        answer.Status.Should().Be(405, $"{method} is not a method of the JSON-RPC endpoint");
        string allow = string.Join(", ", answer.ContentHeaders.Allow);
        allow.Should().Contain("GET", "405 must say which methods are allowed, and GET upgrades").And.Contain("POST", "POST carries calls");
    }

    [Test, CancelAfter(30_000)]
    public async Task get_on_the_path_without_an_upgrade_is_426(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);

        HttpAnswer answer = await HttpExchange.GetAsync(server.HttpUri(), cancellationToken);

        answer.Status.Should().Be(426, "a GET of the JSON-RPC path must be a WebSocket upgrade");
    }

    [Test, CancelAfter(30_000)]
    public async Task healthz_is_ok_with_the_number_of_open_websockets(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        Uri healthz = server.HttpUri("/healthz");

        HttpAnswer first = await HttpExchange.GetAsync(healthz, cancellationToken);
        first.Status.Should().Be(200, "a running server is healthy");
        first.ContentType.Should().StartWith("application/json", "/healthz answers JSON");
        first.Body.Should().Be("""{"status":"ok","connections":0}""", "no WebSocket is open yet");

        await using RpcTestClient one = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        await using RpcTestClient two = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await two.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "the connection is live");

        (await HttpExchange.GetAsync(healthz, cancellationToken)).Body
            .Should().Be("""{"status":"ok","connections":2}""", "two WebSockets are open; HTTP requests do not count");
    }

    [Test, CancelAfter(30_000)]
    public async Task metrics_is_prometheus_text_with_every_metric_of_the_contract(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        await using RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken);
        (await client.CallAsync(RpcMessages.Ping(1), cancellationToken)).Should().Be(RpcMessages.Pong(1), "one call, so that the labelled series exist");
        await client.CallAsync("""{"jsonrpc":"2.0","method":"nope","id":2}""", cancellationToken);

        HttpAnswer answer = await HttpExchange.GetAsync(server.HttpUri("/metrics"), cancellationToken);

        answer.Status.Should().Be(200, "/metrics is always served");
        answer.ContentType.Should().StartWith("text/plain; version=0.0.4", "this is the Prometheus text exposition format's content type");
        foreach (string name in new[]
        {
            "camerarpc_connections", "camerarpc_connections_total", "camerarpc_calls_total", "camerarpc_call_duration_seconds",
            "camerarpc_received_bytes_total", "camerarpc_sent_bytes_total", "camerarpc_errors_total", "camerarpc_log_lines_dropped_total",
        })
        {
            answer.Body.Should().Contain($"# TYPE {name} ", $"contract section 2 lists {name}");
        }

        answer.Body.Should().Contain("# TYPE camerarpc_connections gauge", "open connections go up and down");
        answer.Body.Should().Contain("# TYPE camerarpc_call_duration_seconds histogram", "call durations are a histogram");
        Sample(answer.Body, "camerarpc_connections").Should().Be(1, "one WebSocket is open");
        Sample(answer.Body, "camerarpc_calls_total{method=\"ping\",outcome=\"success\"}").Should().Be(1, "one ping succeeded");
        Sample(answer.Body, "camerarpc_errors_total{code=\"-32601\"}").Should().Be(1, "one call named an unknown method");
    }

    [TestCase("/healthz", TestName = "head_of_healthz_has_the_headers_of_get_and_no_body")]
    [TestCase("/metrics", TestName = "head_of_metrics_has_the_headers_of_get_and_no_body")]
    [CancelAfter(30_000)]
    public async Task head_has_no_body(string path, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.Port, cancellationToken);
        System.Net.Sockets.NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nConnection: close\r\n\r\n"), cancellationToken);

        using var received = new MemoryStream();
        await stream.CopyToAsync(received, cancellationToken); // to the server's end of the connection
        string response = System.Text.Encoding.ASCII.GetString(received.ToArray());

        response.Should().StartWith("HTTP/1.1 200", "HEAD is answered like GET");
        response.Should().MatchRegex("(?i)content-length: [1-9]", "with the length the GET body would have");
        response.Should().EndWith("\r\n\r\n", "and nothing after the headers: a body would be read as the next response on a kept-alive connection");
    }

    [Test, CancelAfter(30_000)]
    public async Task metrics_counters_move_after_calls(CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);
        Uri metrics = server.HttpUri("/metrics");
        string before = (await HttpExchange.GetAsync(metrics, cancellationToken)).Body;

        await using (RpcTestClient client = await RpcTestClient.ConnectAsync(server.WebSocketUri, cancellationToken))
        {
            for (int id = 1; id <= 3; id++)
            {
                (await client.CallAsync(RpcMessages.Ping(id), cancellationToken)).Should().Be(RpcMessages.Pong(id), "the server answers");
            }
        }

        (await HttpExchange.PostAsync(server.HttpUri(), RpcMessages.Ping(4), cancellationToken)).Status.Should().Be(200, "an HTTP call counts too");
        string after = (await HttpExchange.GetAsync(metrics, cancellationToken)).Body;

        Sample(after, "camerarpc_connections_total").Should().Be(Sample(before, "camerarpc_connections_total") + 1, "one WebSocket was accepted");
        Sample(after, "camerarpc_calls_total{method=\"ping\",outcome=\"success\"}").Should().Be(4, "three pings over WebSocket and one over HTTP");
        Sample(after, "camerarpc_call_duration_seconds_count").Should().Be(Sample(before, "camerarpc_call_duration_seconds_count") + 4, "every call is timed");
        Sample(after, "camerarpc_received_bytes_total").Should().BeGreaterThan(Sample(before, "camerarpc_received_bytes_total"), "the calls were received");
        Sample(after, "camerarpc_sent_bytes_total").Should().BeGreaterThan(Sample(before, "camerarpc_sent_bytes_total"), "the answers were sent");
    }

    [TestCase("/console/nothing.js")] // "/" is the browser console (BrowserConsole/ConsoleEndpointTests)
    [TestCase("/nothing")]
    [TestCase("/ws/more")]
    [TestCase("/healthz/more")]
    [CancelAfter(30_000)]
    public async Task any_other_path_is_404(string path, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(cancellationToken);

        HttpAnswer get = await HttpExchange.GetAsync(server.HttpUri(path), cancellationToken);
        HttpAnswer post = await HttpExchange.PostAsync(server.HttpUri(path), RpcMessages.Ping(1), cancellationToken);

        get.Status.Should().Be(404, $"{path} is not an endpoint");
        post.Status.Should().Be(404, $"{path} is not an endpoint, whatever the method");
    }

    /// <summary>The value of the sample <paramref name="series"/> (name and labels, exactly) in a Prometheus text.</summary>
    private static double Sample(string text, string series)
    {
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        Assert.Fail($"the metrics have no sample {series}:\n{text}");
        return double.NaN;
    }
}
