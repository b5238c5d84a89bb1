using System.Diagnostics;

namespace Parallelize.Tests.Benchmarks;

/// <summary>
/// Runs the benchmark suite's tiny quick mode as a child process, the way CI and a user run it: it asserts nothing
/// about speed, only that every contender produced every result and that the table names each of them.
/// </summary>
public sealed class BenchmarkSmokeTests
{
    [Fact(Timeout = 180_000)]
    public async Task QuickModeTiny_EveryContenderProducesEveryResult_PrintsTheTable()
    {
        (int exitCode, string output, string progress) = await RunBenchmarksAsync("--quick", "--tiny");

        Assert.True(exitCode == 0, output + progress);
        Assert.Contains("every contender produced every result", progress, StringComparison.Ordinal);
        string header = output.Split('\n').First(line => line.StartsWith("| work per call | calls |", StringComparison.Ordinal));
        foreach (string contender in new[] { "plain loop", "Parallel.For", "Dataflow", "Channels", "Parallelize" })
        {
            Assert.Contains($"| {contender} |", header, StringComparison.Ordinal);
        }

        foreach (string row in new[] { "| no work ", "| ~100 ns ", "| ~1 µs ", "| ~10 µs ", "| blocking: ", "| async: " })
        {
            Assert.Contains(row, output, StringComparison.Ordinal);
        }

        Assert.Contains("`Stop()` with 2,000 calls queued", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task QuickMode_BadArguments_PrintsUsageAndExitsWithTwo()
    {
        (int exitCode, _, string progress) = await RunBenchmarksAsync("--quick", "--repeats", "0");

        Assert.Equal(2, exitCode);
        Assert.Contains("usage", progress, StringComparison.Ordinal);
    }

    private static Task<(int ExitCode, string Output, string Error)> RunBenchmarksAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(BenchmarksPath());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Examples.ExampleRunner.RunToEndAsync(start, "the benchmarks");
    }

    private static string BenchmarksPath()
    {
        // The test assembly lives in test/Parallelize.Tests/bin/<Configuration>/<TargetFramework>/; the project
        // reference builds the benchmarks to test/Parallelize.Benchmarks/bin/<Configuration>/<TargetFramework>/.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testBin.Name;
        string configuration = testBin.Parent!.Name;
        DirectoryInfo projects = testBin.Parent.Parent!.Parent!.Parent!;
        string path = Path.Combine(projects.FullName, "Parallelize.Benchmarks", "bin", configuration, framework, "Parallelize.Benchmarks.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("The benchmarks are not built.", path);
    }
}
