using Microsoft.CodeAnalysis;

namespace CameraRpc.Protocol.Generator;

/// <summary>
/// The CRPC diagnostics: every mistake in an <c>[RpcMethod]</c> signature is a compile-time error,
/// never a runtime surprise (contract section 3, "Adding a method"). Ids are listed in
/// AnalyzerReleases.Unshipped.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "CameraRpc";

    public static readonly DiagnosticDescriptor MethodNotStatic = new(
        id: "CRPC001",
        title: "RPC method must be static",
        messageFormat: "The [RpcMethod] method '{0}' must be static",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateName = new(
        id: "CRPC002",
        title: "Duplicate RPC method name",
        messageFormat: "The RPC method name '{0}' is already used by '{1}'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedParameterType = new(
        id: "CRPC003",
        title: "Unsupported RPC parameter type",
        messageFormat: "The parameter '{0}' has type '{1}', which [RpcMethod] cannot bind; use a string, number, bool, enum, array, JsonElement or RpcRawJson, or name a JsonSerializerContext with [RpcJsonContext] on the class or assembly",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
        id: "CRPC004",
        title: "Unsupported RPC return type",
        messageFormat: "The return type '{0}' of '{1}' cannot be written as a JSON-RPC result; return void, Task, ValueTask or a supported type (name a JsonSerializerContext with [RpcJsonContext] for other types)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidName = new(
        id: "CRPC005",
        title: "Invalid RPC method name",
        messageFormat: "The RPC method name '{0}' is empty or starts with 'rpc.', which the JSON-RPC specification reserves for the system",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor Inaccessible = new(
        id: "CRPC006",
        title: "RPC method cannot be called by generated code",
        messageFormat: "'{0}' cannot be called by the generated method table: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor TypeNotInJsonContext = new(
        id: "CRPC007",
        title: "Type missing from the JSON context",
        messageFormat: "The type '{0}' is not in the JsonSerializerContext '{1}', so the server could not start; add [JsonSerializable(typeof({0}))] to the context",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    // Topics (CONTRACT section 6). Numbered from 010 so that method rules can grow without a clash.
    public static readonly DiagnosticDescriptor InvalidTopicDeclaration = new(
        id: "CRPC010",
        title: "Invalid topic declaration",
        messageFormat: "'{0}' cannot be a topic: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "[RpcTopic] goes on a static field or get-only property of type RpcTopic<T> (a fed topic), or on a static method returning IAsyncEnumerable<T> (a per-subscriber topic), reachable from the assembly (public or internal), in a non-generic type.");

    public static readonly DiagnosticDescriptor InvalidTopicName = new(
        id: "CRPC011",
        title: "Invalid topic name",
        messageFormat: "The topic name '{0}' is empty or starts with 'rpc.', which the JSON-RPC specification reserves for the system",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateTopicName = new(
        id: "CRPC012",
        title: "Duplicate topic name",
        messageFormat: "The topic name '{0}' is already used by '{1}'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidTopicBound = new(
        id: "CRPC013",
        title: "Invalid topic capacity or overflow policy",
        messageFormat: "The topic '{0}' declares {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidAccess = new(
        id: "CRPC020",
        title: "Invalid scope or cost",
        messageFormat: "The [RpcMethod] attribute of '{0}' is not valid: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);
}
