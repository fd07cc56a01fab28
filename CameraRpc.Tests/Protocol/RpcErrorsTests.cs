using System.Text;
using CameraRpc.Protocol;
using FluentAssertions;
using NUnit.Framework;

namespace CameraRpc.Tests.Protocol;

/// <summary>The error answers of this round's contract rows (sections 6 and 8), byte for byte.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class RpcErrorsTests
{
    private static string Written(Action<RpcResponseBuffer> write)
    {
        var buffer = new RpcResponseBuffer();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Test]
    public void forbidden_names_the_scope_the_token_lacks() =>
        Written(b => RpcErrors.WriteForbidden(b, "camera.write", "7"u8)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32001,"message":"Forbidden","data":{"scope":"camera.write"}},"id":7}""");

    [Test]
    public void a_subscription_over_http_is_not_available() =>
        Written(b => RpcErrors.WriteNotAvailableOverHttp(b, "\"s\""u8)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32004,"message":"Not available over HTTP"},"id":"s"}""");

    [Test]
    public void a_rate_limited_call_says_when_to_retry() =>
        Written(b => RpcErrors.WriteRateLimitExceeded(b, 250, "1"u8)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32005,"message":"Rate limit exceeded","data":{"retryAfterMs":250}},"id":1}""");

    [Test]
    public void too_many_subscriptions_has_its_own_code() =>
        Written(b => RpcErrors.WriteTooManySubscriptions(b, "2"u8)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32006,"message":"Too many subscriptions"},"id":2}""");

    [Test]
    public void a_cancelled_request_uses_the_lsp_code() =>
        Written(b => RpcErrors.WriteRequestCancelled(b, "3"u8)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32800,"message":"Request cancelled"},"id":3}""");

    [Test]
    public void an_unknown_topic_is_invalid_params_with_reason_unknown() =>
        Written(b => RpcErrors.WriteInvalidParams(b, "topic", RpcParamFailure.Unknown, "4"u8)).Should().Be(
            """{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"topic","reason":"unknown"}},"id":4}""");
}
