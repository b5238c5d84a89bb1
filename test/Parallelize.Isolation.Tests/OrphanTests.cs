using System.Diagnostics;
using Parallelize.Isolation.Tests.Support;
using Parallelize.Isolation.Tests.Workers;
using Xunit.Abstractions;

namespace Parallelize.Isolation.Tests;

/// <summary>The parent killed with <c>kill -9</c>: its workers and their children must all go, with no orphans.</summary>
public sealed class OrphanTests(ITestOutputHelper output) : IsolationTest
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task ParentKilledWithSigkill_EveryWorkerAndGrandchildExits()
    {
        string assembly = typeof(OrphanTests).Assembly.Location;
        string stem = Path.ChangeExtension(assembly, null);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { "exec", "--runtimeconfig", stem + ".runtimeconfig.json", "--depsfile", stem + ".deps.json", assembly, OrphanParent.Mode, Dir.FullName })
        {
            start.ArgumentList.Add(argument);
        }

        using Process parent = Process.Start(start)!;
        List<int> pids = [Pid(await WaitForFileAsync(PathFor("parent")))];
        for (int i = 0; i < 3; i++)
        {
            string text = await WaitForFileAsync(PathFor($"worker-{i}"));
            pids.AddRange(text.Split(' ').Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Equal(7, pids.Count); // the parent, three workers, three grandchildren
        Assert.All(pids, pid => Assert.True(ProcessState.IsRunning(pid), $"{pid} runs"));

        var clock = Stopwatch.StartNew();
        Native.Kill(parent.Id, 9);
        await Timeouts.Until(() => pids.All(pid => !ProcessState.IsRunning(pid)), "every worker and grandchild is gone");
        clock.Stop();

        output.WriteLine($"parent killed: {pids.Count - 1} descendants gone {clock.Elapsed.TotalMilliseconds:0.0} ms later");
        parent.WaitForExit();
        Assert.Equal(137, parent.ExitCode);
    }
}
