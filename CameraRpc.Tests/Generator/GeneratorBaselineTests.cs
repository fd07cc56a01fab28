using System.Runtime.CompilerServices;
using CameraRpc.Tests.TestSupport;
using FluentAssertions;
using Microsoft.CodeAnalysis;
using NUnit.Framework;

namespace CameraRpc.Tests.Generator;

/// <summary>
/// The emitted source for small fixed inputs, compared with Generator/Baselines/*.g.cs.txt. After an
/// intended change to the emitter, run the tests with CAMERARPC_UPDATE_BASELINES=1 to rewrite the
/// baselines in the source tree, then review the diff.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class GeneratorBaselineTests
{
    private const string Prelude = "using System.Threading; using System.Threading.Tasks; using CameraRpc.Protocol;\nnamespace Cameras;\n";

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("Sync", """
            public enum Mode { Auto, Manual }
            public static class Camera
            {
                [RpcMethod("camera.zoom", Summary = "Sets the zoom \"level\".")]
                public static int Zoom(int level, Mode mode = Mode.Manual, string? label = null) => level;

                [RpcMethod("camera.reset")]
                public static void Reset(RpcContext context) { }
            }
            """).SetName("synchronous_methods_match_their_baseline");

        yield return new TestCaseData("Access", """
            public static class Camera
            {
                [RpcMethod("camera.getExposure", Scope = "camera.read")]
                public static double GetExposure() => 1.5;

                [RpcMethod("camera.setExposure", Scope = "camera.write", Cost = 5)]
                public static void SetExposure(double value) { }

                [RpcMethod("camera.snapshot", Cost = 3)]
                public static string Snapshot() => "";
            }
            """).SetName("scopes_and_costs_match_their_baseline");

        yield return new TestCaseData("Async", """
            public static class Camera
            {
                [RpcMethod("camera.capture")]
                public static Task<string[]> CaptureAsync(int?[] frames, CancellationToken cancellationToken) => Task.FromResult(new string[0]);

                [RpcMethod("camera.stop")]
                public static ValueTask StopAsync() => default;
            }
            """).SetName("asynchronous_methods_match_their_baseline");

        yield return new TestCaseData("Topics", """
            public sealed record Controls(int Exposure);
            [System.Text.Json.Serialization.JsonSerializable(typeof(Controls))]
            internal sealed partial class CameraJson : System.Text.Json.Serialization.JsonSerializerContext;
            [RpcJsonContext(typeof(CameraJson))]
            public static class Camera
            {
                [RpcMethod("camera.ping")]
                public static string Ping() => "pong";

                [RpcTopic("camera.controls", Overflow = RpcOverflow.Coalesce, Scope = "camera.read", Summary = "The controls, current state first.")]
                public static RpcTopic<Controls> ControlsChanged { get; } = new(() => new Controls(1));

                [RpcTopic("camera.frames", Capacity = 8, Overflow = RpcOverflow.Close)]
                public static async System.Collections.Generic.IAsyncEnumerable<int?> Frames(int fps, string? label = null, CancellationToken cancellationToken = default)
                {
                    await Task.Yield();
                    yield return fps;
                }
            }
            """).SetName("topics_match_their_baseline");
    }

    [TestCaseSource(nameof(Cases))]
    public void matches(string name, string source)
    {
        (GeneratorRunResult result, _) = CompilationHelper.Run(CompilationHelper.CreateCompilation("Cameras", Prelude + source));
        result.Diagnostics.Should().BeEmpty();
        // Every generated file, in hint-name order (the method table, then the topics when there are any).
        string actual = string.Join(
            "// ---- next generated file ----\n",
            result.GeneratedSources.OrderBy(s => s.HintName, StringComparer.Ordinal).Select(s => s.SourceText.ToString()));

        string fileName = name + ".g.cs.txt";
        if (Environment.GetEnvironmentVariable("CAMERARPC_UPDATE_BASELINES") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDirectory(), "Baselines", fileName), actual);
            Assert.Ignore("Baseline " + fileName + " rewritten.");
        }

        string expected = File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Generator", "Baselines", fileName));
        actual.Should().Be(expected.ReplaceLineEndings("\n"), "the emitted source is deterministic; rerun with CAMERARPC_UPDATE_BASELINES=1 if the change is intended");
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
