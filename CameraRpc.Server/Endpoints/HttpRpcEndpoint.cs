using System.Buffers;
using System.Net;
using CameraRpc.Protocol;
using CameraRpc.Server.Hosting;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Security;

namespace CameraRpc.Server.Endpoints;

/// <summary>
/// <c>POST {path}</c>: JSON-RPC over HTTP. 200 with the answer, 204 when the body held only
/// notifications, 413 for a body over <c>--max-message-bytes</c>.
/// </summary>
/// <remarks>
/// HTTP cannot carry server push, so the calls get an <see cref="RpcContext"/> without a notification
/// sink (<see cref="RpcContext.CanNotify"/> is false).
/// </remarks>
internal sealed class HttpRpcEndpoint
{
    private readonly RpcDispatcher _dispatcher;
    private readonly ServerLog _log;
    private readonly int _maxMessageBytes;
    private readonly AccessControl? _access;

    public HttpRpcEndpoint(RpcDispatcher dispatcher, ServerLog log, int maxMessageBytes, AccessControl? access = null)
    {
        _access = access;
        _dispatcher = dispatcher;
        _log = log;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>Answers one POST; returns the request and answer sizes for the metrics.</summary>
    public async Task<(int Received, int Sent)> HandleAsync(HttpListenerContext context, long connectionId, RequestCaller caller, CancellationToken cancellationToken)
    {
        HttpListenerRequest request = context.Request;
        if (request.ContentLength64 > _maxMessageBytes)
        {
            await HttpResponses.WriteTextAsync(context, 413, $"Request body larger than {_maxMessageBytes} bytes").ConfigureAwait(false);
            return (0, 0);
        }

        byte[] body = ArrayPool<byte>.Shared.Rent(request.ContentLength64 > 0 ? (int)request.ContentLength64 + 1 : 4096);
        RpcResponseBuffer answer = RpcResponseBuffer.Rent();
        try
        {
            int length = 0;
            Stream input = request.InputStream;
            while (true)
            {
                if (length == body.Length)
                {
                    if (length > _maxMessageBytes)
                    {
                        break;
                    }

                    byte[] grown = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)body.Length * 2, (long)_maxMessageBytes + 1));
                    body.AsSpan(0, length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(body);
                    body = grown;
                }

                int read = await input.ReadAsync(body.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > _maxMessageBytes)
            {
                await HttpResponses.WriteTextAsync(context, 413, $"Request body larger than {_maxMessageBytes} bytes").ConfigureAwait(false);
                return (length, 0);
            }

            string? client = _log.IsEnabled(LogLevel.Info) ? caller.Display : null;
            if (client is not null)
            {
                _log.Received(client, body.AsSpan(0, length));
            }

            // --rate-limit-per-address: the POST's calls (times their cost) fit as a whole or it is 429.
            if (_access?.AddressTable is { LimitsCalls: true }
                && !_access.TryTakeHttp(caller.Address, _dispatcher.MeasureCost(body.AsSpan(0, length)), out long retryAfterMs))
            {
                await RpcServer.WriteTooManyRequestsAsync(context, retryAfterMs, "over the rate limit of this address").ConfigureAwait(false);
                return (length, 0);
            }

            var rpcContext = new RpcContext(_dispatcher, connectionId, caller.EndPoint, sink: null, _access?.ForHttpRequest(caller.Identity));
            bool answered = await _dispatcher.DispatchAsync(body.AsMemory(0, length), answer, rpcContext, cancellationToken).ConfigureAwait(false);
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
            ArrayPool<byte>.Shared.Return(body);
            RpcResponseBuffer.Return(answer);
        }
    }
}
