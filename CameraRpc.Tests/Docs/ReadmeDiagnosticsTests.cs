using System.Reflection;
using System.Text.RegularExpressions;
using CameraRpc.Protocol.Generator;
using CameraRpc.Tests.TestSupport;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CameraRpc.Tests.Docs;

/// <summary>The method author's guide's CRPC table is <c>gen/DiagnosticDescriptors.cs</c>, and its mistaken example gets exactly the errors it shows.</summary>
[Parallelizable(ParallelScope.Self)]
public sealed partial class ReadmeDiagnosticsTests
{
    private const string BrokenFile = "BrokenCameraMethods.cs";

    private static GuideDocument Guide => GuideDocument.MethodAuthorGuide;

    private static IEnumerable<DiagnosticDescriptor> Descriptors() =>
        typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.FieldType == typeof(DiagnosticDescriptor))
            .Select(field => (DiagnosticDescriptor)field.GetValue(null)!);

    [Test]
    public void every_crpc_diagnostic_is_in_the_method_authors_guide_with_its_title_and_message()
    {
        IReadOnlyList<string[]> rows = GuideDocument.TableRows(Guide.Section("Compile-time diagnostics"));

        rows.Should().HaveCount(Descriptors().Count(), "one row per diagnostic the generator can report");
        foreach (DiagnosticDescriptor descriptor in Descriptors())
        {
            rows.Should().Contain(
                row => row[0] == "`" + descriptor.Id + "`"
                    && row[1] == descriptor.Title.ToString()
                    && row[2] == "`" + descriptor.MessageFormat + "`",
                $"{descriptor.Id}'s title and message are copied from DiagnosticDescriptors.cs");
        }
    }

    [Test]
    public void the_mistaken_example_gets_exactly_the_errors_the_guide_shows()
    {
        string? source = Guide.FencedBlockAfter("example: " + BrokenFile);
        string? shown = Guide.FencedBlockAfter("errors: " + BrokenFile);
        source.Should().NotBeNull($"{Guide} marks the mistaken example");
        shown.Should().NotBeNull("and the errors it gets");

        CSharpCompilation compilation = CompilationHelper.CreateCompilation(
            "ReadmeMistakes", "global using System; global using System.IO; global using System.Threading; global using System.Threading.Tasks;");
        compilation = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(source!, CompilationHelper.ParseOptions, path: BrokenFile));
        (GeneratorRunResult result, _) = CompilationHelper.Run(compilation);

        string[] actual = result.Diagnostics.OrderBy(d => d.Location.SourceSpan.Start).Select(d => d.ToString()).ToArray();
        shown!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(actual, $"{Guide} quotes the generator's real output");
        actual.Select(line => CrpcId().Match(line).Value).Should().BeEquivalentTo(
            Descriptors().Select(d => d.Id), "the example shows every CRPC diagnostic once");
    }

    [GeneratedRegex("CRPC[0-9]{3}")]
    private static partial Regex CrpcId();
}
