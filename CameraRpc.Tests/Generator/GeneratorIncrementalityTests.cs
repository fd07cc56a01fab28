using System.Collections;
using System.Reflection;
using CameraRpc.Protocol.Generator;
using CameraRpc.Tests.TestSupport;
using FluentAssertions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NUnit.Framework;

namespace CameraRpc.Tests.Generator;

/// <summary>
/// The pipeline caches: an edit that touches no [RpcMethod] leaves every named step cached or
/// unchanged, and no step output holds a Roslyn object that would keep a compilation alive.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class GeneratorIncrementalityTests
{
    private const string Source = """
        using System.Threading;
        using CameraRpc.Protocol;
        namespace Cameras;
        public enum Mode { Auto, Manual }
        public static class Camera
        {
            [RpcMethod("camera.zoom")] public static int Zoom(int level, Mode mode = Mode.Auto) => level;
            [RpcMethod("camera.name")] public static string Name(CancellationToken token) => "cam";
            [RpcMethod("camera.zoom")] public static int Duplicate(int level) => level;
            [RpcMethod("camera.bad")] public static int Bad(object value) => 0;
        }
        public static class Events
        {
            [RpcTopic("camera.level", Overflow = RpcOverflow.Coalesce)] public static RpcTopic<int> Level { get; } = new();
            [RpcTopic("camera.level")] public static readonly RpcTopic<int> Again = new();
            [RpcTopic("camera.frames")]
            public static async System.Collections.Generic.IAsyncEnumerable<int> Frames(int fps, CancellationToken token)
            {
                await System.Threading.Tasks.Task.Yield();
                yield return fps;
            }
        }
        """;

    private static readonly string[] s_trackingNames =
        typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!).ToArray();

    private static GeneratorRunResult RunTwice(Func<CSharpCompilation, CSharpCompilation> change)
    {
        CSharpCompilation compilation = CompilationHelper.CreateCompilation("Cameras", Source);
        GeneratorDriver driver = CompilationHelper.CreateDriver(trackSteps: true).RunGenerators(compilation);
        driver = driver.RunGenerators(change(compilation));
        return driver.GetRunResult().Results.Single();
    }

    [Test]
    public void an_unrelated_new_file_leaves_every_named_step_cached()
    {
        GeneratorRunResult result = RunTwice(c => c.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("namespace Cameras; public static class Unrelated { public static int X => 1; }", CompilationHelper.ParseOptions)));

        result.TrackedSteps.Keys.Should().Contain(s_trackingNames, "every named step ran");
        foreach (string name in s_trackingNames)
        {
            foreach (IncrementalGeneratorRunStep step in result.TrackedSteps[name])
            {
                step.Outputs.Select(o => o.Reason).Should().OnlyContain(
                    r => r == IncrementalStepRunReason.Cached || r == IncrementalStepRunReason.Unchanged,
                    "step {0} must not produce new output for an unrelated change", name);
            }
        }

        result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs)
            .Should().OnlyContain(o => o.Reason == IncrementalStepRunReason.Cached, "nothing is re-emitted");
    }

    [Test]
    public void no_step_output_holds_a_symbol_a_syntax_node_or_a_compilation()
    {
        GeneratorRunResult result = RunTwice(c => c.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Other { }", CompilationHelper.ParseOptions)));
        foreach (string name in s_trackingNames)
        {
            foreach (IncrementalGeneratorRunStep step in result.TrackedSteps[name])
            {
                foreach ((object value, _) in step.Outputs)
                {
                    AssertNoRoslynObjects(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
                }
            }
        }
    }

    // Walks the generator's own model types (and collections and tuples of them) by reflection.
    private static void AssertNoRoslynObjects(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return;
        }

        value.Should().NotBeAssignableTo<ISymbol>("step {0} output must not hold symbols", step);
        value.Should().NotBeAssignableTo<SyntaxNode>("step {0} output must not hold syntax", step);
        value.Should().NotBeAssignableTo<Compilation>("step {0} output must not hold the compilation", step);
        value.Should().NotBeAssignableTo<SemanticModel>("step {0} output must not hold a semantic model", step);
        value.Should().NotBeAssignableTo<Location>("step {0} output must not hold a Location (it holds a syntax tree)", step);

        if (!value.GetType().IsValueType && !seen.Add(value))
        {
            return;
        }

        if (value is IEnumerable items)
        {
            foreach (object? item in items)
            {
                AssertNoRoslynObjects(item, step, seen);
            }

            return;
        }

        Type type = value.GetType();
        bool isOurs = type.Assembly == typeof(RpcMethodGenerator).Assembly;
        bool isTuple = type.FullName?.StartsWith("System.ValueTuple", StringComparison.Ordinal) == true;
        if (!isOurs && !isTuple)
        {
            return; // framework and Roslyn value types (TextSpan, DiagnosticDescriptor…) were checked above
        }

        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertNoRoslynObjects(field.GetValue(value), step, seen);
        }
    }
}
