using System.Text;

namespace Parallelize.Tests.Files;

/// <summary>A temporary folder of test files, deleted on dispose, and the reference line splitter the tests compare with.</summary>
internal sealed class TempFiles : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("parallelize-files-").FullName;
    private int _next;

    public string Write(string content) => Write(Encoding.UTF8.GetBytes(content));

    public string Write(byte[] content)
    {
        string path = Path.Combine(_dir, $"f{_next++:D3}.txt");
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The lines of a file as the source defines them: split at '\n', a '\r' before it dropped, no empty line after a final '\n'.</summary>
    public static List<ExpectedLine> Lines(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var lines = new List<ExpectedLine>();
        int start = 0;
        long number = 1;
        while (start < bytes.Length)
        {
            int newline = Array.IndexOf(bytes, (byte)'\n', start);
            int end = newline < 0 ? bytes.Length : newline;
            int contentEnd = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            lines.Add(new ExpectedLine(path, number++, start, Encoding.UTF8.GetString(bytes, start, contentEnd - start)));
            start = end + 1;
        }

        return lines;
    }
}

/// <summary>A line where it is: file, 1-based number, byte offset, text.</summary>
internal readonly record struct ExpectedLine(string Path, long Line, long Offset, string Text);
