using System.Text;
using Parallelize.Files;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Files;

public sealed class FileSourceTests : IDisposable
{
    private static readonly string[] Contents =
    [
        "a\nbb\nccc\n",
        "a\nbb\nccc",
        "x\r\ny\r\n\r\nz",
        "x\r\ny\r",
        "",
        "\n",
        "\n\n\n",
        "one line without a break that is longer than most ranges",
        "\u00e9t\u00e9,\u4e2d\u6587\n\U0001F600\n,,\n",
        string.Join('\n', Enumerable.Range(0, 300).Select(i => new string((char)('a' + (i % 26)), i % 17))) + "\n",
    ];

    private readonly TempFiles _files = new();

    public static TheoryData<int, int> ContentsAndRangeSizes()
    {
        var data = new TheoryData<int, int>();
        for (int content = 0; content < Contents.Length; content++)
        {
            foreach (int size in new[] { 1, 2, 3, 5, 7, 16, 64, 1000, FileSourceOptions.DefaultRangeSize })
            {
                data.Add(content, size);
            }
        }

        return data;
    }

    public void Dispose() => _files.Dispose();

    [Theory(Timeout = Timeouts.Test)]
    [MemberData(nameof(ContentsAndRangeSizes))]
    public async Task Run_AnyRangeSize_GivesEveryLineExactlyOnceWithItsPosition(int content, int rangeSize)
    {
        string path = _files.Write(Contents[content]);
        var source = new FileSource(path, new FileSourceOptions { RangeSize = rangeSize, DegreeOfParallelism = 2, Ordered = true });

        (List<ExpectedLine> seen, FileRunResult result) = await Task.Run(() => Collect(source));

        Assert.Equal(TempFiles.Lines(path), seen);
        Assert.True(result.Succeeded);
        Assert.Equal(source.Ranges.Count, result.RangesConsumed);
        Assert.Equal(seen.Count, result.Rows);
    }

