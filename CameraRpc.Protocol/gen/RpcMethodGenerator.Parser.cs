using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CameraRpc.Protocol.Generator;

public sealed partial class RpcMethodGenerator
{
    /// <summary>What the parser makes of one <c>[RpcMethod]</c> method: a model when it is valid, and its diagnostics.</summary>
    /// <param name="Method">The model, or null when a diagnostic stops the method from being generated.</param>
    /// <param name="NameLocation">Where the RPC name is written, for the duplicate-name diagnostic.</param>
    /// <param name="Diagnostics">Errors found in the signature.</param>
    internal sealed record RpcMethodParseResult(RpcMethodSpec? Method, LocationInfo? NameLocation, EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>
    /// Turns symbols into equatable models. This is the only place that touches <see cref="ISymbol"/>:
    /// nothing it returns holds a symbol, a syntax node or the compilation.
    /// </summary>
    internal static partial class Parser
    {
        /// <summary>The assembly that defines the engine may use the reserved "rpc." prefix (rpc.discover).</summary>
        private const string ProtocolAssemblyName = "CameraRpc.Protocol";

        private const string ReservedPrefix = "rpc.";

        private const string RpcMethodNamesAttributeName = "CameraRpc.Protocol.RpcMethodNamesAttribute";

        private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        public static RpcMethodParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var method = (IMethodSymbol)context.TargetSymbol;
            var syntax = (MethodDeclarationSyntax)context.TargetNode;
            var diagnostics = new List<DiagnosticInfo>();
            LocationInfo? methodLocation = LocationInfo.From(syntax.Identifier.GetLocation());
            string methodDisplay = method.ContainingType.Name + "." + method.Name;

            AttributeData attribute = context.Attributes[0];
            string? rpcName = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
            string? summary = null;
            string? scope = null;
            int cost = 1;
            foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
            {
                switch (argument.Key)
                {
                    case "Summary":
                        summary = argument.Value.Value as string;
                        break;
                    case "Scope":
                        scope = argument.Value.Value as string;
                        if (scope is null || scope.Trim().Length == 0)
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidAccess, NamedArgumentLocation(attribute, "Scope", cancellationToken) ?? methodLocation, methodDisplay, "Scope is empty; leave it out for a method open to every valid token"));
                        }

                        break;
                    case "Cost":
                        cost = argument.Value.Value is int value ? value : 1;
                        if (cost < 1)
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidAccess, NamedArgumentLocation(attribute, "Cost", cancellationToken) ?? methodLocation, methodDisplay, "Cost is " + cost.ToString(System.Globalization.CultureInfo.InvariantCulture) + "; a call counts as at least 1 against rate limits"));
                        }

                        break;
                }
            }

            LocationInfo? nameLocation = methodLocation;
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax attributeSyntax
                && attributeSyntax.ArgumentList is { Arguments.Count: > 0 } arguments)
            {
                nameLocation = LocationInfo.From(arguments.Arguments[0].GetLocation());
            }

            string? assemblyName = context.SemanticModel.Compilation.AssemblyName;
            if (string.IsNullOrEmpty(rpcName)
                || (rpcName!.StartsWith(ReservedPrefix, StringComparison.Ordinal) && assemblyName != ProtocolAssemblyName))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, nameLocation, rpcName ?? string.Empty));
            }

            if (!method.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MethodNotStatic, methodLocation, methodDisplay));
            }

            string? inaccessibleReason = FindAccessProblem(method);
            if (inaccessibleReason is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.Inaccessible, methodLocation, methodDisplay, inaccessibleReason));
            }

            // A type parameter would also fail every type check below; one diagnostic says it better.
            if (method.IsGenericMethod)
            {
                return new RpcMethodParseResult(null, nameLocation, diagnostics.ToEquatableArray());
            }

            INamedTypeSymbol? jsonContextType = FindJsonContext(method.ContainingType) ?? FindJsonContext(context.SemanticModel.Compilation.Assembly);
            string? jsonContext = jsonContextType?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            JsonContextCoverage? coverage = null; // computed on the first complex type

            List<RpcParameterSpec> parameters = ParseParameters(
                method, syntax, methodLocation, DiagnosticDescriptors.Inaccessible, methodDisplay,
                jsonContext, jsonContextType, ref coverage, diagnostics, cancellationToken);

            RpcReturnShape shape;
            RpcTypeSpec? result = null;
            if (!TryClassifyReturn(method, jsonContext, out shape, out result))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.UnsupportedReturnType, LocationInfo.From(syntax.ReturnType.GetLocation()),
                    method.ReturnType.ToDisplayString(), methodDisplay));
            }
            else if (result is not null && MissingFromContext(result, jsonContextType, ref coverage) is string missing)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.TypeNotInJsonContext, LocationInfo.From(syntax.ReturnType.GetLocation()), missing, jsonContext!.Replace("global::", string.Empty)));
            }

            RpcMethodSpec? spec = diagnostics.Count == 0
                ? new RpcMethodSpec(
                    rpcName!,
                    summary,
                    method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                    method.Name,
                    parameters.ToEquatableArray(),
                    shape,
                    result,
                    scope,
                    cost)
                : null;

            return new RpcMethodParseResult(spec, nameLocation, diagnostics.ToEquatableArray());
        }

        /// <summary>Where a named argument of the attribute is written (<c>Cost = 0</c>), for its diagnostic.</summary>
        private static LocationInfo? NamedArgumentLocation(AttributeData attribute, string name, CancellationToken cancellationToken)
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax { ArgumentList: { } list })
            {
                foreach (AttributeArgumentSyntax argument in list.Arguments)
                {
                    if (argument.NameEquals?.Name.Identifier.ValueText == name)
                    {
                        return LocationInfo.From(argument.GetLocation());
                    }
                }
            }

            return null;
        }

        /// <summary>
        /// The table of a compilation: the valid methods, ordinal-sorted by RPC name so the output is
        /// deterministic. A name used twice keeps only its first method (CRPC002 reports the others).
        /// </summary>
        public static RpcTableSpec? BuildTable(ImmutableArray<RpcMethodParseResult> results, string? assemblyName, bool referencesProtocol)
        {
            if (results.IsDefaultOrEmpty && !referencesProtocol)
            {
                return null;
            }

            var methods = new List<RpcMethodSpec>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (RpcMethodParseResult result in OrderBySource(results.IsDefault ? ImmutableArray<RpcMethodParseResult>.Empty : results))
            {
                if (result.Method is not null && names.Add(result.Method.RpcName))
                {
                    methods.Add(result.Method);
                }
            }

            methods.Sort(static (a, b) => string.CompareOrdinal(a.RpcName, b.RpcName));
            return new RpcTableSpec(ToNamespace(assemblyName), methods.ToEquatableArray());
        }

        /// <summary>
        /// The method names of the generated tables of every assembly the compilation references (the
        /// engine's built-ins among them), read from their <c>[assembly: RpcMethodNames]</c>.
        /// </summary>
        public static EquatableArray<ReferencedMethodName> ReferencedNames(Compilation compilation, CancellationToken cancellationToken)
        {
            var names = new List<ReferencedMethodName>();
            INamedTypeSymbol? attributeType = compilation.GetTypeByMetadataName(RpcMethodNamesAttributeName);
            if (attributeType is null)
            {
                return names.ToEquatableArray();
            }

            foreach (IAssemblySymbol assembly in compilation.SourceModule.ReferencedAssemblySymbols)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (assembly.Name == compilation.AssemblyName)
                {
                    continue; // an earlier build of the same assembly is not another table
                }

                foreach (AttributeData attribute in assembly.GetAttributes())
                {
                    if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, attributeType)
                        && attribute.ConstructorArguments.Length == 1
                        && attribute.ConstructorArguments[0].Kind == TypedConstantKind.Array)
                    {
                        foreach (TypedConstant name in attribute.ConstructorArguments[0].Values)
                        {
                            if (name.Value is string text)
                            {
                                names.Add(new ReferencedMethodName(text, assembly.Name));
                            }
                        }
                    }
                }
            }

            return names.ToEquatableArray();
        }

        /// <summary>
        /// Every method's own diagnostics, plus CRPC002 on each later use of a name and on each use of a
        /// name that a referenced assembly's table already has.
        /// </summary>
        public static EquatableArray<DiagnosticInfo> BuildDiagnostics(ImmutableArray<RpcMethodParseResult> results, EquatableArray<ReferencedMethodName> referenced)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var firstUse = new Dictionary<string, RpcMethodSpec>(StringComparer.Ordinal);
            var referencedOwner = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (ReferencedMethodName name in referenced)
            {
                if (!referencedOwner.ContainsKey(name.Name))
                {
                    referencedOwner.Add(name.Name, name.Assembly);
                }
            }

            foreach (RpcMethodParseResult result in OrderBySource(results))
            {
                diagnostics.AddRange(result.Diagnostics);
                if (result.Method is null)
                {
                    continue;
                }

                if (referencedOwner.TryGetValue(result.Method.RpcName, out string? assembly))
                {
                    // The server combines its table with the built-ins: the two names would collide at startup.
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.DuplicateName, result.NameLocation, result.Method.RpcName, "the method table of assembly " + assembly));
                }
                else if (firstUse.TryGetValue(result.Method.RpcName, out RpcMethodSpec? first))
                {
                    string owner = first.ContainingTypeName.Replace("global::", string.Empty) + "." + first.MethodName;
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateName, result.NameLocation, result.Method.RpcName, owner));
                }
                else
                {
                    firstUse.Add(result.Method.RpcName, result.Method);
                }
            }

            return diagnostics.ToEquatableArray();
        }

        /// <summary>The assembly name as a namespace: each dotted part a valid C# identifier.</summary>
        public static string ToNamespace(string? assemblyName)
        {
            if (string.IsNullOrEmpty(assemblyName))
            {
                return "CameraRpcGenerated";
            }

            var parts = new List<string>();
            foreach (string part in assemblyName!.Split('.'))
            {
                var builder = new StringBuilder(part.Length + 1);
                foreach (char c in part)
                {
                    builder.Append(SyntaxFacts.IsIdentifierPartCharacter(c) ? c : '_');
                }

                if (builder.Length == 0 || !SyntaxFacts.IsIdentifierStartCharacter(builder[0]))
                {
                    builder.Insert(0, '_');
                }

                string identifier = builder.ToString();
                parts.Add(SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None ? "@" + identifier : identifier);
            }

            return string.Join(".", parts);
        }

        // Source order (file, then position), so "first" in CRPC002 means what a reader expects.
        private static IEnumerable<RpcMethodParseResult> OrderBySource(ImmutableArray<RpcMethodParseResult> results) =>
            results
                .OrderBy(static r => r.NameLocation?.FilePath ?? string.Empty, StringComparer.Ordinal)
                .ThenBy(static r => r.NameLocation?.Span.Start ?? 0);

        /// <summary>
        /// The parameters of a method or a per-subscriber topic, bound the same way for both: one spec per
        /// parameter that can be bound, one diagnostic (at the parameter) per one that cannot. A
        /// <c>ref</c>/<c>out</c>/<c>in</c> parameter is reported with <paramref name="byReference"/>.
        /// </summary>
        private static List<RpcParameterSpec> ParseParameters(
            IMethodSymbol method,
            MethodDeclarationSyntax? syntax,
            LocationInfo? fallbackLocation,
            DiagnosticDescriptor byReference,
            string display,
            string? jsonContext,
            INamedTypeSymbol? jsonContextType,
            ref JsonContextCoverage? coverage,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var parameters = new List<RpcParameterSpec>();
            for (int i = 0; i < method.Parameters.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                IParameterSymbol parameter = method.Parameters[i];
                LocationInfo? parameterLocation = syntax is not null && i < syntax.ParameterList.Parameters.Count
                    ? LocationInfo.From(syntax.ParameterList.Parameters[i].GetLocation())
                    : fallbackLocation;

                if (parameter.RefKind != RefKind.None)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        byReference, parameterLocation, display,
                        "the parameter '" + parameter.Name + "' is passed by reference (ref, out or in)"));
                    continue;
                }

                RpcTypeSpec? type = ClassifyParameter(parameter.Type, jsonContext);
                if (type is null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.UnsupportedParameterType, parameterLocation, parameter.Name, parameter.Type.ToDisplayString()));
                    continue;
                }

                if (MissingFromContext(type, jsonContextType, ref coverage) is string missing)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNotInJsonContext, parameterLocation, missing, jsonContext!.Replace("global::", string.Empty)));
                    continue;
                }

                string? defaultLiteral = null;
                bool optional = parameter.IsOptional && type.Kind is not (RpcValueKind.CancellationToken or RpcValueKind.Context);
                if (optional)
                {
                    defaultLiteral = parameter.HasExplicitDefaultValue
                        ? FormatDefault(parameter.ExplicitDefaultValue, parameter.Type, type)
                        : "default";
                }

                parameters.Add(new RpcParameterSpec(parameter.Name, type, optional, defaultLiteral));
            }

            return parameters;
        }

        private static string? FindAccessProblem(IMethodSymbol method)
        {
            if (method.IsGenericMethod)
            {
                return "it is generic";
            }

            if (!IsReachable(method.DeclaredAccessibility))
            {
                return "it is " + AccessibilityText(method.DeclaredAccessibility);
            }

            for (INamedTypeSymbol? type = method.ContainingType; type is not null; type = type.ContainingType)
            {
                if (type.IsGenericType)
                {
                    return "its containing type '" + type.Name + "' is generic";
                }

                if (!IsReachable(type.DeclaredAccessibility))
                {
                    return "its containing type '" + type.Name + "' is " + AccessibilityText(type.DeclaredAccessibility);
                }
            }

            return null;
        }

        // The generated class lives in the same assembly but derives from nothing, so protected is as
        // unreachable as private.
        private static bool IsReachable(Accessibility accessibility) =>
            accessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;

        private static string AccessibilityText(Accessibility accessibility) => accessibility switch
        {
            Accessibility.Private => "private",
            Accessibility.Protected => "protected",
            Accessibility.ProtectedAndInternal => "private protected",
            _ => accessibility.ToString().ToLowerInvariant(),
        };

        private static INamedTypeSymbol? FindJsonContext(ISymbol owner)
        {
            foreach (AttributeData attribute in owner.GetAttributes())
            {
                if (attribute.AttributeClass is { Name: "RpcJsonContextAttribute" } attributeClass
                    && IsInNamespace(attributeClass, "CameraRpc.Protocol")
                    && attribute.ConstructorArguments.Length == 1
                    && attribute.ConstructorArguments[0].Value is INamedTypeSymbol contextType)
                {
                    return contextType;
                }
            }

            return null;
        }

        /// <summary>
        /// The C# name of the first complex type in <paramref name="type"/> (itself or its array element)
        /// that the JSON context cannot describe; null when there is none or the context is not checked.
        /// </summary>
        private static string? MissingFromContext(RpcTypeSpec type, INamedTypeSymbol? context, ref JsonContextCoverage? coverage)
        {
            for (RpcTypeSpec? current = type; current is not null; current = current.Element)
            {
                if (current.Kind != RpcValueKind.Complex || context is null)
                {
                    continue;
                }

                coverage ??= JsonContextCoverage.Of(context);
                if (coverage is not null && !coverage.Covers(current.RuntimeTypeName!))
                {
                    return current.TypeName.Replace("global::", string.Empty);
                }
            }

            return null;
        }

        private static RpcTypeSpec? ClassifyParameter(ITypeSymbol type, string? jsonContext)
        {
            if (type is INamedTypeSymbol named)
            {
                if (named.Name == "CancellationToken" && IsInNamespace(named, "System.Threading"))
                {
                    return Simple(RpcValueKind.CancellationToken, type, isNullable: false);
                }

                if (named.Name == "RpcContext" && IsInNamespace(named, "CameraRpc.Protocol"))
                {
                    return Simple(RpcValueKind.Context, type, isNullable: false);
                }
            }

            return Classify(type, jsonContext, allowArray: true);
        }

        private static bool TryClassifyReturn(IMethodSymbol method, string? jsonContext, out RpcReturnShape shape, out RpcTypeSpec? result)
        {
            result = null;
            ITypeSymbol returnType = method.ReturnType;
            if (method.ReturnsVoid)
            {
                shape = RpcReturnShape.Void;
                return true;
            }

            if (method.ReturnsByRef || method.ReturnsByRefReadonly)
            {
                shape = RpcReturnShape.Value;
                return false;
            }

            if (returnType is INamedTypeSymbol named && IsInNamespace(named, "System.Threading.Tasks"))
            {
                switch (named.MetadataName)
                {
                    case "Task":
                        shape = RpcReturnShape.Task;
                        return true;
                    case "ValueTask":
                        shape = RpcReturnShape.ValueTask;
                        return true;
                    case "Task`1":
                        shape = RpcReturnShape.TaskOfT;
                        result = Classify(named.TypeArguments[0], jsonContext, allowArray: true);
                        return result is not null;
                    case "ValueTask`1":
                        shape = RpcReturnShape.ValueTaskOfT;
                        result = Classify(named.TypeArguments[0], jsonContext, allowArray: true);
                        return result is not null;
                }
            }

            shape = RpcReturnShape.Value;
            result = Classify(returnType, jsonContext, allowArray: true);
            return result is not null;
        }

        private static RpcTypeSpec? Classify(ITypeSymbol type, string? jsonContext, bool allowArray)
        {
            if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
            {
                RpcTypeSpec? underlying = Classify(nullable.TypeArguments[0], jsonContext, allowArray: false);
                return underlying is null || !underlying.IsValueType ? null : underlying with { IsNullable = true };
            }

            // Reference types: nullable unless annotated as non-nullable. Code compiled without
            // nullable annotations (oblivious) accepts null, as it always could.
            bool referenceNullable = !type.IsValueType && type.NullableAnnotation != NullableAnnotation.NotAnnotated;

            RpcValueKind? primitive = type.SpecialType switch
            {
                SpecialType.System_String => RpcValueKind.String,
                SpecialType.System_Boolean => RpcValueKind.Boolean,
                SpecialType.System_Byte => RpcValueKind.Byte,
                SpecialType.System_SByte => RpcValueKind.SByte,
                SpecialType.System_Int16 => RpcValueKind.Int16,
                SpecialType.System_UInt16 => RpcValueKind.UInt16,
                SpecialType.System_Int32 => RpcValueKind.Int32,
                SpecialType.System_UInt32 => RpcValueKind.UInt32,
                SpecialType.System_Int64 => RpcValueKind.Int64,
                SpecialType.System_UInt64 => RpcValueKind.UInt64,
                SpecialType.System_Single => RpcValueKind.Single,
                SpecialType.System_Double => RpcValueKind.Double,
                SpecialType.System_Decimal => RpcValueKind.Decimal,
                _ => null,
            };
            if (primitive is RpcValueKind kind)
            {
                return Simple(kind, type, referenceNullable);
            }

            if (type.TypeKind == TypeKind.Enum)
            {
                var members = type.GetMembers()
                    .OfType<IFieldSymbol>()
                    .Where(static f => f.IsConst)
                    .Select(static f => f.Name)
                    .ToEquatableArray();
                return Simple(RpcValueKind.Enum, type, isNullable: false) with { EnumMembers = members };
            }

            if (type is IArrayTypeSymbol array)
            {
                if (!allowArray || !array.IsSZArray)
                {
                    return null;
                }

                RpcTypeSpec? element = Classify(array.ElementType, jsonContext, allowArray: false);
                return element is null
                    ? null
                    : new RpcTypeSpec(RpcValueKind.Array, element.DeclaredName + "[]", referenceNullable, IsValueType: false, element, default, null, null);
            }

            if (type is INamedTypeSymbol named)
            {
                if (named.Name == "JsonElement" && IsInNamespace(named, "System.Text.Json"))
                {
                    return Simple(RpcValueKind.JsonElement, type, isNullable: false);
                }

                if (named.Name == "RpcRawJson" && IsInNamespace(named, "CameraRpc.Protocol"))
                {
                    return Simple(RpcValueKind.RawJson, type, isNullable: false);
                }
            }

            if (jsonContext is null || !CanSerialize(type))
            {
                return null;
            }

            ITypeSymbol bare = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
            return new RpcTypeSpec(
                RpcValueKind.Complex,
                bare.ToDisplayString(s_typeFormat),
                referenceNullable,
                type.IsValueType,
                null,
                default,
                bare.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                jsonContext);
        }

        // What a JsonSerializerContext could describe and generated code can name.
        private static bool CanSerialize(ITypeSymbol type)
        {
            if (type.TypeKind is TypeKind.Error or TypeKind.TypeParameter or TypeKind.Pointer or TypeKind.FunctionPointer
                or TypeKind.Dynamic or TypeKind.Delegate or TypeKind.Interface || type.IsRefLikeType || type.IsStatic)
            {
                return false;
            }

            if (type.SpecialType is SpecialType.System_Void or SpecialType.System_Object or SpecialType.System_IntPtr or SpecialType.System_UIntPtr)
            {
                return false;
            }

            if (type is INamedTypeSymbol named && IsInNamespace(named, "System.Threading.Tasks"))
            {
                return false;
            }

            for (ITypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                if (!IsReachable(current.DeclaredAccessibility))
                {
                    return false;
                }
            }

            return true;
        }

        private static RpcTypeSpec Simple(RpcValueKind kind, ITypeSymbol type, bool isNullable) =>
            new(
                kind,
                type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                isNullable,
                type.IsValueType,
                null,
                default,
                null,
                null);

        private static bool IsInNamespace(ISymbol symbol, string ns) =>
            symbol.ContainingType is null && symbol.ContainingNamespace?.ToDisplayString() == ns;

        /// <summary>A parameter's C# default as an expression that compiles in the generated file.</summary>
        private static string FormatDefault(object? value, ITypeSymbol parameterType, RpcTypeSpec type)
        {
            if (value is null)
            {
                return type.IsValueType && !type.IsNullable ? "default" : "null";
            }

            ITypeSymbol valueType = parameterType is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } n
                ? n.TypeArguments[0]
                : parameterType;
            if (valueType.TypeKind == TypeKind.Enum)
            {
                string number = Convert.ToString(value, CultureInfo.InvariantCulture)!;
                return "(" + type.TypeName + ")(" + number + ")";
            }

            return value switch
            {
                string s => SymbolDisplay.FormatLiteral(s, quote: true),
                bool b => b ? "true" : "false",
                char c => SymbolDisplay.FormatLiteral(c, quote: true),
                byte v => "(byte)" + v.ToString(CultureInfo.InvariantCulture),
                sbyte v => "(sbyte)(" + v.ToString(CultureInfo.InvariantCulture) + ")",
                short v => "(short)(" + v.ToString(CultureInfo.InvariantCulture) + ")",
                ushort v => "(ushort)" + v.ToString(CultureInfo.InvariantCulture),
                int v => v == int.MinValue ? "int.MinValue" : v.ToString(CultureInfo.InvariantCulture),
                uint v => v.ToString(CultureInfo.InvariantCulture) + "U",
                long v => v == long.MinValue ? "long.MinValue" : v.ToString(CultureInfo.InvariantCulture) + "L",
                ulong v => v.ToString(CultureInfo.InvariantCulture) + "UL",
                float v => FormatSingle(v),
                double v => FormatDouble(v),
                decimal v => v.ToString(CultureInfo.InvariantCulture) + "M",
                _ => "default",
            };
        }

        private static string FormatSingle(float value) =>
            float.IsNaN(value) ? "float.NaN"
            : float.IsPositiveInfinity(value) ? "float.PositiveInfinity"
            : float.IsNegativeInfinity(value) ? "float.NegativeInfinity"
            : value.ToString("R", CultureInfo.InvariantCulture) + "F";

        private static string FormatDouble(double value) =>
            double.IsNaN(value) ? "double.NaN"
            : double.IsPositiveInfinity(value) ? "double.PositiveInfinity"
            : double.IsNegativeInfinity(value) ? "double.NegativeInfinity"
            : value.ToString("R", CultureInfo.InvariantCulture) + "D";
    }
}
