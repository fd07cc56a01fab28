namespace CameraRpc.Protocol.Generator;

/// <summary>
/// Names of the incremental pipeline's steps. The incrementality tests look them up to check that a
/// change elsewhere in the compilation leaves every step cached.
/// </summary>
internal static class TrackingNames
{
    public const string Methods = nameof(Methods);
    public const string AssemblyName = nameof(AssemblyName);
    public const string Collected = nameof(Collected);
    public const string Table = nameof(Table);
    public const string ReferencedNames = nameof(ReferencedNames);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Topics = nameof(Topics);
    public const string TopicTable = nameof(TopicTable);
    public const string TopicDiagnostics = nameof(TopicDiagnostics);
}
