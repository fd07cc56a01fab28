using System.Net;
using CameraRpc.Protocol;
using CameraRpc.Server.Hosting;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Metrics;
using CameraRpc.Server.Security;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Endpoints;

/// <summary>
/// <c>POST {path}</c>: JSON-RPC over HTTP. Admission (origin 403, token 401), then 200 with the answer,
/// 204 when the body held only notifications, 413 for a body over <c>--max-message-bytes</c>.
/// </summary>
/// <remarks>
/// HTTP cannot carry server push, so the calls get an <see cref="RpcContext"/> without a notification
/// sink (<see cref="RpcContext.CanNotify"/> is false). The calls in flight are counted and can be
/// cancelled all at once, for the <see cref="Hosting.ShutdownCoordinator"/>.
/// </remarks>
internal sealed class HttpRpcEndpoint : IHttpEndpoint
{
    private readonly RpcDispatcher _dispatcher;
    private readonly ConnectionRegistry _connections;
    private readonly RequestAuthorizer _authorizer;
    private readonly ServerLog _log;
    private readonly ServerMetrics _metrics;
    private readonly int _maxMessageBytes;
    private readonly AccessControl _access;
    private readonly CancellationTokenSource _calls = new(); // cancelled when shutdown stops waiting for HTTP calls
    private int _callsInFlight;

    public HttpRpcEndpoint(
        RpcDispatcher dispatcher, ConnectionRegistry connections, RequestAuthorizer authorizer, ServerLog log, ServerMetrics metrics, int maxMessageBytes,
        AccessControl access)
    {
        _access = access;
        _dispatcher = dispatcher;
        _connections = connections;
        _authorizer = authorizer;
        _log = log;
        _metrics = metrics;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>Requests being read or answered now (counted from admission to the answer).</summary>
    public int CallsInFlight => Volatile.Read(ref _callsInFlight);

    /// <summary>Cancels the calls in flight, and every later one (shutdown stops waiting for them).</summary>
    public void CancelCalls() => _calls.Cancel();

    public async Task HandleAsync(HttpListenerContext context)
    {
        if (await AdmitAsync(context).ConfigureAwait(false) is not { } caller)
        {
            return;
        }

        Interlocked.Increment(ref _callsInFlight);
        try
        {
            (int received, int sent) = await AnswerAsync(context, _connections.NextId(), caller, _calls.Token).ConfigureAwait(false);
            _metrics.AddReceivedBytes(received);
            _metrics.AddSentBytes(sent);
        }
        catch (Exception exception) when (_calls.IsCancellationRequested && exception is OperationCanceledException or IOException or HttpListenerException)
        {
            // Shutdown ran out of time while the request was still arriving (its read ends with one of
            // these when the listener stops): there is no call to answer, and nothing went wrong.
            HttpResponses.Abort(context);
        }
        finally
        {
            Interlocked.Decrement(ref _callsInFlight);
        }
    }

    /// <summary>Admission: every check a POST must pass before its body is read; answers its own refusal.</summary>
    private Task<RequestCaller?> AdmitAsync(HttpListenerContext context) =>
        CallerCheck.CheckAsync(context, RequestCaller.Of(context.Request, _access), _authorizer, _log, allowQueryToken: false);

    /// <summary>Answers one POST; returns the request and answer sizes for the metrics.</summary>
    private async Task<(int Received, int Sent)> AnswerAsync(HttpListenerContext context, long connectionId, RequestCaller caller, CancellationToken cancellationToken)
    {
        HttpListenerRequest request = context.Request;
        if (request.ContentLength64 > _maxMessageBytes)
        {
            await HttpResponses.WriteTextAsync(context, 413, $"Request body larger than {_maxMessageBytes} bytes").ConfigureAwait(false);
            return (0, 0);
        }

        var body = new MessageAssembler(_maxMessageBytes);
        body.Begin(request.ContentLength64 > 0 ? (int)request.ContentLength64 + 1 : 4096);
        RpcResponseBuffer answer = RpcResponseBuffer.Rent();
        try
        {
            Stream input = request.InputStream;
            while (body.TryGetSpace(out Memory<byte> space))
            {
                int read = await input.ReadAsync(space, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                body.Advance(read);
            }

            int length = body.Length;
            if (body.IsOverLimit)
            {
                await HttpResponses.WriteTextAsync(context, 413, $"Request body larger than {_maxMessageBytes} bytes").ConfigureAwait(false);
                return (length, 0);
            }

            string? client = _log.IsEnabled(LogLevel.Info) ? caller.Display : null;
            if (client is not null)
            {
                _log.Received(client, body.Message.Span);
            }

            // --rate-limit-per-address: the POST's calls (times their cost) fit as a whole or it is 429.
            if (_access.AddressTable is { LimitsCalls: true }
                && !_access.TryTakeHttp(caller.Address, _dispatcher.MeasureCost(body.Message.Span), out long retryAfterMs))
            {
                await HttpResponses.WriteTooManyRequestsAsync(context, retryAfterMs, "over the rate limit of this address").ConfigureAwait(false);
                return (length, 0);
            }

            var rpcContext = new RpcContext(_dispatcher, connectionId, caller.EndPoint, sink: null) { Admission = _access.ForHttpRequest(caller.Identity) };
            bool answered = await _dispatcher.DispatchAsync(body.Message, answer, rpcContext, cancellationToken).ConfigureAwait(false);
            if (!answered)
            {
                await HttpResponses.WriteAsync(context, 204, null, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
                return (length, 0);
            }

            if (client is not null)
            {
                _log.Sending(client, answer.WrittenSpan);
            }

            await HttpResponses.WriteAsync(context, 200, HttpResponses.Json, answer.WrittenMemory).ConfigureAwait(false);
            return (length, answer.WrittenCount);
        }
        finally
        {
            body.Release();
            RpcResponseBuffer.Return(answer);
        }
    }
}
