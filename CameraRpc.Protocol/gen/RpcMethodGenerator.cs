using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CameraRpc.Protocol.Generator;

/// <summary>
/// Finds every <c>[RpcMethod]</c> method of a compilation and emits <c>GeneratedRpcMethods.Table</c>:
/// an invoker per method (parameter binding, call, result writing) and its OpenRPC description.
/// </summary>
/// <remarks>
/// Symbols are turned into equatable models in the first step (<see cref="Parser"/>), so an edit that
/// does not touch an <c>[RpcMethod]</c> method leaves every later step cached. Source and diagnostics
/// are separate outputs so that moving a method (which changes only diagnostic locations) does not
/// re-emit the source.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed partial class RpcMethodGenerator : IIncrementalGenerator
{
    private const string RpcMethodAttributeName = "CameraRpc.Protocol.RpcMethodAttribute";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<RpcMethodParseResult> methods = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                RpcMethodAttributeName,
                predicate: static (node, _) => node is MethodDeclarationSyntax,
                transform: static (syntaxContext, cancellationToken) => Parser.Parse(syntaxContext, cancellationToken))
            .WithTrackingName(TrackingNames.Methods);

        // The assembly name gives the namespace; whether the compilation references CameraRpc.Protocol
        // decides whether an empty table is emitted, so that a project which references the engine can
        // always name its GeneratedRpcMethods.Table, even before its first [RpcMethod].
        IncrementalValueProvider<(string? Name, bool ReferencesProtocol)> assemblyName = context.CompilationProvider
            .Select(static (compilation, _) => (compilation.AssemblyName, compilation.GetTypeByMetadataName(RpcMethodAttributeName) is not null))
            .WithTrackingName(TrackingNames.AssemblyName);

        IncrementalValueProvider<ImmutableArray<RpcMethodParseResult>> collected = methods
            .Collect()
            .WithTrackingName(TrackingNames.Collected);

        IncrementalValueProvider<RpcTableSpec?> table = collected
            .Combine(assemblyName)
            .Select(static (input, _) => Parser.BuildTable(input.Left, input.Right.Name, input.Right.ReferencesProtocol))
            .WithTrackingName(TrackingNames.Table);

        // The names in the tables of referenced assemblies (the built-ins, at least), for CRPC002. The
        // references rarely change, so the result is equal, and everything after it cached, on most edits.
        IncrementalValueProvider<EquatableArray<ReferencedMethodName>> referencedNames = context.CompilationProvider
            .Select(static (compilation, cancellationToken) => Parser.ReferencedNames(compilation, cancellationToken))
            .WithTrackingName(TrackingNames.ReferencedNames);

        IncrementalValueProvider<EquatableArray<DiagnosticInfo>> diagnostics = collected
            .Combine(referencedNames)
            .Select(static (input, _) => Parser.BuildDiagnostics(input.Left, input.Right))
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(table, static (output, spec) =>
        {
            // Not a CameraRpc project at all: nothing to add, not even an empty class.
            if (spec is not null)
            {
                output.AddSource(Emitter.FileName, Emitter.Emit(spec));
            }
        });

        context.RegisterSourceOutput(diagnostics, static (output, infos) =>
        {
            foreach (DiagnosticInfo info in infos)
            {
                output.ReportDiagnostic(info.ToDiagnostic());
            }
        });

        InitializeTopics(context, assemblyName);
    }
}
