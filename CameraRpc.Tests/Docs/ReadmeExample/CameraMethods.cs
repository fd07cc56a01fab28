using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using CameraRpc.Protocol;

namespace CameraRpc.Server.Methods;

/// <summary>How a camera chooses its exposure; sent and received by name, "Auto" or "Manual".</summary>
public enum ExposureMode
{
    Auto,
    Manual,
}

/// <summary>One camera's exposure: the answer of camera.setExposure and the params of camera.exposureChanged.</summary>
public sealed record ExposureSettings(string Camera, double Milliseconds, ExposureMode Mode);

/// <summary>
/// System.Text.Json metadata for the types the methods below take, return or push, generated at compile
/// time: no reflection at request time, so the Native AOT executable can serialize them.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ExposureSettings))]
[JsonSerializable(typeof(ExposureSettings[]))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class CameraJsonContext : JsonSerializerContext;

/// <summary>Camera-control methods and topics; [RpcJsonContext] names the context that reads and writes ExposureSettings.</summary>
[RpcJsonContext(typeof(CameraJsonContext))]
internal static class CameraMethods
{
    /// <summary>Application error codes lie outside -32768..-32000, which JSON-RPC reserves.</summary>
    public const int UnknownCamera = 1001;

    private static readonly ConcurrentDictionary<string, ExposureSettings> s_cameras = new(StringComparer.Ordinal)
    {
        ["front"] = new("front", 10, ExposureMode.Auto),
        ["rear"] = new("rear", 10, ExposureMode.Auto),
    };

    /// <summary>
    /// Client parameters: camera, milliseconds, and the optional mode (Manual when left out), by name or by
    /// position. RpcContext and CancellationToken are supplied by the server and never count as params.
    /// </summary>
    [RpcMethod("camera.setExposure", Summary = "Sets a camera's exposure time and pushes camera.exposureChanged.")]
    public static async Task<ExposureSettings> SetExposureAsync(
        RpcContext context,
        string camera,
        double milliseconds,
        ExposureMode mode = ExposureMode.Manual,
        CancellationToken cancellationToken = default)
    {
        if (!s_cameras.ContainsKey(camera))
        {
            throw UnknownCameraError(camera);
        }

        // Talking to the hardware takes a while; the token is cancelled when the client disconnects or
        // when shutdown runs out of --shutdown-timeout.
        await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken).ConfigureAwait(false);
        var settings = new ExposureSettings(camera, milliseconds, mode);
        s_cameras[camera] = settings;
        Controls.Publish(Snapshot()); // every subscriber of camera.controls, on every connection

        // Push the change to this client before answering. Over HTTP POST there is no way to push, so check.
        if (context.CanNotify)
        {
            await context.NotifyAsync("camera.exposureChanged", settings, CameraJsonContext.Default.ExposureSettings, cancellationToken)
                .ConfigureAwait(false);
        }

        return settings;
    }

    [RpcMethod("camera.getExposure", Summary = "A camera's current exposure.")]
    public static ExposureSettings GetExposure(string camera) =>
        s_cameras.TryGetValue(camera, out ExposureSettings? settings) ? settings : throw UnknownCameraError(camera);

    [RpcMethod("camera.list", Summary = "The names of the cameras.")]
    public static string[] List() => s_cameras.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A fed topic: the set method publishes every camera's exposure; the value is serialized once for all
    /// subscribers. Coalesce keeps only the newest unsent state for a slow client, and a new subscriber
    /// gets the current state at once, as its event 1.
    /// </summary>
    [RpcTopic("camera.controls", Overflow = RpcOverflow.Coalesce, Summary = "Every camera's exposure: the current state first, then each change.")]
    public static RpcTopic<ExposureSettings[]> Controls { get; } = new(current: Snapshot);

    /// <summary>
    /// A per-subscriber topic: run for each subscription with its params, bound like a method's. Checking
    /// the camera here (not inside the iterator) turns a wrong name into an error answer to rpc.subscribe.
    /// </summary>
    [RpcTopic("camera.frames", Capacity = 32, Overflow = RpcOverflow.DropOldest, Summary = "Frame numbers of one camera as it captures them.")]
    public static IAsyncEnumerable<long> Frames(string camera, int fps = 5, CancellationToken cancellationToken = default) =>
        s_cameras.ContainsKey(camera) ? CaptureAsync(Math.Clamp(fps, 1, 100), cancellationToken) : throw UnknownCameraError(camera);

    // Ends when the subscription does (unsubscribe, disconnect, shutdown): the token is cancelled.
    private static async IAsyncEnumerable<long> CaptureAsync(int fps, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / fps));
        for (long frame = 1; await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false); frame++)
        {
            yield return frame;
        }
    }

    private static ExposureSettings[] Snapshot() => s_cameras.Values.OrderBy(s => s.Camera, StringComparer.Ordinal).ToArray();

    // The client receives exactly this code, message and data: {"code":1001,"message":"Unknown camera: side","data":["front","rear"]}.
    private static RpcException UnknownCameraError(string camera) =>
        new(UnknownCamera, "Unknown camera: " + camera, JsonSerializer.SerializeToElement(List(), CameraJsonContext.Default.StringArray));
}
