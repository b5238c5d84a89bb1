using System.Diagnostics;

namespace Parallelize.Isolation.Tests.Examples;

/// <summary>Runs the IsolatedWorkers example the way a user would, under the dotnet host and as its own executable.</summary>
public sealed class IsolatedWorkersExampleTests
{
    [Theory(Timeout = 2 * Timeouts.Test)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task IsolatedWorkers_PoisonInputsCrashTheirWorkers_RunCompletesWithEveryInputAccountedFor(bool underDotnetHost)
    {
        string dll = ExamplePath("IsolatedWorkers");
        var start = new ProcessStartInfo(underDotnetHost ? Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet" : Path.ChangeExtension(dll, null))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (underDotnetHost)
        {
            start.ArgumentList.Add(dll);
        }

        foreach (string argument in new[] { "--workers", "3", "--calls", "120", "--poison-every", "30" })
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        string text = await output + await error;

        Assert.True(process.ExitCode == 0, text);
        Assert.Contains("results 112 + failures 8 + aborted 0 = 120 of 120 calls", text, StringComparison.Ordinal);
        Assert.Contains("worker killed by SIGABRT (exit 134): Stack overflow.", text, StringComparison.Ordinal);
        Assert.Contains("worker killed by SIGABRT (exit 134): Process terminated. input 29 is poison", text, StringComparison.Ordinal);
        Assert.Contains("crashes 16,", text, StringComparison.Ordinal);
    }

    private static string ExamplePath(string example)
    {
        // The test assembly is in test/<project>/bin/<Configuration>/<TargetFramework>/; the example is built to
        // examples/<Name>/bin/<Configuration>/<TargetFramework>/ by the project reference.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        DirectoryInfo? root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Parallelize.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        string path = Path.Combine(root.FullName, "examples", example, "bin", testBin.Parent!.Name, testBin.Name, example + ".dll");
        Assert.True(File.Exists(path), $"{path} is built");
        return path;
    }
}
