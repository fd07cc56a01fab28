namespace CameraRpc.Server.Tools.Cli;

/// <summary>What a command does with an option name (<see cref="CommandArguments"/>).</summary>
internal enum OptionKind
{
    /// <summary>Not an option of this command: an error.</summary>
    Unknown,

    /// <summary>Takes a value: <c>--name value</c> or <c>--name=value</c>.</summary>
    Value,

    /// <summary>A switch without a value: <c>--name</c>.</summary>
    Flag,
}
