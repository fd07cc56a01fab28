using CameraRpc.Tests.TestSupport;
using FluentAssertions;
using Microsoft.CodeAnalysis;
using NUnit.Framework;

namespace CameraRpc.Tests.Generator;

/// <summary>Each topic CRPC id (010-013) fires at the right place, and valid topics get none and compile.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class GeneratorTopicDiagnosticsTests
{
    private const string Usings = "using System; using System.Collections.Generic; using System.Threading; using System.Threading.Tasks; using CameraRpc.Protocol;\n";

    private static IReadOnlyList<(string Id, int Line)> Diagnose(string source)
    {
        (GeneratorRunResult result, _) = CompilationHelper.Run(CompilationHelper.CreateCompilation("Cameras", Usings + source));
        return result.Diagnostics.Select(d => (d.Id, d.Location.GetLineSpan().StartLinePosition.Line + 1)).ToList();
    }

    [TestCase("""
        public class Camera
        {
            [RpcTopic("camera.level")]
            public RpcTopic<int> Level { get; } = new();
        }
        """, "CRPC010", 5, TestName = "an_instance_topic_is_CRPC010_at_its_name")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.level")]
            public static int Level { get; } = 1;
        }
        """, "CRPC010", 5, TestName = "a_property_that_is_not_an_RpcTopic_is_CRPC010")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.level")]
            public static Task<int> Level() => Task.FromResult(1);
        }
        """, "CRPC010", 5, TestName = "a_method_that_does_not_return_IAsyncEnumerable_is_CRPC010")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.level")]
            private static readonly RpcTopic<int> Level = new();
        }
        """, "CRPC010", 5, TestName = "a_private_topic_is_CRPC010")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.level")]
            public static RpcTopic<object> Level { get; } = new();
        }
        """, "CRPC010", 5, TestName = "an_event_type_that_cannot_be_written_is_CRPC010")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("rpc.level")]
            public static RpcTopic<int> Level { get; } = new();
        }
        """, "CRPC011", 4, TestName = "a_reserved_rpc_prefix_is_CRPC011_at_the_name")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.level")] public static RpcTopic<int> Level { get; } = new();
        }
        public static class Lens
        {
            [RpcTopic("camera.level")] public static RpcTopic<int> Focus { get; } = new();
        }
        """, "CRPC012", 8, TestName = "a_second_use_of_a_topic_name_is_CRPC012_at_its_attribute")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.level", Capacity = 0)]
            public static RpcTopic<int> Level { get; } = new();
        }
        """, "CRPC013", 4, TestName = "a_capacity_below_1_is_CRPC013")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.level", Capacity = 5000, Overflow = RpcOverflow.Close)]
            public static RpcTopic<int> Level { get; } = new();
        }
        """, "CRPC013", 4, TestName = "a_capacity_over_4096_is_CRPC013")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.level", Capacity = 4, Overflow = RpcOverflow.Coalesce)]
            public static RpcTopic<int> Level { get; } = new();
        }
        """, "CRPC013", 4, TestName = "a_coalesce_topic_with_a_capacity_over_1_is_CRPC013")]
    [TestCase("""
        public static class Camera
        {
            [RpcTopic("camera.frames")]
            public static async IAsyncEnumerable<int> Frames(
                object fps)
            {
                await Task.Yield();
                yield return 1;
            }
        }
        """, "CRPC003", 6, TestName = "an_unsupported_topic_parameter_is_CRPC003_as_for_a_method")]
    public void reports(string source, string id, int line)
    {
        Diagnose(source).Should().Equal([(id, line)], "exactly that diagnostic, at that line");
    }

    [Test]
    public void valid_topics_get_no_diagnostics_and_compile_without_errors()
    {
        string source = Usings + """
            namespace My.Cameras;
            public enum Mode { Auto, Manual }
            public static class Camera
            {
                [RpcTopic("camera.mode", Overflow = RpcOverflow.Coalesce, Capacity = 1, Scope = "camera.read", Summary = "Mode.")]
                internal static RpcTopic<Mode?> ModeChanged { get; } = new(() => Mode.Auto);

                [RpcTopic("camera.names", Capacity = 4096, Overflow = RpcOverflow.DropOldest)]
                public static readonly RpcTopic<string[]> Names = new();

                [RpcTopic("camera.frames")]
                public static async IAsyncEnumerable<double> Frames(int fps, RpcContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, Mode mode = Mode.Manual)
                {
                    await Task.Yield();
                    yield return fps;
                }
            }
            """;
        (GeneratorRunResult result, Compilation output) = CompilationHelper.Run(CompilationHelper.CreateCompilation("My-Cameras", source));
        result.Diagnostics.Should().BeEmpty();
        result.GeneratedSources.Select(s => s.HintName).Should().Contain("GeneratedRpcTopics.g.cs");
        output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Should().BeEmpty("the generated code compiles cleanly");
    }
}
