using System.Diagnostics.CodeAnalysis;

namespace CameraRpc.Protocol;

/// <summary>
/// The methods a dispatcher serves, found by the UTF-8 bytes of their name without making a string.
/// The source generator makes one per assembly (<c>GeneratedRpcMethods.Table</c>); a server combines
/// the built-in table with its own with <see cref="Combine"/>.
/// </summary>
/// <remarks>Immutable and thread-safe once constructed.</remarks>
public sealed partial class RpcMethodTable
{
    private readonly RpcMethod[] _methods;
    private readonly int[] _buckets; // open addressing: index + 1 into _methods, 0 = empty
    private readonly int _mask;
    private byte[]? _openRpcDocument;

    /// <param name="methods">The methods; two with the same name are an error.</param>
    public RpcMethodTable(IEnumerable<RpcMethod> methods)
        : this(methods, [])
    {
    }

    /// <param name="methods">The methods; two with the same name are an error.</param>
    /// <param name="topics">The topics (CONTRACT section 6); two with the same name are an error.</param>
    public RpcMethodTable(IEnumerable<RpcMethod> methods, IEnumerable<RpcTopicInfo> topics)
    {
        ArgumentNullException.ThrowIfNull(methods);
        _topics = SortTopics(topics);
        var list = new List<RpcMethod>(methods);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (int i = 1; i < list.Count; i++)
        {
            if (list[i].Name == list[i - 1].Name)
            {
                throw new ArgumentException($"Two methods are named '{list[i].Name}'.", nameof(methods));
            }
        }

        _methods = list.ToArray();

        // At most half full, so probe chains stay short.
        int size = 8;
        while (size < _methods.Length * 2)
        {
            size <<= 1;
        }

        _buckets = new int[size];
        _mask = size - 1;
        for (int i = 0; i < _methods.Length; i++)
        {
            int slot = Hash(_methods[i].Utf8Name.Span) & _mask;
            while (_buckets[slot] != 0)
            {
                slot = (slot + 1) & _mask;
            }

            _buckets[slot] = i + 1;
        }
    }

    /// <summary>The methods, in ordinal order of their names.</summary>
    public IReadOnlyList<RpcMethod> Methods => _methods;

    /// <summary>Title of the OpenRPC document's <c>info</c>.</summary>
    public string Title { get; init; } = "CameraRpc";

    /// <summary>Version of the OpenRPC document's <c>info</c>.</summary>
    public string Version { get; init; } = "1.0.0";

    /// <summary>One table with every method of <paramref name="tables"/>; a name in two of them is an error.</summary>
    public static RpcMethodTable Combine(params ReadOnlySpan<RpcMethodTable> tables)
    {
        var all = new List<RpcMethod>();
        var topics = new List<RpcTopicInfo>();
        foreach (RpcMethodTable table in tables)
        {
            all.AddRange(table._methods);
            topics.AddRange(table._topics);
        }

        return new RpcMethodTable(all, topics);
    }

    /// <summary>Finds a method by the UTF-8 bytes of its name.</summary>
    public bool TryFind(ReadOnlySpan<byte> utf8Name, [NotNullWhen(true)] out RpcMethod? method)
    {
        int slot = Hash(utf8Name) & _mask;
        while (true)
        {
            int entry = _buckets[slot];
            if (entry == 0)
            {
                method = null;
                return false;
            }

            RpcMethod candidate = _methods[entry - 1];
            if (candidate.Utf8Name.Span.SequenceEqual(utf8Name))
            {
                method = candidate;
                return true;
            }

            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>
    /// The OpenRPC 1.x document describing every method, as UTF-8 JSON; built once from the
    /// descriptors the generator wrote for each method.
    /// </summary>
    public ReadOnlyMemory<byte> OpenRpcDocument => _openRpcDocument ??= OpenRpcDocumentBuilder.Build(this);

    // FNV-1a: method names are short, and this needs no allocation and no seed.
    private static int Hash(ReadOnlySpan<byte> name)
    {
        uint hash = 2166136261;
        foreach (byte b in name)
        {
            hash = (hash ^ b) * 16777619;
        }

        return (int)(hash ^ (hash >> 15));
    }
}
