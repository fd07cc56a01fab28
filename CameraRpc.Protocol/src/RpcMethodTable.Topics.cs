using System.Diagnostics.CodeAnalysis;

namespace CameraRpc.Protocol;

public sealed partial class RpcMethodTable
{
    private readonly RpcTopicInfo[] _topics;

    /// <summary>The topics, in ordinal order of their names.</summary>
    public IReadOnlyList<RpcTopicInfo> Topics => _topics;

    /// <summary>Finds a topic by the UTF-8 bytes of its name (once per <c>rpc.subscribe</c>, so a plain scan).</summary>
    public bool TryFindTopic(ReadOnlySpan<byte> utf8Name, [NotNullWhen(true)] out RpcTopicInfo? topic)
    {
        foreach (RpcTopicInfo candidate in _topics)
        {
            if (candidate.Utf8Name.Span.SequenceEqual(utf8Name))
            {
                topic = candidate;
                return true;
            }
        }

        topic = null;
        return false;
    }

    private static RpcTopicInfo[] SortTopics(IEnumerable<RpcTopicInfo> topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var list = new List<RpcTopicInfo>(topics);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (int i = 1; i < list.Count; i++)
        {
            if (list[i].Name == list[i - 1].Name)
            {
                throw new ArgumentException($"Two topics are named '{list[i].Name}'.", nameof(topics));
            }
        }

        return [.. list];
    }
}
