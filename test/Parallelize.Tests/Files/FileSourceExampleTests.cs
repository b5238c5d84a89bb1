using System.Globalization;
using Parallelize.Tests.Examples;

namespace Parallelize.Tests.Files;

/// <summary>The CsvSums and BloomFilter examples on the file source, run as a user runs them.</summary>
public sealed class FileSourceExampleTests
{
    [Fact(Timeout = 180_000)]
    public async Task CsvSums_SmallRanges_WritesEveryRowSumInInputOrderAndReportsBadRowsWithTheirLine()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("parallelize-csvsums-");
        try
        {
            string input = Path.Combine(dir.FullName, "input.csv");
            string sums = Path.Combine(dir.FullName, "sums.txt");
            string[] rows = [.. Enumerable.Range(0, 3000).Select(i => i == 1234 ? "1,x,3" : string.Join(',', Enumerable.Range(i, 1 + (i % 9))))];
            await File.WriteAllTextAsync(input, string.Join("\r\n", rows));   // CRLF, no line break at the end

            // Ranges of 100 bytes: many ranges, lines cut at every position, so lost ordering or a line seen twice would show.
            (int exitCode, string output) = await ExampleRunner.RunAsync("CsvSums", "--in", input, "--out", sums, "--degree", "3", "--range", "100");

            Assert.True(exitCode == 1, output);
            long offset = rows.Take(1234).Sum(r => r.Length + 2);
            Assert.Contains($"input.csv:1235 (byte offset {offset}): not an integer row: \"1,x,3\"", output, StringComparison.Ordinal);
            string[] expected = [.. rows.Where((_, i) => i != 1234).Select(r => r.Split(',').Sum(long.Parse).ToString(CultureInfo.InvariantCulture))];
            Assert.Equal(expected, await File.ReadAllLinesAsync(sums));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task CsvSums_Compare_PrintsTheSpeedUpAndIdenticalSums()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("CsvSums", "--compare", "--rows", "5000", "--range", "4096");

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"speed-up over --single: \d+\.\d\dx; sums identical", output);
    }

    [Fact(Timeout = 180_000)]
    public async Task BloomFilter_Compare_SmallRanges_BuildsTheSameFilterAndPrintsTheSpeedUp()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync(
            "BloomFilter", "--compare", "--files", "3", "--rows", "1500", "--range", "333", "--bits", "65536", "--hashes", "5");

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"speed-up over --single: \d+\.\d\dx; filters identical", output);
        Assert.Contains("files 3, rows 4500,", output, StringComparison.Ordinal);
    }
}
