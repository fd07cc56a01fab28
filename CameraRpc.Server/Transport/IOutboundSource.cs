using System.Diagnostics.CodeAnalysis;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Transport;

/// <summary>
/// Messages that a connection's <see cref="OutboundWriter"/> pulls when it is ready to write them,
/// such as one subscription's events: the source keeps its own bound (a bounded queue, or only the
/// latest value when it coalesces), so a client that stops reading costs at most that bound.
/// </summary>
/// <remarks>
/// <para>A source with a message calls <see cref="OutboundWriter.Schedule"/> (from any thread). When
/// its turn in the writer's queue comes, the writer calls <see cref="TryTakeNext"/>; a source that
/// hands over a message is put back at the end of the queue (so several sources and the answers
/// share the connection in turn), a source that returns false leaves the queue.</para>
/// <para>Keep a "scheduled" flag under the source's own lock: set it when calling
/// <see cref="OutboundWriter.Schedule"/>, clear it when <see cref="TryTakeNext"/> returns false, and
/// schedule only when it is clear. A duplicate schedule is harmless (the extra turn finds nothing) but
/// costs a queue slot. After the connection's close frame, or once it broke, sources are no longer
/// pulled: a source ends its subscription when its connection ends, not through the writer.</para>
/// </remarks>
internal interface IOutboundSource
{
    /// <summary>
    /// Called by the connection's writer only, one call at a time. Hands over the next message (the
    /// writer returns it to <see cref="RpcResponseBuffer.Return"/> once sent), or returns false when
    /// the source has nothing now.
    /// </summary>
    bool TryTakeNext([NotNullWhen(true)] out RpcResponseBuffer? message);
}
