using System.Globalization;
using System.Text.RegularExpressions;

namespace Parallelize.Hosting.Tests.Examples;

/// <summary>Runs examples/Telemetry and reads the OpenTelemetry console exporter's output.</summary>
public sealed class TelemetrySmokeTests
{
    [Fact(Timeout = 180_000)]
    public async Task Telemetry_ShortJob_ExportsTheCountersWithTheRightCountsAndShowsTheCountersCommand()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("Telemetry", "--calls", "40", "--call-ms", "1");

        Assert.True(exitCode == 0, output);
        Assert.Contains("dotnet-counters monitor -n Telemetry --counters Parallelize", output, StringComparison.Ordinal);
        Assert.Contains("job: 40 calls = 40 results + 0 failures + 0 aborted;", output, StringComparison.Ordinal);
        Assert.Equal(40, Exported(output, "parallelize.calls"));
        Assert.Equal(40, Exported(output, "parallelize.succeeded"));
        Assert.Equal(4, Exported(output, "parallelize.retries")); // inputs 10, 20, 30 and 40 fail once each
        // Restarts depend on timing (an executor blamed when its input succeeds elsewhere restarts at its next lease; a
        // restart still due when the pool stops is not made): the exported count must be the pool's own, at most one
        // per failed input.
        Match job = Regex.Match(output, @"job: 40 calls = [^\n]*; (?<restarts>\d+) restarts");
        Assert.True(job.Success, output);
        long restarts = long.Parse(job.Groups["restarts"].Value, CultureInfo.InvariantCulture);
        Assert.InRange(restarts, 0, 4);
        Assert.Equal(restarts, Exported(output, "parallelize.restarts"));
        Assert.Equal(0, Exported(output, "parallelize.failures"));
        Assert.Matches(@"Metric Name: parallelize\.call\.duration,[^\n]*Histogram", output);
        Assert.Contains("parallelize.pool.name: telemetry", output, StringComparison.Ordinal);
        Assert.Contains("Activity.DisplayName:        job", output, StringComparison.Ordinal);

        // A span per attempt: 40 calls and 4 retries, each a child of the job's span, tagged with its outcome.
        Match spans = Regex.Match(output, @"spans from the Parallelize activity source: (?<count>\d+) \((?<children>\d+) children of the job's span\)");
        Assert.True(spans.Success, output);
        Assert.Equal(44, int.Parse(spans.Groups["count"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(44, int.Parse(spans.Groups["children"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(44, Regex.Count(output, @"Activity\.DisplayName:\s+parallelize\.call"));
        Assert.Equal(4, Regex.Count(output, @"parallelize\.outcome: failure"));
    }

    /// <summary>The last value the console exporter printed for a counter.</summary>
    private static long Exported(string output, string metric)
    {
        MatchCollection values = Regex.Matches(output, $@"Metric Name: {Regex.Escape(metric)},.*?\nValue: (?<value>\d+)", RegexOptions.Singleline);
        Assert.True(values.Count > 0, $"{metric} was not exported:\n{output}");
        return long.Parse(values[^1].Groups["value"].Value, CultureInfo.InvariantCulture);
    }
}
