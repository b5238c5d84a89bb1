using System.Diagnostics;
using System.Globalization;

namespace Parallelize.Tests.Support;

/// <summary>
/// Fails a run that hangs with the managed stack of every thread in the process, instead of a bare timeout.
/// </summary>
/// <remarks>
/// <para>.NET cannot walk another thread's stack from inside the process, so the watchdog runs the <c>StackDump</c>
/// tool (test/StackDump) on its own process: the tool asks this process's runtime for a small dump through the
/// diagnostics channel (the runtime runs <c>createdump</c> itself, so ptrace restrictions do not get in the way),
/// reads every thread's managed stack from it with ClrMD, prints them and deletes the dump. A <c>Normal</c> dump
/// (stacks and the runtime's own data, no GC heap) is a few tens of megabytes and takes about a second.</para>
/// <para>The watchdog waits on a dedicated thread and captures the stacks there, so a starved thread pool (a
/// classic cause of hangs) cannot keep it from firing.</para>
/// </remarks>
internal static class DeadlockWatchdog
{
    /// <summary>
    /// Runs <paramref name="body"/> on the thread pool. If it has not finished after <paramref name="limit"/>,
    /// writes every thread's managed stack to <paramref name="report"/> and throws a <see cref="TimeoutException"/>
    /// whose message holds them. The hung body is left running.
    /// </summary>
    public static async Task RunAsync(string what, TimeSpan limit, Func<Task> body, Action<string> report)
    {
        Task run = Task.Run(body);
        var finished = new ManualResetEventSlim();
        _ = run.ContinueWith(_ => finished.Set(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var verdict = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watchdog = new Thread(() =>
        {
            try
            {
                verdict.SetResult(finished.Wait(limit) ? null : Hung(what, limit, report));
            }
#pragma warning disable CA1031 // An exception on this thread would crash the test host: hand it to the test.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                verdict.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "Deadlock watchdog",
        };
        watchdog.Start();

        string? hung = await verdict.Task;
        if (hung is not null)
        {
            throw new TimeoutException(hung);
        }

        await run;
    }

    private static string Hung(string what, TimeSpan limit, Action<string> report)
    {
        string message = $"{what} did not finish within {limit.TotalSeconds:0.#} s. Managed stacks of every thread:\n{ManagedStacks.Capture()}";
        try
        {
            report(message);
        }
        catch (InvalidOperationException)
        {
            // The test's output helper is gone (the test ended meanwhile); the exception still says it all.
        }

        return message;
    }
}

/// <summary>Every thread's managed stack, read by the <c>StackDump</c> tool from a dump of the current process.</summary>
internal static class ManagedStacks
{
    /// <summary>Runs <c>StackDump</c> on the current process and returns what it printed; never throws.</summary>
    public static string Capture()
    {
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(BuiltTool("StackDump"));
            start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            using Process tool = Process.Start(start) ?? throw new InvalidOperationException("Could not start StackDump.");
            Task<string> output = tool.StandardOutput.ReadToEndAsync();
            Task<string> error = tool.StandardError.ReadToEndAsync();
            if (!tool.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                tool.Kill(entireProcessTree: true);
                return "(StackDump did not finish in two minutes)";
            }

            return tool.ExitCode == 0
                ? output.Result
                : $"(StackDump failed with exit code {tool.ExitCode}: {error.Result})\n{output.Result}";
        }
#pragma warning disable CA1031 // A failure to capture must not hide the hang it is reporting.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return $"(could not capture the stacks: {ex.GetType().Name}: {ex.Message})";
        }
    }

    /// <summary>Finds a tool project's build output next to the test assembly's: test/&lt;Name&gt;/bin/&lt;Configuration&gt;/&lt;Framework&gt;/.</summary>
    private static string BuiltTool(string name)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string path = Path.Combine(testBin.Parent!.Parent!.Parent!.Parent!.FullName, name, "bin", testBin.Parent.Name, testBin.Name, name + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The {name} tool is not built.", path);
    }
}
