using System.Globalization;
using System.Text.RegularExpressions;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Examples;

/// <summary>Runs the CommandRunner and SharedData examples with tiny sizes and checks what they print.</summary>
public sealed partial class NewExampleSmokeTests
{
    [Fact(Timeout = 180_000)]
    public async Task CommandRunner_StreamMode_CollectsEveryExitCodeAndOutput()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("CommandRunner", "--processes", "3", "--count", "20", "--fail-every", "6");

        Assert.True(exitCode == 0, output);
        Dictionary<int, int> codes = ResultLine().Matches(output).ToDictionary(m => Number(m, "item"), m => Number(m, "code"));
        Assert.Equal(Enumerable.Range(1, 20), codes.Keys.Order());
        Assert.All(codes, c => Assert.Equal(c.Key % 6 == 0 ? 3 : 0, c.Value));
        Assert.Contains("exit codes: 0 x17, 3 x3", output, StringComparison.Ordinal);
        long squares = Enumerable.Range(1, 20).Where(i => i % 6 != 0).Sum(i => (long)i * i);
        Assert.Contains($"sum of the outputs of exit code 0: {squares}", output, StringComparison.Ordinal);
        Assert.Contains("aborted 0 + results 20 + failures 0 = 20 calls (queued 20)", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task CommandRunner_StreamModeWithOwnProgram_AppendsEachArgumentWithoutAShell()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("CommandRunner", "--count", "3", "--", "echo", "a  b", "$HOME");

        Assert.True(exitCode == 0, output);
        for (int i = 1; i <= 3; i++)
        {
            Assert.Contains($"{i}: exit 0 after", output, StringComparison.Ordinal);
            Assert.Contains($"a  b $HOME {i}", output, StringComparison.Ordinal);
        }

        Assert.Contains("exit codes: 0 x3", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task CommandRunner_BatchMode_MergesEveryFilePairwiseInOrder()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("CommandRunner", "batch", "--processes", "3", "--files", "7", "--lines", "50");

        Assert.True(exitCode == 0, output);
        Assert.Contains("wrote 7 files of 50 lines", output, StringComparison.Ordinal);
        Assert.Contains("round 1: 7 files -> 4", output, StringComparison.Ordinal);
        Assert.Contains("round 2: 4 files -> 2", output, StringComparison.Ordinal);
        Assert.Contains("round 3: 2 files -> 1", output, StringComparison.Ordinal);
        Assert.Contains("merged 7 files in 3 rounds: 350 lines, 1..350 in order: OK", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task CommandRunner_SigTerm_HasKilledTheRunningProcessesWhenItExitsAndAccountsForEveryCall()
    {
        // Runs 1-3 write their pid and block; run 4 waits until they have, then prints "ready: 3" (computed, so that
        // the command line the example echoes first does not contain it) and exits: the signal comes after that.
        const string Script =
            """
            if [ "$1" -le 3 ]; then echo $$ > "$0/$1.tmp"; mv "$0/$1.tmp" "$0/$1.pid"; exec sleep 1000; fi
            while [ ! -e "$0/1.pid" ] || [ ! -e "$0/2.pid" ] || [ ! -e "$0/3.pid" ]; do sleep 0.01; done
            echo "ready: $(( 1 + 2 ))"
            """;
        DirectoryInfo dir = Directory.CreateTempSubdirectory("parallelize-commandrunner-");
        try
        {
            (int exitCode, string output) = await ExampleRunner.RunAndSignalAsync(
                "CommandRunner", "ready: 3", "TERM", "--processes", "4", "--count", "4", "--finish-timeout-ms", "0", "--", "sh", "-c", Script, dir.FullName);

            Assert.True(exitCode == 143, output);
            Assert.Contains("aborted 3 + results 1 + failures 0 = 4 calls (queued 4)", output, StringComparison.Ordinal);
            int[] pids = [.. Enumerable.Range(1, 3).Select(i => int.Parse(File.ReadAllText(Path.Combine(dir.FullName, $"{i}.pid")), CultureInfo.InvariantCulture))];
            Assert.All(pids, pid => Assert.True(ProcessState.IsDeadOrKilled(pid), $"process {pid} outlived the example"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task CommandRunner_BadArguments_PrintsUsageAndExitsWithTwo()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("CommandRunner", "--processes", "0");
        (int batchExitCode, string batchOutput) = await ExampleRunner.RunAsync("CommandRunner", "batch", "--", "echo");

        Assert.Equal(2, exitCode);
        Assert.Contains("usage", output, StringComparison.Ordinal);
        Assert.Equal(2, batchExitCode);
        Assert.Contains("usage", batchOutput, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task SharedData_SmallRun_EveryExecutorCountMergesToTheSingleThreadedResult()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync(
            "SharedData", "--size", "100000", "--chunks", "16", "--rounds", "2", "--max-executors", "3", "--repeat", "1");

        Assert.True(exitCode == 0, output);
        Match single = SingleLine().Match(output);
        Assert.True(single.Success, output);
        string expected = single.Groups["checksum"].Value;
        Assert.StartsWith("100000:", expected, StringComparison.Ordinal);
        MatchCollection rows = ExecutorsLine().Matches(output);
        Assert.Equal(["1", "2", "3"], rows.Select(r => r.Groups["executors"].Value));
        Assert.All(rows, row => Assert.Equal(expected, row.Groups["checksum"].Value));
        Assert.Matches(@"choose [123] executors?: the fewest within 10% of the fastest", output);
    }

    [Fact(Timeout = 180_000)]
    public async Task SharedData_BadArguments_PrintsUsageAndExitsWithTwo()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("SharedData", "--max-executors", "0");

        Assert.Equal(2, exitCode);
        Assert.Contains("usage", output, StringComparison.Ordinal);
    }

    private static int Number(Match match, string group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\s+(?<item>\d+): exit (?<code>\d+) after", RegexOptions.Multiline)]
    private static partial Regex ResultLine();

    [GeneratedRegex(@"single thread .*, checksum (?<checksum>\S+)")]
    private static partial Regex SingleLine();

    [GeneratedRegex(@"^\s+(?<executors>\d+)\s+\d+\s.*\s(?<checksum>\d+:[0-9a-f]{16}:[0-9a-f]{16}) same\s*$", RegexOptions.Multiline)]
    private static partial Regex ExecutorsLine();
}