    [Fact]
    public void Ranges_CoverEachFileExactly_InFileOrder()
    {
        string[] paths = [_files.Write("abc\ndef\n"), _files.Write(""), _files.Write("0123456789")];

        var source = new FileSource(paths, new FileSourceOptions { RangeSize = 3 });

        Assert.Equal(18, source.Length);
        Assert.Equal(Enumerable.Range(0, source.Ranges.Count), source.Ranges.Select(r => r.Index));
        Assert.DoesNotContain(source.Ranges, r => r.FileIndex == 1);
        foreach (int file in new[] { 0, 2 })
        {
            FileRange[] ranges = [.. source.Ranges.Where(r => r.FileIndex == file)];
            Assert.Equal(0, ranges[0].Offset);
            Assert.Equal(new FileInfo(paths[file]).Length, ranges.Sum(r => r.Length));
            Assert.All(ranges.Zip(ranges.Skip(1)), pair => Assert.Equal(pair.First.Offset + pair.First.Length, pair.Second.Offset));
            Assert.Equal(Enumerable.Range(0, ranges.Length), ranges.Select(r => r.IndexInFile));
        }
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(1, true)]
    [InlineData(7, true)]
    [InlineData(100, true)]
    [InlineData(1, false)]
    [InlineData(7, false)]
    [InlineData(100, false)]
    public async Task Run_ManyFiles_OrderedGivesInputOrderAndUnorderedTheSameRows(int rangeSize, bool ordered)
    {
        var random = new Random(rangeSize);
        string[] paths = [.. Enumerable.Range(0, 6).Select(f => _files.Write(f == 2 ? "" : string.Concat(Enumerable.Range(0, 50 + random.Next(50)).Select(i => $"{f},{i},{random.Next(1000)}\n"))))];
        var source = new FileSource(paths, new FileSourceOptions { RangeSize = rangeSize, DegreeOfParallelism = 3, Ordered = ordered, MaxRangesInFlight = 5 });
        List<ExpectedLine> expected = [.. paths.SelectMany(TempFiles.Lines)];

        (List<ExpectedLine> seen, FileRunResult result) = await Task.Run(() => Collect(source));

        if (ordered)
        {
            Assert.Equal(expected, seen);
        }
        else
        {
            // Unordered: line numbers are resolved only when earlier ranges are done, so compare without them.
            Assert.Equal(expected.Select(l => (l.Path, l.Offset, l.Text)).Order(), seen.Select(l => (l.Path, l.Offset, l.Text)).Order());
        }

        Assert.Equal(expected.Count, result.Rows);
        Assert.Equal(source.Ranges.Count, result.RangesConsumed);
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(1, true)]
    [InlineData(13, false)]
    [InlineData(4096, true)]
    [InlineData(4096, false)]
    public async Task Run_RowActionThrows_FailsThatRowOnlyWithItsPosition(int rangeSize, bool ordered)
    {
        string text = string.Concat(Enumerable.Range(0, 200).Select(i => i % 17 == 3 ? $"bad{i}\r\n" : $"{i}\r\n"));
        string other = _files.Write("1\n2\n");
        string path = _files.Write(text);
        var source = new FileSource([other, path], new FileSourceOptions { RangeSize = rangeSize, DegreeOfParallelism = 2, Ordered = ordered });
        var sums = new List<long>();

        FileRunResult result = await Task.Run(() => source.Run(
            () => new List<long>(),
            (row, output) => output.Add(long.Parse(Encoding.UTF8.GetString(row.Bytes), System.Globalization.CultureInfo.InvariantCulture)),
            range => sums.AddRange(range.Output),
            output => output.Clear()));

        List<ExpectedLine> bad = [.. TempFiles.Lines(path).Where(l => l.Text.StartsWith("bad", StringComparison.Ordinal))];
        Assert.Equal(bad.Select(l => (l.Path, l.Line, l.Offset, l.Text)), result.RowFailures.Select(f => (f.Path, f.Line, f.Offset, f.Text)));
        Assert.All(result.RowFailures, f => Assert.IsType<FormatException>(f.Exception));
        Assert.Contains($":{bad[0].Line} (byte offset {bad[0].Offset})", result.RowFailures[0].ToString(), StringComparison.Ordinal);
        long[] good = [1, 2, .. Enumerable.Range(0, 200).Where(i => i % 17 != 3).Select(i => (long)i)];
        Assert.Equal(ordered ? good : [.. good.Order()], ordered ? [.. sums] : [.. sums.Order()]);
        Assert.Equal(202, result.Rows);
        Assert.Empty(result.RangeFailures);
        Assert.False(result.Succeeded);
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(30)]
    [InlineData(1000)]
    public async Task Run_LineLongerThanMaxLineLength_FailsThatLineWithAClearException(int rangeSize)
    {
        string path = _files.Write("short\n" + new string('x', 100) + "\nafter\n" + new string('y', 11) + "\r\nlast");
        var source = new FileSource(path, new FileSourceOptions { RangeSize = rangeSize, MaxLineLength = 10, Ordered = true });

        (List<ExpectedLine> seen, FileRunResult result) = await Task.Run(() => Collect(source));

        Assert.Equal(["short", "after", "last"], seen.Select(l => l.Text));
        Assert.Equal([(2L, 6L), (4L, 113L)], result.RowFailures.Select(f => (f.Line, f.Offset)));
        Assert.All(result.RowFailures, f =>
        {
            InvalidDataException exception = Assert.IsType<InvalidDataException>(f.Exception);
            Assert.Contains("longer than MaxLineLength (10 bytes", exception.Message, StringComparison.Ordinal);
            Assert.Contains(path, exception.Message, StringComparison.Ordinal);
        });
        Assert.Equal(5, result.Rows);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Run_CancelledFromTheConsumer_EveryRangeEndsInExactlyOnePlace()
    {
        string path = _files.Write(string.Concat(Enumerable.Range(0, 1000).Select(i => $"{i}\n")));
        var source = new FileSource(path, new FileSourceOptions { RangeSize = 64, DegreeOfParallelism = 2, Ordered = true, MaxRangesInFlight = 3 });
        using var cts = new CancellationTokenSource();
        var consumed = new List<FileRange>();
        var rows = new List<string>();

        FileRunResult result = await Task.Run(() => source.Run(
            () => new List<string>(),
            (row, output) => output.Add(row.ToString()),
            range =>
            {
                consumed.Add(range.Range);
                rows.AddRange(range.Output);
                if (consumed.Count == 5)
                {
                    cts.Cancel();
                }
            },
            output => output.Clear(),
            cts.Token));

        Assert.True(result.Stopped);
        Assert.Equal(5, result.RangesConsumed);
        Assert.Equal(source.Ranges.Take(5), consumed);
        Assert.Equal(source.Ranges.Skip(5), result.Aborted);   // in file order; nothing lost, nothing twice
        Assert.Equal(Enumerable.Range(0, rows.Count).Select(i => $"{i}"), rows);
        Assert.Equal(rows.Count, result.Rows);
        long abortedRows = result.Aborted.Sum(r => LineCounts.CountLineStarts(r, source.Length));
        Assert.Equal(1000, result.Rows + abortedRows);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Run_CancelledWhileARowRuns_ReturnsTheRunningAndQueuedRangesAsAborted()
    {
        string path = _files.Write(string.Concat(Enumerable.Range(0, 100).Select(i => $"{i:D3}\n")));
        var source = new FileSource(path, new FileSourceOptions { RangeSize = 40, DegreeOfParallelism = 1, Ordered = false });
        using var cts = new CancellationTokenSource();
        var blocked = new Gate();
        var consumed = new List<FileRange>();

        Task<FileRunResult> run = Task.Run(() => source.Run(
            () => new List<string>(),
            (row, output) =>
            {
                if (row.ToString() == "050")
                {
                    blocked.Open();
                    cts.Token.WaitHandle.WaitOne(Timeouts.Hang);   // until the test stops the run
                }

                output.Add(row.ToString());
            },
            range => consumed.Add(range.Range),
            cancellationToken: cts.Token));
        await blocked.PassAsync().WaitAsync(Timeouts.Hang);
        await cts.CancelAsync();
        FileRunResult result = await run.WaitAsync(Timeouts.Hang);

        Assert.True(result.Stopped);
        FileRange running = source.Ranges.Single(r => r.Offset <= 200 && 200 < r.Offset + r.Length);
        Assert.DoesNotContain(running, consumed);
        Assert.Contains(running, result.Aborted);
        Assert.Equal(source.Ranges, consumed.Concat(result.Aborted).Order(Comparer<FileRange>.Create((a, b) => a.Index.CompareTo(b.Index))));
        Assert.Equal(consumed.Count, result.RangesConsumed);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Run_ConsumerThrows_StopsAndRethrows()
    {
        string path = _files.Write(string.Concat(Enumerable.Range(0, 100).Select(i => $"{i}\n")));
        var source = new FileSource(path, new FileSourceOptions { RangeSize = 16 });

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(() => source.Run(
            () => new List<int>(),
            (row, output) => output.Add(row.Bytes.Length),
            range => throw new InvalidOperationException("consumer"))));

        Assert.Equal("consumer", thrown.Message);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Run_FileShorterThanMeasured_FailsItsRangesAndRunsTheOthers()
    {
        string shrinking = _files.Write(string.Concat(Enumerable.Range(0, 100).Select(i => $"{i:D3}\n")));
        string intact = _files.Write("a\nb\n");
        var source = new FileSource([shrinking, intact], new FileSourceOptions { RangeSize = 100, Ordered = true });
        File.WriteAllText(shrinking, "000\n001\n");

        (List<ExpectedLine> seen, FileRunResult result) = await Task.Run(() => Collect(source));

        Assert.Equal(source.Ranges.Count(r => r.FileIndex == 0), result.RangeFailures.Count);
        Assert.All(result.RangeFailures, f => Assert.IsType<IOException>(f.Exception));
        Assert.Equal(["a", "b"], seen.Select(l => l.Text));
        Assert.Equal(source.Ranges.Count, result.RangesConsumed + result.RangeFailures.Count + result.Aborted.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Run_WithReset_CreatesAtMostMaxRangesInFlightOutputs()
    {
        string path = _files.Write(string.Concat(Enumerable.Range(0, 2000).Select(i => $"{i}\n")));
        var source = new FileSource(path, new FileSourceOptions { RangeSize = 50, DegreeOfParallelism = 2, MaxRangesInFlight = 3 });
        int created = 0;
        long rows = 0;

        FileRunResult result = await Task.Run(() => source.Run(
            () =>
            {
                Interlocked.Increment(ref created);
                return new List<int>();
            },
            (row, output) => output.Add(1),
            range => rows += range.Output.Count,
            output => output.Clear()));

        Assert.InRange(created, 1, 3);
        Assert.Equal(2000, rows);
        Assert.True(result.Succeeded);
    }

    [Fact]
    public void CountLineStarts_AnyRange_CountsTheLinesThatStartInIt()
    {
        string path = _files.Write("ab\n\ncd\r\nefg\nh");
        long length = new FileInfo(path).Length;
        List<ExpectedLine> lines = TempFiles.Lines(path);
        for (long offset = 0; offset < length; offset++)
        {
            for (long size = 1; offset + size <= length; size++)
            {
                var range = new FileRange(path, 0, 0, 0, offset, size);
                Assert.Equal(lines.Count(l => l.Offset >= offset && l.Offset < offset + size), LineCounts.CountLineStarts(range, length));
            }
        }
    }

    [Fact]
    public void Constructor_BadArguments_ThrowNamingTheArgument()
    {
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => new FileSource((string)null!)).ParamName);
        Assert.Equal("paths", Assert.Throws<ArgumentNullException>(() => new FileSource((IEnumerable<string>)null!)).ParamName);
        Assert.Equal("paths", Assert.Throws<ArgumentException>(() => new FileSource(["", "x"])).ParamName);
        Assert.Throws<FileNotFoundException>(() => new FileSource(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}")));
        Assert.Equal("RangeSize", Assert.Throws<ArgumentOutOfRangeException>(() => new FileSourceOptions { RangeSize = 0 }).ParamName);
        Assert.Equal("MaxLineLength", Assert.Throws<ArgumentOutOfRangeException>(() => new FileSourceOptions { MaxLineLength = 0 }).ParamName);
        Assert.Equal("DegreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => new FileSourceOptions { DegreeOfParallelism = 0 }).ParamName);
        Assert.Equal("MaxRangesInFlight", Assert.Throws<ArgumentOutOfRangeException>(() => new FileSourceOptions { MaxRangesInFlight = 0 }).ParamName);
        var source = new FileSource(_files.Write("a\n"));
        Assert.Equal("createOutput", Assert.Throws<ArgumentNullException>(() => source.Run<List<int>>(null!, (_, _) => { }, _ => { })).ParamName);
        Assert.Equal("processRow", Assert.Throws<ArgumentNullException>(() => source.Run(() => new List<int>(), null!, _ => { })).ParamName);
        Assert.Equal("consume", Assert.Throws<ArgumentNullException>(() => source.Run(() => new List<int>(), (_, _) => { }, null!)).ParamName);
    }

    /// <summary>Runs the source collecting every row with its position; line numbers from the range's first line (ordered runs know it).</summary>
    private static (List<ExpectedLine> Seen, FileRunResult Result) Collect(FileSource source)
    {
        var seen = new List<ExpectedLine>();
        FileRunResult result = source.Run(
            () => new List<(long Offset, int Index, string Text)>(),
            (row, output) => output.Add((row.Offset, row.IndexInRange, row.ToString())),
            range =>
            {
                Assert.Equal(range.Rows, range.Output.Count + range.FailedRows);
                foreach ((long offset, int index, string text) in range.Output)
                {
                    seen.Add(new ExpectedLine(range.Range.Path, range.FirstLine is long first ? first + index : -1, offset, text));
                }
            },
            output => output.Clear());
        return (seen, result);
    }
}
