using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Parallelize.Orleans.Tests.Examples;

/// <summary>
/// The Cluster example as a user runs it: three silo processes on loopback, the client running the sleepers, and
/// one silo killed with kill -9 while it runs calls.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class ClusterExampleTests
{
    [Fact(Timeout = 180_000)]
    public async Task Client_SiloKilledMidRun_EveryCallEndsOnceAndTheKilledSiloIsGone()
    {
        (int basePort, int gatewayPort) = FreePorts(3);
        string[] ports = ["--silos", "3", "--base-port", Invariant(basePort), "--gateway-port", Invariant(gatewayPort)];
        var silos = new List<(Process Process, StringBuilder Output)>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                // Each silo joins through silo 0's membership table, so they start one after another.
                silos.Add(await StartSiloAsync(i, ports));
            }

            (int exitCode, string output) = await RunAsync(["client", "--calls", "600", "--sleep-ms", "50", "--executors", "24", "--kill-after", "150", .. ports]);

            Assert.True(exitCode == 0, output);
            Assert.True(output.Contains("calls 600 = results 600 + failures 0 + aborted 0", StringComparison.Ordinal), output);
            Assert.True(output.Contains("lost 0, duplicated 0", StringComparison.Ordinal), output);
            Assert.True(Regex.IsMatch(output, @"killed silo[12] \(pid \d+, kill -9\) with \d+ executor\(s\) on it: calls lost on it [1-9]"), output);
            Assert.Single(silos, s => s.Process.HasExited);
            Assert.False(silos[0].Process.HasExited);
        }
        finally
        {
            foreach ((Process process, _) in silos)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }
    }

    private static async Task<(Process, StringBuilder)> StartSiloAsync(int index, string[] ports)
    {
        Process process = Process.Start(StartInfo(["silo", "--id", Invariant(index), .. ports]))
            ?? throw new InvalidOperationException("Could not start a silo.");
        var output = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains(" ready ", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            lock (output)
            {
                throw new TimeoutException($"silo{index} did not start:\n{output}");
            }
        }

        return (process, output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string[] arguments)
    {
        using Process process = Process.Start(StartInfo(arguments)) ?? throw new InvalidOperationException("Could not start the client.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The client did not finish in two minutes:\n{await output}{await error}");
        }

        return (process.ExitCode, await output + await error);
    }

    private static ProcessStartInfo StartInfo(string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ExamplePath());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static string ExamplePath()
    {
        // The test assembly is in test/Parallelize.Orleans.Tests/bin/<Configuration>/<TargetFramework>/; the project
        // reference builds the example to examples/Cluster/bin/<Configuration>/<TargetFramework>/.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        DirectoryInfo? root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Parallelize.sln")))
        {
            root = root.Parent;
        }

        string path = Path.Combine(root?.FullName ?? ".", "examples", "Cluster", "bin", testBin.Parent!.Name, testBin.Name, "Cluster.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("The Cluster example is not built.", path);
    }

    /// <summary>Finds two runs of <paramref name="count"/> consecutive free loopback ports (silos and gateways).</summary>
    private static (int Silos, int Gateways) FreePorts(int count)
    {
        int? first = null;
        for (int start = 20000 + Random.Shared.Next(20000); start < 60000; start += count)
        {
            if (Enumerable.Range(start, count).All(IsFree))
            {
                if (first is int silos)
                {
                    return (silos, start);
                }

                first = start;
            }
        }

        throw new InvalidOperationException("No free ports on loopback.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
