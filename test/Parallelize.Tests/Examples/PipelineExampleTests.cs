using System.Globalization;
using System.Text.RegularExpressions;

namespace Parallelize.Tests.Examples;

public sealed partial class PipelineExampleTests
{
    [Fact(Timeout = 180_000)]
    public async Task CsvSums_PipelineMode_WritesEveryRowSumInInputOrder()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("parallelize-csvsums-");
        try
        {
            string input = Path.Combine(dir.FullName, "input.csv");
            string sums = Path.Combine(dir.FullName, "sums.txt");
            (int generated, string generateOutput) = await ExampleRunner.RunAsync(
                "CsvSums", "generate", "--rows", "20000", "--columns", "7", "--seed", "42", "--out", input);
            Assert.True(generated == 0, generateOutput);

            // Small batches, so that lost ordering would show.
            (int exitCode, string output) = await ExampleRunner.RunAsync("CsvSums", "--in", input, "--out", sums, "--degree", "3", "--batch", "7");

            Assert.True(exitCode == 0, output);
            Assert.Contains("rows 20000,", output, StringComparison.Ordinal);
            string[] expected = [.. File.ReadLines(input).Select(line => line.Split(',').Sum(field => long.Parse(field, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture))];
            Assert.Equal(20_000, expected.Length);
            Assert.Equal(expected, File.ReadAllLines(sums));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task CsvSums_MalformedRow_ExitsWithOneAndNamesTheRow()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("parallelize-csvsums-");
        try
        {
            string input = Path.Combine(dir.FullName, "input.csv");
            await File.WriteAllLinesAsync(input, ["1,2,3", "4,five,6", "7,8,9"]);

            (int exitCode, string output) = await ExampleRunner.RunAsync("CsvSums", "--in", input, "--out", Path.Combine(dir.FullName, "sums.txt"));

            Assert.True(exitCode == 1, output);
            Assert.Contains("4,five,6", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task CsvSums_GenerateWithoutOut_PrintsUsageAndExitsWithTwo()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("CsvSums", "generate", "--rows", "10");

        Assert.Equal(2, exitCode);
        Assert.Contains("usage", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task BloomFilter_PipelineAndSingle_BuildTheSameFilter()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("parallelize-bloomfilter-");
        try
        {
            (int generated, string generateOutput) = await ExampleRunner.RunAsync(
                "BloomFilter", "generate", "--files", "3", "--rows", "2000", "--seed", "7", "--dir", dir.FullName);
            Assert.True(generated == 0, generateOutput);

            (int pipelineExit, string pipeline) = await ExampleRunner.RunAsync(
                "BloomFilter", "--dir", dir.FullName, "--degree", "2", "--bits", "65536", "--hashes", "5");
            (int singleExit, string single) = await ExampleRunner.RunAsync(
                "BloomFilter", "--dir", dir.FullName, "--bits", "65536", "--hashes", "5", "--single");

            Assert.True(pipelineExit == 0, pipeline);
            Assert.True(singleExit == 0, single);
            Assert.Contains("files 3, rows 6000,", pipeline, StringComparison.Ordinal);
            Assert.Contains("files 3, rows 6000,", single, StringComparison.Ordinal);
            Assert.Contains("known rows found 1000/1000", pipeline, StringComparison.Ordinal);
            Assert.Contains("known rows found 1000/1000", single, StringComparison.Ordinal);
            Match pipelineBits = SetBits().Match(pipeline);
            Match singleBits = SetBits().Match(single);
            Assert.True(pipelineBits.Success, pipeline);
            Assert.True(singleBits.Success, single);
            Assert.NotEqual("0", pipelineBits.Groups["bits"].Value);
            Assert.Equal(singleBits.Groups["bits"].Value, pipelineBits.Groups["bits"].Value);
            Match pipelineDigest = Digest().Match(pipeline);
            Match singleDigest = Digest().Match(single);
            Assert.True(pipelineDigest.Success, pipeline);
            Assert.True(singleDigest.Success, single);
            Assert.Equal(singleDigest.Groups["digest"].Value, pipelineDigest.Groups["digest"].Value);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task BloomFilter_ZeroDegree_PrintsUsageAndExitsWithTwo()
    {
        (int exitCode, string output) = await ExampleRunner.RunAsync("BloomFilter", "--degree", "0");

        Assert.Equal(2, exitCode);
        Assert.Contains("usage", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"set bits (?<bits>\d+) ")]
    private static partial Regex SetBits();

    [GeneratedRegex(@"digest (?<digest>[0-9a-f]{64})")]
    private static partial Regex Digest();
}
