using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Parallelize.Hosting.Tests;

/// <summary>
/// A real Generic Host in a child process (ChildHost/Program.cs), stopped by a real SIGTERM while calls run and queue
/// and its producer waits on a full queue; then started again to do what the first run saved.
/// </summary>
public sealed class ChildHostSignalTests : IDisposable
{
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("parallelize-child-");

    public void Dispose() => _state.Delete(recursive: true);

    [Fact(Timeout = 180_000)]
    public async Task SigTerm_WhileCallsRunAndQueue_EveryAcceptedInputEndsInResultsFailuresOrTheStoreAndTheNextRunDoesTheSavedOnes()
    {
        // First run: when the signal comes, results are in, executors hold calls (the first ignoring its token), calls
        // wait behind them, and the producer waits for room.
        (int exitCode, string output) = await RunAsync(signalWhenReady: true, "--mode", "block", "--inputs", "1000");

        Assert.True(exitCode == 0, output);
        Report first = ReadReport();
        int[] saved = ReadSaved();
        Assert.Equal(Enumerable.Range(1, first.Accepted.Length), first.Accepted.Order());
        Assert.Contains(first.Hung, first.Held);
        Assert.Superset(first.Held.ToHashSet(), saved.ToHashSet()); // the held calls, the hung one too: abandoned at the deadline
        Assert.All(first.Results, input => Assert.True(input < 20 && input % 10 != 7, $"{input} cannot have a result"));
        Assert.All(first.Failures, input => Assert.Equal(7, input % 10));
        Assert.Equal(first.Accepted.Where(input => input < 20).Count(input => input % 10 != 7), first.Results.Length + saved.Count(input => input < 20 && input % 10 != 7));
        AssertEveryInputEndsOnce(first.Accepted, first.Results, first.Failures, saved);
        Assert.Equal("InvalidOperationException", first.Refusal); // the producer blocked on the full queue was refused
        Assert.True(first.StopMilliseconds < 6_000, $"the stop took {first.StopMilliseconds} ms, over the host's 6 s shutdown timeout");

        // Second run: the saved inputs are queued first, then 5 new ones; everything ends, nothing is left to save.
        (exitCode, output) = await RunAsync(signalWhenReady: false, "--mode", "finish", "--inputs", "5");

        Assert.True(exitCode == 0, output);
        Report second = ReadReport();
        Assert.Equal(saved, second.Resumed);
        Assert.Equal(saved.Concat(Enumerable.Range(1, 5)).Order(), second.Accepted.Order());
        AssertEveryInputEndsOnce(second.Accepted, second.Results, second.Failures, ReadSaved());
        Assert.Empty(ReadSaved());
        Assert.Equal(saved.Where(input => input % 10 == 7).Order(), second.Failures.Order());
    }

    /// <summary>Asserts that the accepted inputs are exactly the results, failures and saved inputs, as multisets.</summary>
    private static void AssertEveryInputEndsOnce(int[] accepted, int[] results, int[] failures, int[] saved)
    {
        int[] ended = [.. results, .. failures, .. saved];
        var lost = accepted.Except(ended).ToArray();
        var extra = ended.Except(accepted).ToArray();
        Assert.True(lost.Length == 0 && extra.Length == 0, $"lost: [{string.Join(", ", lost)}], never accepted: [{string.Join(", ", extra)}]");
        Assert.Equal(accepted.Order(), ended.Order()); // and none twice
    }

    private Report ReadReport()
    {
        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(Path.Combine(_state.FullName, "report.json")));
        JsonElement root = report.RootElement;
        int[] Numbers(string name) => [.. root.GetProperty(name).EnumerateArray().Select(element => element.GetInt32())];
        return new Report(
            Numbers("resumed"),
            Numbers("accepted"),
            Numbers("results"),
            Numbers("failures"),
            root.GetProperty("refusal").GetString(),
            root.GetProperty("hung").GetInt32(),
            Numbers("held"),
            root.GetProperty("stopMilliseconds").GetInt64());
    }

    private int[] ReadSaved()
    {
        string path = Path.Combine(_state.FullName, "aborted.json");
        return File.Exists(path) ? JsonSerializer.Deserialize<int[]>(File.ReadAllText(path))! : [];
    }

    /// <summary>Runs the child host; with <paramref name="signalWhenReady"/>, sends it SIGTERM once it prints "ready".</summary>
    private async Task<(int ExitCode, string Output)> RunAsync(bool signalWhenReady, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "ChildHost", "bin", Configuration, Framework, "ChildHost.dll"));
        start.ArgumentList.Add("--state");
        start.ArgumentList.Add(_state.FullName);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child host.");
        var output = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data == "ready")
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
            if (signalWhenReady)
            {
                await ready.Task.WaitAsync(TimeSpan.FromMinutes(1));
                using Process kill = Process.Start("kill", ["-s", "TERM", process.Id.ToString(CultureInfo.InvariantCulture)])
                    ?? throw new InvalidOperationException("Could not run kill.");
                await kill.WaitForExitAsync();
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            lock (output)
            {
                throw new TimeoutException($"The child host did not get ready or did not exit. Output so far:\n{output}");
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static string Framework => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;

    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    private sealed record Report(int[] Resumed, int[] Accepted, int[] Results, int[] Failures, string? Refusal, int Hung, int[] Held, long StopMilliseconds);
}
