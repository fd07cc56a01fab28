using System.Collections.Concurrent;
using CameraRpc.Server.Transport;

namespace CameraRpc.Server.Hosting;

/// <summary>
/// The live WebSocket connections: counted against <c>--max-connections</c>, walked at shutdown and by
/// the idle sweeper.
/// </summary>
/// <remarks>
/// A slot is reserved (<see cref="TryReserve"/>) before the upgrade so that the limit holds under a
/// burst of upgrades; the reservation becomes a registration once the connection exists.
/// Thread-safe.
/// </remarks>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, WebSocketConnection> _connections = new();
    private readonly int _limit;
    private int _reserved;
    private long _nextId;

    public ConnectionRegistry(int limit) => _limit = limit;

    /// <summary>Connections holding a slot (registered or about to be).</summary>
    public int Count => Volatile.Read(ref _reserved);

    /// <summary>A number unique to a new connection.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Takes a slot; false when the server is at <c>--max-connections</c>.</summary>
    public bool TryReserve()
    {
        int current = Volatile.Read(ref _reserved);
        while (current < _limit)
        {
            int seen = Interlocked.CompareExchange(ref _reserved, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Gives back a slot taken by <see cref="TryReserve"/>.</summary>
    /// <returns>The number of connections left.</returns>
    public int Release() => Interlocked.Decrement(ref _reserved);

    public void Add(WebSocketConnection connection) => _connections[connection.Id] = connection;

    public void Remove(WebSocketConnection connection) => _connections.TryRemove(connection.Id, out _);

    /// <summary>A snapshot of the live connections (allocates; for shutdown and the idle sweep only).</summary>
    public WebSocketConnection[] Snapshot() => _connections.Values.ToArray();

    /// <summary>Cancels the calls of every connection under back-pressure whose client has hung up.</summary>
    public void CancelCallsOfHungUpClients()
    {
        foreach (KeyValuePair<long, WebSocketConnection> entry in _connections)
        {
            entry.Value.CancelCallsIfPeerHungUp();
        }
    }

    /// <summary>Calls running on all connections now.</summary>
    public int CallsInFlight()
    {
        int total = 0;
        foreach (KeyValuePair<long, WebSocketConnection> entry in _connections)
        {
            total += entry.Value.CallsInFlight;
        }

        return total;
    }
}
