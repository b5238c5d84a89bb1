using System.Globalization;

namespace Parallelize.Benchmarks;

/// <summary>The quick mode's command line.</summary>
internal sealed record QuickOptions
{
    public const string Usage =
        "usage: Parallelize.Benchmarks --quick [--tiny] [--calls N>0] [--repeats N>0] [--markdown FILE]\n"
        + "       Parallelize.Benchmarks [BenchmarkDotNet options, e.g. --filter '*']";

    /// <summary>Calls of the no-work and ~100 ns rows, and calls queued for the <c>Stop</c> measurement; the ~1 µs row makes a tenth as many, the ~10 µs row a hundredth. The blocking and async rows keep their own sizes.</summary>
    public int Calls { get; init; } = 1_000_000;

    /// <summary>Timed runs of each contender in each row; the table shows the median.</summary>
    public int Repeats { get; init; } = 5;

    /// <summary>A smoke run: every row at a tiny size (2,000 calls and one repeat unless given), to check that every contender produces every result.</summary>
    public bool Tiny { get; init; }

    /// <summary>Where to write the Markdown table as well, if anywhere.</summary>
    public string? MarkdownFile { get; init; }

    /// <summary>Whether the command line asks for the quick mode rather than BenchmarkDotNet.</summary>
    public static bool IsQuick(string[] args) => args.Contains("--quick") || args.Contains("--tiny");

    /// <summary>Reads the quick mode's options; <see langword="null"/> if the command line is not understood.</summary>
    public static QuickOptions? Parse(string[] args)
    {
        var options = new QuickOptions();
        bool callsGiven = false;
        bool repeatsGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    break;
                case "--tiny":
                    options = options with { Tiny = true };
                    break;
                case "--calls" when PositiveAt(args, i + 1) is int calls:
                    options = options with { Calls = calls };
                    callsGiven = true;
                    i++;
                    break;
                case "--repeats" when PositiveAt(args, i + 1) is int repeats:
                    options = options with { Repeats = repeats };
                    repeatsGiven = true;
                    i++;
                    break;
                case "--markdown" when i + 1 < args.Length:
                    options = options with { MarkdownFile = args[++i] };
                    break;
                default:
                    return null;
            }
        }

        if (options.Tiny)
        {
            options = options with
            {
                Calls = callsGiven ? options.Calls : 2_000,
                Repeats = repeatsGiven ? options.Repeats : 1,
            };
        }

        return options;
    }

    private static int? PositiveAt(string[] args, int index) =>
        index < args.Length && int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : null;
}
