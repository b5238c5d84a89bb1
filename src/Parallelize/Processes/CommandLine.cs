using System.Text;

namespace Parallelize.Processes;

/// <summary>Formats a program and its arguments for messages, quoting the way a POSIX shell would read them back.</summary>
internal static class CommandLine
{
    public static string Format(string? fileName, IEnumerable<string> arguments)
    {
        var text = new StringBuilder();
        if (fileName is not null)
        {
            Append(text, fileName);
        }

        foreach (string argument in arguments)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            Append(text, argument);
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, string word)
    {
        bool plain = word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c, StringComparison.Ordinal));
        if (plain)
        {
            text.Append(word);
        }
        else
        {
            text.Append('\'').Append(word.Replace("'", "'\\''", StringComparison.Ordinal)).Append('\'');
        }
    }
}
