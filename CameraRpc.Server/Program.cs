namespace CameraRpc.Server;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.WriteLine("CameraRpc.Server");
        return 0;
    }
}
