using System.Net;
using CameraRpc.Protocol;
using CameraRpc.Server.Logging;
using CameraRpc.Server.Transport;

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

    public HttpRpcEndpoint(RpcDispatcher dispatcher, ServerLog log, int maxMessageBytes)
    {
        _dispatcher = dispatcher;
        _log = log;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>Answers one POST; returns the request and answer sizes for the metrics.</summary>
    public async Task<(int Received, int Sent)> HandleAsync(HttpListenerContext context, long connectionId, CancellationToken cancellationToken)
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

            // The client's address is only made into text when bodies are logged.
            string? client = _log.IsEnabled(LogLevel.Info) ? request.RemoteEndPoint?.ToString() ?? "unknown" : null;
            if (client is not null)
            {
                _log.Received(client, body.Message.Span);
            }

            var rpcContext = new RpcContext(_dispatcher, connectionId, request.RemoteEndPoint, sink: null);
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
