using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

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
        // Each of the 8 poison inputs crashed a worker on both its attempts, each a process of its own: at least 16
        // crashes. Not exactly 16: a crash may also come from the grace attempt an input on its last attempt is given
        // while half of the recent attempts have failed (an outage may be starting; crashes come in bursts while
        // workers restart, more so on a loaded machine). And a failure may list more than 2 attempts: a call sent to a
        // worker behind the call that crashed it is taken back at no cost, but its failure record keeps that loss.
        Match crashes = Regex.Match(text, @"crashes (?<count>\d+),");
        Assert.True(crashes.Success, text);
        Assert.True(int.Parse(crashes.Groups["count"].Value, CultureInfo.InvariantCulture) >= 16, text);
        Assert.Equal(8, Regex.Count(text, @"input \d+: [2-9] attempts, worker killed by SIGABRT \(exit 134\)"));
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
