using System.Text.RegularExpressions;

namespace Parallelize.Tests.Examples;

public sealed partial class ExampleSmokeTests
{
    [Fact(Timeout = 180_000)]
    public async Task Sleepers_SmallRun_FinishesAndAccountsForEveryCall()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("Sleepers", "--executors", "20", "--calls", "100", "--sleep-ms", "1");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Finished sleeping...", output, StringComparison.Ordinal);
        Match counts = CountsLine().Match(output);
        Assert.True(counts.Success, output);
        Assert.Equal("0", counts.Groups["aborted"].Value);
        Assert.Equal("100", counts.Groups["results"].Value);
        Assert.Equal("100", counts.Groups["total"].Value);
    }

    [Fact(Timeout = 180_000)]
    public async Task Sleepers_SigTerm_StopsGracefullyAccountsForEveryCallAndExitsWith143()
    {
        // 5,000 calls of 100 ms on 10 executors would take 50 s; SIGTERM stops it after the first wave or so.
        (int exitCode, string output) = await ExampleRunner.RunAndSignalAsync(
            "Sleepers", "Queued", "TERM", "--executors", "10", "--calls", "5000", "--sleep-ms", "100");

        Assert.True(exitCode == 143, output);
        Match counts = CountsLine().Match(output);
        Assert.True(counts.Success, output);
        Assert.Equal("5000", counts.Groups["total"].Value);
        Assert.True(int.Parse(counts.Groups["aborted"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, output);
    }

    [Fact(Timeout = 180_000)]
    public async Task Sleepers_SigInt_StopsGracefullyAccountsForEveryCallAndExitsWith130()
    {
        (int exitCode, string output) = await ExampleRunner.RunAndSignalAsync(
            "Sleepers", "Queued", "INT", "--executors", "10", "--calls", "5000", "--sleep-ms", "100");

        Assert.True(exitCode == 130, output);
        Assert.Contains("Got SIGINT: stopping", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Finished sleeping", output, StringComparison.Ordinal);
        Match counts = CountsLine().Match(output);
        Assert.True(counts.Success, output);
        Assert.Equal("5000", counts.Groups["total"].Value);
        Assert.True(int.Parse(counts.Groups["aborted"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, output);
    }

    [Fact(Timeout = 180_000)]
    public async Task Sleepers_SecondSigIntWhileStopping_ExitsAtOnceWith130()
    {
        // Calls of ten minutes and ten minutes to finish: only the second Ctrl-C can end the run within the test's time.
        (int exitCode, string output) = await ExampleRunner.RunAndSignalAsync(
            "Sleepers",
            [("Queued", "INT"), ("Got SIGINT: stopping", "INT")],
            "--executors", "2", "--calls", "10", "--sleep-ms", "600000", "--finish-timeout-ms", "600000");

        Assert.True(exitCode == 130, output);
        Assert.False(CountsLine().IsMatch(output), output); // it did not wait for the stop to finish
    }

    [Fact(Timeout = 180_000)]
    public async Task StreamMemory_SigInt_StopsGracefullyAccountsForEveryCallAndExitsWith130()
    {
        (int exitCode, string output) = await ExampleRunner.RunAndSignalAsync("StreamMemory", "Streaming;", "INT", "--calls", "100000000");

        Assert.True(exitCode == 130, output);
        Match stopped = Regex.Match(output, @"stopped by SIGINT: produced (?<produced>\d+) = consumed (?<consumed>\d+) \+ failed 0 \+ aborted (?<aborted>\d+): OK");
        Assert.True(stopped.Success, output);
        Assert.True(long.Parse(stopped.Groups["produced"].Value, System.Globalization.CultureInfo.InvariantCulture) < 100_000_000, output);
    }

    [Fact(Timeout = 180_000)]
    public async Task Sleepers_BadArguments_PrintsUsageAndExitsWithTwo()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("Sleepers", "--executors", "0");

        Assert.Equal(2, exitCode);
        Assert.Contains("usage", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task DeferredExecutors_SmallRun_InitializesInParallelAndCollectsEveryResult()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("DeferredExecutors", "--executors", "8", "--calls", "40", "--init-ms", "50");

        Assert.True(exitCode == 0, output);
        Assert.Contains("8 executors on 8 threads", output, StringComparison.Ordinal);
        Assert.Contains("40 results", output, StringComparison.Ordinal);
        Assert.Equal(8, Regex.Count(output, @"\.Dispose"));
        Assert.EndsWith("after stop", output.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task StreamMemory_SmallRun_ConsumesEveryResultWithTheRightChecksum()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("StreamMemory", "--calls", "200000", "--capacity", "64", "--quiet");

        Assert.True(exitCode == 0, output);
        Assert.Contains("consumed 200000 of 200000", output, StringComparison.Ordinal);
        Assert.Contains(": OK", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Soak_TwoSeconds_RunsWithFaultsAndAccountsForEveryCall()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("Soak", "--seconds", "2", "--report-seconds", "1");

        Assert.True(exitCode == 0, output);
        Match calls = Regex.Match(output, @"(?<accepted>\d+) calls accepted = (?<results>\d+) results \+ (?<failures>\d+) failures \+ (?<aborted>\d+) aborted: lost 0, duplicated 0");
        Assert.True(calls.Success, output);
        long Count(string name) => long.Parse(calls.Groups[name].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Count("accepted") > 0, output);
        Assert.Equal(Count("accepted"), Count("results") + Count("failures") + Count("aborted"));
        Match executors = Regex.Match(output, @"executors created (?<created>\d+), disposed (?<disposed>\d+)");
        Assert.True(executors.Success, output);
        Assert.Equal(executors.Groups["created"].Value, executors.Groups["disposed"].Value);
        Assert.Contains("run too short to judge", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"aborted (?<aborted>\d+) \+ results (?<results>\d+) = (?<total>\d+) calls")]
    private static partial Regex CountsLine();
}
