namespace Parallelize.Files;

/// <summary>
/// The line counts of a run's ranges and the first line numbers derived from them. Used by the run's calling thread
/// only (no lock). A range's first line is 1 + the lines of the ranges before it in its file; it is filled in as soon
/// as all of those are counted, so each range's number is computed once (amortized O(1) per range).
/// </summary>
internal sealed class LineCounts
{
    private readonly FileSource _source;
    private readonly IReadOnlyList<FileRange> _ranges;
    private readonly long[] _counts;      // lines owned by each range; -1 until counted
    private readonly long[] _firstLines;  // 1-based first line of each range; 0 until known

    public LineCounts(FileSource source)
    {
        _source = source;
        _ranges = source.Ranges;
        _counts = new long[_ranges.Count];
        _firstLines = new long[_ranges.Count];
        Array.Fill(_counts, -1);
        for (int i = 0; i < _ranges.Count; i++)
        {
            if (_ranges[i].IndexInFile == 0)
            {
                _firstLines[i] = 1;
            }
        }
    }

    /// <summary>Records that range <paramref name="index"/> owns <paramref name="lines"/> lines.</summary>
    public void Counted(int index, long lines)
    {
        _counts[index] = lines;
        Propagate(index);
    }

    /// <summary>Gets range <paramref name="index"/>'s first line number, if every earlier range of its file has been counted.</summary>
    public long? FirstLine(int index) => _firstLines[index] > 0 ? _firstLines[index] : null;

    /// <summary>Gets range <paramref name="index"/>'s first line number, counting the lines of earlier ranges that did not run from the file itself.</summary>
    public long ResolveFirstLine(int index)
    {
        int first = index - _ranges[index].IndexInFile;
        for (int i = first; _firstLines[index] == 0; i++)
        {
            if (_counts[i] < 0)
            {
                Counted(i, CountLineStarts(_ranges[i], _source.FileLength(_ranges[i].FileIndex)));
            }
        }

        return _firstLines[index];
    }

    /// <summary>Counts the lines that start in <paramref name="range"/>: the file's start, and every byte after a <c>\n</c>.</summary>
    internal static long CountLineStarts(FileRange range, long fileLength)
    {
        long end = Math.Min(range.Offset + range.Length, fileLength);
        long count = range.Offset == 0 && end > 0 ? 1 : 0;

        // A line starts at p (0 < p < file length) when byte p - 1 is '\n'; p in [max(Offset, 1), end).
        long from = Math.Max(range.Offset, 1) - 1;
        long to = end - 1;   // end is at most the file's length, so p < end keeps p inside the file
        if (to <= from)
        {
            return count;
        }

        using var handle = File.OpenHandle(range.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] buffer = new byte[(int)Math.Min(1 << 20, to - from)];
        for (long at = from; at < to;)
        {
            int read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, to - at)), at);
            if (read == 0)
            {
                break;
            }

            count += buffer.AsSpan(0, read).Count((byte)'\n');
            at += read;
        }

        return count;
    }

    private void Propagate(int index)
    {
        for (int i = index; _firstLines[i] > 0 && _counts[i] >= 0 && i + 1 < _ranges.Count && _ranges[i + 1].IndexInFile > 0 && _firstLines[i + 1] == 0; i++)
        {
            _firstLines[i + 1] = _firstLines[i] + _counts[i];
        }
    }
}
