namespace CameraRpc.Server.Configuration;

/// <summary>Short, readable reasons for file errors in startup failure lines.</summary>
/// <remarks>
/// The AOT build sets <c>UseSystemResourceKeys</c>, which replaces the runtime's exception messages with
/// resource keys (<c>IO_FileNotFound_FileName</c>); an operator reading "cannot open log file" deserves
/// words, so the common causes are named here and only the rare ones fall back to the exception's message.
/// </remarks>
internal static class FileErrorText
{
    public static string Describe(Exception exception) => exception switch
    {
        UnauthorizedAccessException => "permission denied",
        FileNotFoundException or DirectoryNotFoundException => "no such file or folder",
        PathTooLongException => "path too long",
        ArgumentException or NotSupportedException => "not a valid path",
        _ => exception.Message,
    };
}
