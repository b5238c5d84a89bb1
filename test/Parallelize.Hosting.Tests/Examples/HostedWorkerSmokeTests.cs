using System.Globalization;
using System.Text.RegularExpressions;

namespace Parallelize.Hosting.Tests.Examples;

/// <summary>Runs examples/HostedWorker as a user would, stops it with SIGTERM, and runs it again to do what it saved.</summary>
public sealed partial class HostedWorkerSmokeTests : IDisposable
{
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("parallelize-worker-");

    public void Dispose() => _state.Delete(recursive: true);

    private string StateFile => Path.Combine(_state.FullName, "aborted.json");

    [Fact(Timeout = 180_000)]
    public async Task HostedWorker_FiniteStream_StopsByItselfAndAccountsForEveryInput()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("HostedWorker", "--inputs", "250", "--call-ms", "1", "--state", StateFile);

        Assert.True(exitCode == 0, output);
        Assert.Contains("results 248 + failures 2 + saved 0 = accepted 250: OK", output, StringComparison.Ordinal);
        AssertScopesBalance(output);
        Assert.False(File.Exists(StateFile));
    }

    [Fact(Timeout = 180_000)]
    public async Task HostedWorker_SigTerm_SavesWhatItAbortedAndTheNextRunDoesItFirst()
    {
        (int exitCode, string output) = await ExampleRunner.RunAndSignalAsync("HostedWorker", "progress:", "TERM", "--state", StateFile);

        Assert.True(exitCode == 0, output);
        Match counts = CountsLine().Match(output);
        Assert.True(counts.Success, output);
        Assert.Equal("OK", counts.Groups["verdict"].Value);
        long saved = Number(counts, "saved");
        Assert.True(saved > 0, output); // the bounded queue was full when the signal came
        Assert.Contains("saved to ", output, StringComparison.Ordinal);
        AssertScopesBalance(output);

        (exitCode, output) = await ExampleRunner.RunAsync("HostedWorker", "--inputs", "5", "--call-ms", "1", "--state", StateFile);

        Assert.True(exitCode == 0, output);
        Assert.Contains($"queued {saved} input(s) the last run saved", output, StringComparison.Ordinal);
        counts = CountsLine().Match(output);
        Assert.True(counts.Success, output);
        Assert.Equal("OK", counts.Groups["verdict"].Value);
        Assert.Equal(saved + 5, Number(counts, "accepted"));
        Assert.Equal(0, Number(counts, "saved"));
    }

    private static void AssertScopesBalance(string output)
    {
        Match scopes = Regex.Match(output, @"executor scopes created (?<created>\d+), disposed (?<disposed>\d+)");
        Assert.True(scopes.Success, output);
        Assert.Equal(scopes.Groups["created"].Value, scopes.Groups["disposed"].Value);
    }

    private static long Number(Match match, string group) => long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"results (?<results>\d+) \+ failures (?<failures>\d+) \+ saved (?<saved>\d+) = accepted (?<accepted>\d+): (?<verdict>\w+)")]
    private static partial Regex CountsLine();
}
