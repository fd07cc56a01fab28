using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CameraRpc.Protocol.Generator;

/// <summary>What the parser makes of one <c>[RpcTopic]</c> declaration: a model when it is valid, and its diagnostics.</summary>
internal sealed record RpcTopicParseResult(RpcTopicSpec? Topic, LocationInfo? NameLocation, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// The topic side of the generator (CONTRACT section 6): finds every <c>[RpcTopic]</c> declaration and
/// emits <c>GeneratedRpcTopics.g.cs</c>, which fills the topic list of the assembly's method table
/// (through the <c>AddTopics</c> partial method the method table calls) with one entry per topic:
/// a fed topic bound to its value writer, or a per-subscriber topic with an opener that binds its
/// params with the same code as a method's invoker.
/// </summary>
public sealed partial class RpcMethodGenerator
{
    private const string RpcTopicAttributeName = "CameraRpc.Protocol.RpcTopicAttribute";

    private static void InitializeTopics(
        IncrementalGeneratorInitializationContext context, IncrementalValueProvider<(string? Name, bool ReferencesProtocol)> assemblyName)
    {
        IncrementalValuesProvider<RpcTopicParseResult> topics = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                RpcTopicAttributeName,
                predicate: static (node, _) => node is VariableDeclaratorSyntax or PropertyDeclarationSyntax or MethodDeclarationSyntax,
                transform: static (syntaxContext, cancellationToken) => Parser.ParseTopic(syntaxContext, cancellationToken))
            .WithTrackingName(TrackingNames.Topics);

        IncrementalValueProvider<ImmutableArray<RpcTopicParseResult>> collected = topics.Collect();

        IncrementalValueProvider<RpcTopicTableSpec> table = collected
            .Combine(assemblyName)
            .Select(static (input, _) => Parser.BuildTopicTable(input.Left, input.Right.Name))
            .WithTrackingName(TrackingNames.TopicTable);

        IncrementalValueProvider<EquatableArray<DiagnosticInfo>> diagnostics = collected
            .Select(static (input, _) => Parser.BuildTopicDiagnostics(input))
            .WithTrackingName(TrackingNames.TopicDiagnostics);

        context.RegisterSourceOutput(table, static (output, spec) =>
        {
            if (spec.Topics.Count > 0)
            {
                output.AddSource(Emitter.TopicsFileName, Emitter.EmitTopics(spec));
            }
        });

        context.RegisterSourceOutput(diagnostics, static (output, infos) =>
        {
            foreach (DiagnosticInfo info in infos)
            {
                output.ReportDiagnostic(info.ToDiagnostic());
            }
        });
    }

    internal static partial class Parser
    {
        private static readonly string[] s_overflowNames = ["Coalesce", "DropOldest", "Close"];

        public static RpcTopicParseResult ParseTopic(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            ISymbol member = context.TargetSymbol;
            var diagnostics = new List<DiagnosticInfo>();
            LocationInfo? memberLocation = LocationInfo.From(member.Locations.FirstOrDefault());
            string display = member.ContainingType.Name + "." + member.Name;

            AttributeData attribute = context.Attributes[0];
            string? name = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
            int capacity = 16;
            bool capacityGiven = false;
            int overflow = 1; // DropOldest
            string? scope = null;
            string? summary = null;
            foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
            {
                switch (argument.Key)
                {
                    case "Capacity" when argument.Value.Value is int capacityValue:
                        capacity = capacityValue;
                        capacityGiven = true;
                        break;
                    case "Overflow" when argument.Value.Value is int overflowValue:
                        overflow = overflowValue;
                        break;
                    case "Scope":
                        scope = argument.Value.Value as string;
                        break;
                    case "Summary":
                        summary = argument.Value.Value as string;
                        break;
                }
            }

            LocationInfo? nameLocation = memberLocation;
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax attributeSyntax
                && attributeSyntax.ArgumentList is { Arguments.Count: > 0 } arguments)
            {
                nameLocation = LocationInfo.From(arguments.Arguments[0].GetLocation());
            }

            string? assemblyName = context.SemanticModel.Compilation.AssemblyName;
            if (string.IsNullOrEmpty(name)
                || (name!.StartsWith(ReservedPrefix, StringComparison.Ordinal) && assemblyName != ProtocolAssemblyName))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTopicName, nameLocation, name ?? string.Empty));
            }

            string topicText = name ?? string.Empty;
            if (overflow < 0 || overflow >= s_overflowNames.Length)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTopicBound, nameLocation, topicText, "an unknown overflow policy"));
            }
            else if (overflow == 0)
            {
                if (capacityGiven && capacity != 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.InvalidTopicBound, nameLocation, topicText,
                        "a capacity of " + capacity + " with the Coalesce policy, which keeps only the newest unsent value; leave Capacity unset or make it 1"));
                }

                capacity = 1;
            }
            else if (capacity < 1 || capacity > 4096)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidTopicBound, nameLocation, topicText, "a capacity of " + capacity + "; it must be between 1 and 4096"));
            }

            if (!member.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTopicDeclaration, memberLocation, display, "it is not static"));
            }

            if (FindMemberAccessProblem(member) is string accessProblem)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTopicDeclaration, memberLocation, display, accessProblem));
            }

            INamedTypeSymbol? jsonContextType = FindJsonContext(member.ContainingType) ?? FindJsonContext(context.SemanticModel.Compilation.Assembly);
            string? jsonContext = jsonContextType?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            JsonContextCoverage? coverage = null;

            RpcTopicKind kind;
            ITypeSymbol? valueType;
            var parameters = new List<RpcParameterSpec>();
            switch (member)
            {
                case IFieldSymbol field:
                    kind = RpcTopicKind.Fed;
                    valueType = TopicValueType(field.Type);
                    if (valueType is null)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.InvalidTopicDeclaration, memberLocation, display,
                            "its type '" + field.Type.ToDisplayString() + "' is not RpcTopic<T>"));
                    }

                    break;

                case IPropertySymbol property:
                    kind = RpcTopicKind.Fed;
                    valueType = TopicValueType(property.Type);
                    if (valueType is null)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.InvalidTopicDeclaration, memberLocation, display,
                            "its type '" + property.Type.ToDisplayString() + "' is not RpcTopic<T>"));
                    }
                    else if (property.GetMethod is null || !IsReachable(property.GetMethod.DeclaredAccessibility) || property.IsIndexer)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.InvalidTopicDeclaration, memberLocation, display, "it has no public or internal getter"));
                    }

                    break;

                case IMethodSymbol method:
                    kind = RpcTopicKind.PerSubscriber;
                    valueType = StreamValueType(method.ReturnType);
                    if (valueType is null)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            DiagnosticDescriptors.InvalidTopicDeclaration, memberLocation, display,
                            "it returns '" + method.ReturnType.ToDisplayString() + "', not IAsyncEnumerable<T>"));
                    }

                    parameters.AddRange(ParseParameters(
                        method, context.TargetNode as MethodDeclarationSyntax, memberLocation, DiagnosticDescriptors.InvalidTopicDeclaration, display,
                        jsonContext, jsonContextType, ref coverage, diagnostics, cancellationToken));
                    break;

                default:
                    return new RpcTopicParseResult(null, nameLocation, diagnostics.ToEquatableArray());
            }

            RpcTypeSpec? value = null;
            if (valueType is not null)
            {
                value = Classify(valueType, jsonContext, allowArray: true);
                if (value is null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.InvalidTopicDeclaration, memberLocation, display,
                        "its event type '" + valueType.ToDisplayString() + "' cannot be written as JSON; use a string, number, bool, enum, array, JsonElement or RpcRawJson, or name a JsonSerializerContext with [RpcJsonContext]"));
                }
                else if (MissingFromContext(value, jsonContextType, ref coverage) is string missing)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.TypeNotInJsonContext, memberLocation, missing, jsonContext!.Replace("global::", string.Empty)));
                }
            }

            RpcTopicSpec? spec = diagnostics.Count == 0
                ? new RpcTopicSpec(
                    name!,
                    summary,
                    scope,
                    capacity,
                    s_overflowNames[overflow],
                    kind,
                    member.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                    member.Name,
                    parameters.ToEquatableArray(),
                    value!)
                : null;
            return new RpcTopicParseResult(spec, nameLocation, diagnostics.ToEquatableArray());
        }

        /// <summary>The valid topics, ordinal-sorted by name; a name used twice keeps its first declaration (CRPC012 reports the others).</summary>
        public static RpcTopicTableSpec BuildTopicTable(ImmutableArray<RpcTopicParseResult> results, string? assemblyName)
        {
            var topics = new List<RpcTopicSpec>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (RpcTopicParseResult result in OrderTopicsBySource(results))
            {
                if (result.Topic is not null && names.Add(result.Topic.Name))
                {
                    topics.Add(result.Topic);
                }
            }

            topics.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            return new RpcTopicTableSpec(ToNamespace(assemblyName), topics.ToEquatableArray());
        }

        /// <summary>Every declaration's own diagnostics, plus CRPC012 on each later use of a topic name.</summary>
        public static EquatableArray<DiagnosticInfo> BuildTopicDiagnostics(ImmutableArray<RpcTopicParseResult> results)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var firstUse = new Dictionary<string, RpcTopicSpec>(StringComparer.Ordinal);
            foreach (RpcTopicParseResult result in OrderTopicsBySource(results))
            {
                diagnostics.AddRange(result.Diagnostics);
                if (result.Topic is null)
                {
                    continue;
                }

                if (firstUse.TryGetValue(result.Topic.Name, out RpcTopicSpec? first))
                {
                    string owner = first.ContainingTypeName.Replace("global::", string.Empty) + "." + first.MemberName;
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateTopicName, result.NameLocation, result.Topic.Name, owner));
                }
                else
                {
                    firstUse.Add(result.Topic.Name, result.Topic);
                }
            }

            return diagnostics.ToEquatableArray();
        }

        private static IEnumerable<RpcTopicParseResult> OrderTopicsBySource(ImmutableArray<RpcTopicParseResult> results) =>
            (results.IsDefault ? ImmutableArray<RpcTopicParseResult>.Empty : results)
                .OrderBy(static r => r.NameLocation?.FilePath ?? string.Empty, StringComparer.Ordinal)
                .ThenBy(static r => r.NameLocation?.Span.Start ?? 0);

        /// <summary>T of <c>CameraRpc.Protocol.RpcTopic&lt;T&gt;</c>; null for any other type.</summary>
        private static ITypeSymbol? TopicValueType(ITypeSymbol type) =>
            type is INamedTypeSymbol { Name: "RpcTopic", Arity: 1 } named && IsInNamespace(named, "CameraRpc.Protocol")
                ? named.TypeArguments[0]
                : null;

        /// <summary>T of <c>System.Collections.Generic.IAsyncEnumerable&lt;T&gt;</c>; null for any other type.</summary>
        private static ITypeSymbol? StreamValueType(ITypeSymbol type) =>
            type is INamedTypeSymbol { Name: "IAsyncEnumerable", Arity: 1 } named && IsInNamespace(named, "System.Collections.Generic")
                ? named.TypeArguments[0]
                : null;

        private static string? FindMemberAccessProblem(ISymbol member)
        {
            if (member is IMethodSymbol method)
            {
                return FindAccessProblem(method);
            }

            if (!IsReachable(member.DeclaredAccessibility))
            {
                return "it is " + AccessibilityText(member.DeclaredAccessibility);
            }

            for (INamedTypeSymbol? type = member.ContainingType; type is not null; type = type.ContainingType)
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
    }

    internal static partial class Emitter
    {
        public const string TopicsFileName = "GeneratedRpcTopics.g.cs";

        /// <summary>In the method table's file: the topic list, which <c>GeneratedRpcTopics.g.cs</c> fills when the assembly has topics.</summary>
        private static void EmitTopicsHook(SourceWriter writer)
        {
            writer.WriteLine();
            writer.WriteLine("private static " + Protocol + "RpcTopicInfo[] CollectTopics()");
            writer.OpenBlock();
            writer.WriteLine(Protocol + "RpcTopicInfo[]? topics = null;");
            writer.WriteLine("AddTopics(ref topics);");
            writer.WriteLine("return topics ?? global::System.Array.Empty<" + Protocol + "RpcTopicInfo>();");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("/// <summary>Implemented in GeneratedRpcTopics.g.cs when the assembly declares [RpcTopic] topics.</summary>");
            writer.WriteLine("static partial void AddTopics(ref " + Protocol + "RpcTopicInfo[]? topics);");
        }

        public static string EmitTopics(RpcTopicTableSpec table)
        {
            var writer = new SourceWriter();
            writer.WriteLine("// <auto-generated/>");
            writer.WriteLine("#nullable enable");
            writer.WriteLine();
            writer.WriteLine("namespace " + table.Namespace);
            writer.OpenBlock();
            writer.WriteLine("internal static partial class GeneratedRpcMethods");
            writer.OpenBlock();

            var types = new List<RpcTypeSpec>();
            foreach (RpcTopicSpec topic in table.Topics)
            {
                types.Add(topic.Value);
                foreach (RpcParameterSpec parameter in topic.Parameters)
                {
                    types.Add(parameter.Type);
                }
            }

            (Dictionary<string, string> fieldByKey, List<string> typeInfoDeclarations) = CollectTypeInfos(types, "s_topicTypeInfo");
            string[] identifiers = TopicIdentifiers(table);

            writer.WriteLine("/// <summary>The [RpcTopic] topics of this assembly, generated by CameraRpc.Protocol.Generator.</summary>");
            writer.WriteLine("static partial void AddTopics(ref " + Protocol + "RpcTopicInfo[]? topics)");
            writer.OpenBlock();
            writer.WriteLine("topics = new " + Protocol + "RpcTopicInfo[]");
            writer.OpenBlock();
            for (int i = 0; i < table.Topics.Count; i++)
            {
                RpcTopicSpec topic = table.Topics[i];
                string source = topic.Kind == RpcTopicKind.Fed
                    ? topic.ContainingTypeName + "." + topic.MemberName + ".Bind(" + ValueWriter(topic.Value, fieldByKey) + ")"
                    : "new " + Protocol + "RpcStreamTopic(OpenTopic_" + identifiers[i] + ")";
                writer.WriteLine("new(" + Literal(topic.Name) + ", " + topic.Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    + ", " + Protocol + "RpcOverflow." + topic.Overflow + ", " + (topic.Scope is null ? "null" : Literal(topic.Scope))
                    + ", " + Literal(OpenRpc.DescribeTopic(topic)) + ", " + source + "),");
            }

            writer.CloseBlock(";");
            writer.CloseBlock();

            foreach (string declaration in typeInfoDeclarations)
            {
                writer.WriteLine();
                foreach (string line in declaration.Split('\n'))
                {
                    writer.WriteLine(line);
                }
            }

            for (int i = 0; i < table.Topics.Count; i++)
            {
                RpcTopicSpec topic = table.Topics[i];
                if (topic.Kind != RpcTopicKind.PerSubscriber)
                {
                    continue;
                }

                string id = "topic_" + identifiers[i];
                writer.WriteLine();
                EmitNames(writer, topic.Parameters, id);
                writer.WriteLine();
                writer.WriteLine("/// <summary>Binds the params of a subscription to <c>" + XmlEscape(topic.Name) + "</c> and starts <c>"
                    + XmlEscape(topic.ContainingTypeName.Replace("global::", string.Empty) + "." + topic.MemberName) + "</c>.</summary>");
                writer.WriteLine("private static " + ValueTaskOfResult + " OpenTopic_" + identifiers[i] + "(" + Protocol + "RpcInvocation invocation)");
                writer.OpenBlock();
                string arguments = EmitBinding(writer, topic.Parameters, id, fieldByKey);
                writer.WriteLine("var stream = " + topic.ContainingTypeName + "." + topic.MemberName + "(" + arguments + ");");
                writer.WriteLine(Protocol + "RpcEventStream.Start(in invocation, stream, " + ValueWriter(topic.Value, fieldByKey) + ");");
                writer.WriteLine("return new " + ValueTaskOfResult + "(" + InvokeResult + ".Success);");
                writer.CloseBlock();
            }

            writer.CloseBlock();
            writer.CloseBlock();
            return writer.ToString();
        }

        /// <summary>A static lambda writing one event value, as a method's result of that type is written.</summary>
        private static string ValueWriter(RpcTypeSpec type, Dictionary<string, string> fieldByKey) =>
            "static (w, v) => { " + WriteStatement(type, "w", "v", fieldByKey, 0) + " }";

        private static string[] TopicIdentifiers(RpcTopicTableSpec table)
        {
            var names = new string[table.Topics.Count];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = table.Topics[i].Name;
            }

            return Identifiers(names);
        }
    }

    internal static partial class OpenRpc
    {
        /// <summary>
        /// The <c>x-topics</c> entry of CONTRACT section 3: a method object's name, summary, params and
        /// result, plus <c>x-overflow</c>, <c>x-capacity</c> and, when needed, <c>x-scope</c>.
        /// </summary>
        public static string DescribeTopic(RpcTopicSpec topic)
        {
            string asMethod = Describe(new RpcMethodSpec(topic.Name, topic.Summary, topic.ContainingTypeName, topic.MemberName, topic.Parameters, RpcReturnShape.Value, topic.Value));
            var json = new StringBuilder(asMethod, 0, asMethod.Length - 1, asMethod.Length + 64);
            json.Append(",\"x-overflow\":\"").Append(topic.Overflow switch
            {
                "Coalesce" => "coalesce",
                "DropOldest" => "drop-oldest",
                _ => "close",
            });
            json.Append("\",\"x-capacity\":").Append(topic.Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (topic.Scope is not null)
            {
                json.Append(",\"x-scope\":");
                AppendString(json, topic.Scope);
            }

            json.Append('}');
            return json.ToString();
        }
    }
}
