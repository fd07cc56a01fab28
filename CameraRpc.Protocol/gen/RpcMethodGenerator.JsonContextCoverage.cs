using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace CameraRpc.Protocol.Generator;

public sealed partial class RpcMethodGenerator
{
    /// <summary>
    /// The types a source-generated <c>JsonSerializerContext</c> can describe: those named by its
    /// <c>[JsonSerializable]</c> attributes and every type reachable from them (properties, fields,
    /// elements, type arguments, <c>[JsonDerivedType]</c>), as System.Text.Json's generator walks them.
    /// </summary>
    /// <remarks>
    /// A method whose complex type the context lacks would fail when the server starts (the context
    /// has no metadata to give); checking here makes it a build error (CRPC007) instead. The walk takes
    /// every public member, ignored or not, so it errs toward "covered": it can miss a gap, never invent one.
    /// </remarks>
    internal sealed class JsonContextCoverage
    {
        private readonly HashSet<string> _covered = new(System.StringComparer.Ordinal);

        private JsonContextCoverage()
        {
        }

        /// <summary>The coverage of <paramref name="context"/>; null when it declares no <c>[JsonSerializable]</c> (a hand-written context, not checked).</summary>
        public static JsonContextCoverage? Of(INamedTypeSymbol context)
        {
            var coverage = new JsonContextCoverage();
            var pending = new Stack<ITypeSymbol>();
            foreach (AttributeData attribute in context.GetAttributes())
            {
                if (IsAttribute(attribute, "JsonSerializableAttribute")
                    && attribute.ConstructorArguments.Length > 0
                    && attribute.ConstructorArguments[0].Value is ITypeSymbol root)
                {
                    pending.Push(root);
                }
            }

            if (pending.Count == 0)
            {
                return null;
            }

            while (pending.Count > 0)
            {
                ITypeSymbol type = pending.Pop();
                if (!coverage._covered.Add(NameOf(type)))
                {
                    continue;
                }

                foreach (ITypeSymbol reached in Reached(type))
                {
                    pending.Push(reached);
                }
            }

            return coverage;
        }

        /// <summary>The name a <see cref="RpcTypeSpec.RuntimeTypeName"/> has for <paramref name="type"/>.</summary>
        public static string NameOf(ITypeSymbol type) =>
            type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

        /// <summary>True when the context has metadata for the type named <paramref name="runtimeTypeName"/>.</summary>
        public bool Covers(string runtimeTypeName) => _covered.Contains(runtimeTypeName);

        private static IEnumerable<ITypeSymbol> Reached(ITypeSymbol type)
        {
            if (type is IArrayTypeSymbol array)
            {
                yield return array.ElementType;
                yield break;
            }

            if (type is not INamedTypeSymbol named)
            {
                yield break;
            }

            foreach (ITypeSymbol argument in named.TypeArguments)
            {
                yield return argument;
            }

            foreach (AttributeData attribute in named.GetAttributes())
            {
                if (IsAttribute(attribute, "JsonDerivedTypeAttribute")
                    && attribute.ConstructorArguments.Length > 0
                    && attribute.ConstructorArguments[0].Value is ITypeSymbol derived)
                {
                    yield return derived;
                }
            }

            // The framework's own types (string, List<T>, DateTime…) are reached through their type
            // arguments above, not through their members.
            if (named.ContainingNamespace?.ToDisplayString() is { } ns && (ns == "System" || ns.StartsWith("System.", System.StringComparison.Ordinal)))
            {
                yield break;
            }

            // Its own members, its base classes' and, for an interface, the interfaces it extends.
            var owners = new List<INamedTypeSymbol>();
            for (INamedTypeSymbol? current = named; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
            {
                owners.Add(current);
            }

            if (named.TypeKind == TypeKind.Interface)
            {
                owners.AddRange(named.AllInterfaces);
            }

            foreach (INamedTypeSymbol owner in owners)
            {
                foreach (ISymbol member in owner.GetMembers())
                {
                    if (member.IsStatic || !IsSerialized(member))
                    {
                        continue;
                    }

                    if (member is IPropertySymbol { IsIndexer: false } property)
                    {
                        yield return property.Type;
                    }
                    else if (member is IFieldSymbol { IsImplicitlyDeclared: false } field)
                    {
                        yield return field.Type;
                    }
                }
            }
        }

        // Public members, and others that [JsonInclude] brings in.
        private static bool IsSerialized(ISymbol member)
        {
            if (member.DeclaredAccessibility == Accessibility.Public)
            {
                return true;
            }

            foreach (AttributeData attribute in member.GetAttributes())
            {
                if (IsAttribute(attribute, "JsonIncludeAttribute"))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsAttribute(AttributeData attribute, string name) =>
            attribute.AttributeClass is { } attributeClass
            && attributeClass.Name == name
            && attributeClass.ContainingNamespace?.ToDisplayString() == "System.Text.Json.Serialization";
    }
}
