using System.Globalization;
using System.Text;

namespace AlignCluster.Models.Tokenization;

/// <summary>
/// The Jinja subset that chat templates use, rendered as Hugging Face renders them (trim_blocks and lstrip_blocks on,
/// one trailing newline of the source dropped): text, <c>{{ expr }}</c>, <c>{% if/elif/else %}</c>,
/// <c>{% for x in xs [if cond] %}</c> with <c>loop.*</c>, <c>{% else %}</c>, break and continue,
/// <c>{% set x = … %}</c> (also <c>ns.attr</c> and block sets), comments, <c>-</c> whitespace control; expressions with
/// Python semantics: literals, lists, dicts, attribute and item access, slices, calls of string/dict methods, filters,
/// tests, arithmetic, comparison, <c>in</c>, <c>and/or/not</c>, <c>a if c else b</c>; globals raise_exception,
/// namespace, range, strftime_now. Anything else (macros, unknown filters, tests or methods) is refused with
/// "chat_template line N: …", never skipped.
/// Values: null (none), <see cref="Undefined"/>, bool, long, double, string, <see cref="List{T}"/> of object?,
/// <see cref="Dictionary{TKey,TValue}"/> of string → object? (insertion order).
/// Checked against @huggingface/jinja, whose behaviour we follow where it differs from Python's Jinja in printing
/// non-strings (true/false, none as nothing, lists as JSON), reading past missing values (undefined, not an error)
/// and "+" of a string and a number; where it changes text that Python's Jinja (what transformers uses) renders
/// otherwise — strip/lstrip/rstrip with characters, capitalize, % of negative numbers — we follow Python.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Node> _body;

    private JinjaTemplate(List<Node> body) => _body = body;

    /// <summary>Parses a template; syntax errors and unsupported statements throw <see
    /// cref="TokenizerException"/>.</summary>
    public static JinjaTemplate Parse(string source) => new(new Parser(Lexer.Scan(source)).ParseTemplate());

    /// <summary>Renders with the given variables (strings, numbers, bools, lists, dictionaries).</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        var scope = new Scope(null);
        foreach (var (k, v) in variables)
            scope.Set(k, v);
        var sb = new StringBuilder();
        new Interpreter().Run(_body, scope, sb);
        return sb.ToString();
    }

    /// <summary>The value of a name or attribute that does not exist (renders as "", is falsy, "is defined" is
    /// false).</summary>
    public sealed class Undefined
    {
        public static readonly Undefined Instance = new();

        private Undefined() { }

        public override string ToString() => "";
    }

    /// <summary>namespace(...): the one object whose attributes a template may assign from inside a loop.</summary>
    private sealed class Namespace : Dictionary<string, object?>;

    private delegate object? Callable(List<object?> args, Dictionary<string, object?> kwargs, int line);

    private static TokenizerException Error(int line, string message) => new($"chat_template line {line}: {message}");

    // ---------------------------------------------------------------- lexer

    private enum T
    {
        Text,
        OutputOpen,
        BlockOpen,
        Close,
        Name,
        String,
        Int,
        Float,
        Op,
        End,
    }

    private readonly record struct Token(T Kind, string Value, int Line);

    private static class Lexer
    {
        private static readonly string[] Operators =
        [
            "==",
            "!=",
            "<=",
            ">=",
            "//",
            "**",
            "<",
            ">",
            "+",
            "-",
            "*",
            "/",
            "%",
            "~",
            "|",
            ".",
            ",",
            ":",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "=",
        ];

        public static List<Token> Scan(string src)
        {
            if (src.EndsWith('\n'))
                src = src[..^1]; // Jinja's keep_trailing_newline=False
            var tokens = new List<Token>();
            int pos = 0,
                line = 1;
            bool trimNextText = false;
            while (pos < src.Length)
            {
                int open = FindTagStart(src, pos);
                string text = src[pos..(open < 0 ? src.Length : open)];
                int textLine = line;
                line += Count(text, '\n');
                bool stripBefore = open >= 0 && open + 2 < src.Length && src[open + 2] == '-';
                if (open >= 0 && !stripBefore && src[open + 1] is '%' or '#')
                    text = LStripBlock(text, pos == 0 || src[pos - 1] == '\n');
                if (trimNextText)
                    text = text.TrimStart();
                if (stripBefore)
                    text = text.TrimEnd();
                if (text.Length > 0)
                    tokens.Add(new Token(T.Text, text, textLine));
                trimNextText = false;
                if (open < 0)
                    break;
                char kind = src[open + 1];
                pos = open + (stripBefore ? 3 : 2);
                if (kind == '#')
                {
                    int close = src.IndexOf("#}", pos, StringComparison.Ordinal);
                    if (close < 0)
                        throw Error(line, "comment is not closed with #}");
                    line += Count(src[pos..close], '\n');
                    trimNextText = close > pos && src[close - 1] == '-';
                    pos = close + 2;
                    if (!trimNextText && pos < src.Length && src[pos] == '\n')
                    {
                        pos++;
                        line++;
                    } // trim_blocks
                    continue;
                }
                tokens.Add(new Token(kind == '{' ? T.OutputOpen : T.BlockOpen, "", line));
                (pos, line, trimNextText) = ScanTag(src, pos, line, kind == '{' ? "}}" : "%}", tokens);
                if (kind == '%' && !trimNextText && pos < src.Length && src[pos] == '\n')
                {
                    pos++;
                    line++;
                } // trim_blocks
            }
            tokens.Add(new Token(T.End, "", line));
            return tokens;
        }

        private static int Count(string s, char c) => s.Count(x => x == c);

        private static int FindTagStart(string src, int from)
        {
            for (int i = src.IndexOf('{', from); i >= 0 && i + 1 < src.Length; i = src.IndexOf('{', i + 1))
                if (src[i + 1] is '{' or '%' or '#')
                    return i;
            return -1;
        }

        /// <summary>lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag are
        /// dropped.</summary>
        private static string LStripBlock(string text, bool textStartsALine)
        {
            int i = text.Length;
            while (i > 0 && text[i - 1] is ' ' or '\t')
                i--;
            return i == 0 && textStartsALine || i > 0 && text[i - 1] == '\n' ? text[..i] : text;
        }

        private static (int Pos, int Line, bool TrimAfter) ScanTag(
            string src,
            int pos,
            int line,
            string close,
            List<Token> tokens
        )
        {
            int depth = 0;
            while (true)
            {
                if (pos >= src.Length)
                    throw Error(line, $"tag is not closed with {close}");
                char c = src[pos];
                if (c == '\n')
                {
                    line++;
                    pos++;
                    continue;
                }
                if (char.IsWhiteSpace(c))
                {
                    pos++;
                    continue;
                }
                if (depth == 0 && c == '-' && string.CompareOrdinal(src, pos + 1, close, 0, 2) == 0)
                    return (pos + 3, line, true);
                if (depth == 0 && string.CompareOrdinal(src, pos, close, 0, 2) == 0)
                    return (pos + 2, line, false);
                if (c is '\'' or '"')
                {
                    var sb = new StringBuilder();
                    int start = line;
                    pos++;
                    while (true)
                    {
                        if (pos >= src.Length)
                            throw Error(start, "string literal is not closed");
                        char d = src[pos++];
                        if (d == c)
                            break;
                        if (d == '\n')
                            line++;
                        if (d == '\\' && pos < src.Length)
                        {
                            char e = src[pos++];
                            switch (e)
                            {
                                case 'n':
                                    sb.Append('\n');
                                    break;
                                case 't':
                                    sb.Append('\t');
                                    break;
                                case 'r':
                                    sb.Append('\r');
                                    break;
                                case 'b':
                                    sb.Append('\b');
                                    break;
                                case 'f':
                                    sb.Append('\f');
                                    break;
                                case 'v':
                                    sb.Append('\v');
                                    break;
                                case '\\' or '\'' or '"':
                                    sb.Append(e);
                                    break;
                                default:
                                    sb.Append('\\').Append(e);
                                    break; // Python keeps unknown escapes as written
                            }
                        }
                        else
                            sb.Append(d);
                    }
                    tokens.Add(new Token(T.String, sb.ToString(), start));
                    continue;
                }
                if (char.IsDigit(c))
                {
                    int start = pos;
                    while (pos < src.Length && char.IsDigit(src[pos]))
                        pos++;
                    bool isFloat = pos + 1 < src.Length && src[pos] == '.' && char.IsDigit(src[pos + 1]);
                    if (isFloat)
                    {
                        pos++;
                        while (pos < src.Length && char.IsDigit(src[pos]))
                            pos++;
                    }
                    tokens.Add(new Token(isFloat ? T.Float : T.Int, src[start..pos], line));
                    continue;
                }
                if (char.IsLetter(c) || c == '_')
                {
                    int start = pos;
                    while (pos < src.Length && (char.IsLetterOrDigit(src[pos]) || src[pos] == '_'))
                        pos++;
                    tokens.Add(new Token(T.Name, src[start..pos], line));
                    continue;
                }
                string? op = Operators.FirstOrDefault(o => string.CompareOrdinal(src, pos, o, 0, o.Length) == 0);
                if (op is null)
                    throw Error(line, $"unexpected character '{c}'");
                if (op is "{" or "[" or "(")
                    depth++;
                if (op is "}" or "]" or ")")
                    depth--;
                tokens.Add(new Token(T.Op, op, line));
                pos += op.Length;
            }
        }
    }

    // ---------------------------------------------------------------- syntax tree

    private abstract record Node(int Line);

    private sealed record TextNode(string Text, int Line) : Node(Line);

    private sealed record OutputNode(Expr Value, int Line) : Node(Line);

    private sealed record IfNode(List<(Expr Test, List<Node> Body)> Branches, List<Node> Else, int Line) : Node(Line);

    private sealed record ForNode(
        List<string> Targets,
        Expr Iterable,
        Expr? Filter,
        List<Node> Body,
        List<Node> Else,
        int Line
    ) : Node(Line);

    private sealed record SetNode(string Name, string? Attribute, Expr? Value, List<Node>? Body, int Line) : Node(Line);

    private sealed record LoopControlNode(bool IsBreak, int Line) : Node(Line);

    private abstract record Expr(int Line);

    private sealed record Literal(object? Value, int Line) : Expr(Line);

    private sealed record NameExpr(string Name, int Line) : Expr(Line);

    private sealed record ListExpr(List<Expr> Items, int Line) : Expr(Line);

    private sealed record DictExpr(List<(Expr Key, Expr Value)> Items, int Line) : Expr(Line);

    private sealed record AttrExpr(Expr Target, string Name, int Line) : Expr(Line);

    private sealed record ItemExpr(Expr Target, Expr Index, int Line) : Expr(Line);

    private sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

    private sealed record CallExpr(Expr Target, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Line)
        : Expr(Line);

    private sealed record FilterExpr(
        Expr Target,
        string Name,
        List<Expr> Args,
        List<(string Name, Expr Value)> Kwargs,
        int Line
    ) : Expr(Line);

    private sealed record TestExpr(Expr Target, string Name, bool Negated, List<Expr> Args, int Line) : Expr(Line);

    private sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);

    private sealed record UnaryExpr(string Op, Expr Operand, int Line) : Expr(Line);

    private sealed record CondExpr(Expr Test, Expr Then, Expr? Else, int Line) : Expr(Line);

    // ---------------------------------------------------------------- parser

    private sealed class Parser(List<Token> tokens)
    {
        private int _pos;
        private Token Peek => tokens[_pos];

        private Token Next() => tokens[_pos++];

        private bool IsOp(string op) => Peek.Kind == T.Op && Peek.Value == op;

        private bool IsName(string name) => Peek.Kind == T.Name && Peek.Value == name;

        private Token Expect(T kind, string? value = null)
        {
            var t = Next();
            if (t.Kind != kind || value is not null && t.Value != value)
                throw Error(t.Line, $"expected {value ?? kind.ToString()} but found '{Describe(t)}'");
            return t;
        }

        private static string Describe(Token t) =>
            t.Kind switch
            {
                T.Close => "end of tag",
                T.End => "end of template",
                T.BlockOpen => "{%",
                T.OutputOpen => "{{",
                _ => t.Value,
            };

        /// <summary>The end of a tag: the lexer puts no token there, so the next one opens text, a tag or the
        /// end.</summary>
        private bool AtTagEnd => Peek.Kind is T.Text or T.OutputOpen or T.BlockOpen or T.End;

        private void ExpectTagEnd()
        {
            if (!AtTagEnd)
                throw Error(Peek.Line, $"unexpected '{Describe(Peek)}' before the end of the tag");
        }

        public List<Node> ParseTemplate()
        {
            var body = ParseBody(out string? end);
            if (end is not null)
                throw Error(Peek.Line, $"unexpected {{% {end} %}}");
            return body;
        }

        /// <summary>Nodes up to a block tag that ends this body (endif, else, …), whose name is returned (null at the
        /// end).</summary>
        private List<Node> ParseBody(out string? endTag, params string[] enders)
        {
            var nodes = new List<Node>();
            while (true)
            {
                var t = Next();
                switch (t.Kind)
                {
                    case T.End:
                        _pos--;
                        endTag = null;
                        return nodes;
                    case T.Text:
                        nodes.Add(new TextNode(t.Value, t.Line));
                        break;
                    case T.OutputOpen:
                        nodes.Add(new OutputNode(ParseExpr(), t.Line));
                        ExpectTagEnd();
                        break;
                    case T.BlockOpen:
                        var name = Expect(T.Name);
                        if (enders.Contains(name.Value))
                        {
                            endTag = name.Value;
                            return nodes;
                        }
                        if (ParseStatement(name) is { } node)
                            nodes.Add(node);
                        break;
                    default:
                        throw Error(t.Line, $"unexpected '{Describe(t)}'");
                }
            }
        }

        private Node? ParseStatement(Token name)
        {
            int line = name.Line;
            switch (name.Value)
            {
                case "if":
                {
                    var branches = new List<(Expr, List<Node>)>();
                    var test = ParseExpr();
                    ExpectTagEnd();
                    while (true)
                    {
                        var body = ParseBody(out string? end, "elif", "else", "endif");
                        branches.Add((test, body));
                        if (end == "elif")
                        {
                            test = ParseExpr();
                            ExpectTagEnd();
                            continue;
                        }
                        if (end == "else")
                        {
                            ExpectTagEnd();
                            var elseBody = ParseBody(out string? end2, "endif");
                            Require(end2, "endif", line);
                            ExpectTagEnd();
                            return new IfNode(branches, elseBody, line);
                        }
                        Require(end, "endif", line);
                        ExpectTagEnd();
                        return new IfNode(branches, [], line);
                    }
                }
                case "for":
                {
                    var targets = new List<string> { Expect(T.Name).Value };
                    while (IsOp(","))
                    {
                        Next();
                        targets.Add(Expect(T.Name).Value);
                    }
                    Expect(T.Name, "in");
                    var iterable = ParseCondition(allowIf: false);
                    Expr? filter = null;
                    if (IsName("if"))
                    {
                        Next();
                        filter = ParseExpr();
                    }
                    if (IsName("recursive"))
                        throw Error(line, "recursive for loops are not supported");
                    ExpectTagEnd();
                    var body = ParseBody(out string? end, "else", "endfor");
                    var elseBody = new List<Node>();
                    if (end == "else")
                    {
                        ExpectTagEnd();
                        elseBody = ParseBody(out end, "endfor");
                    }
                    Require(end, "endfor", line);
                    ExpectTagEnd();
                    return new ForNode(targets, iterable, filter, body, elseBody, line);
                }
                case "set":
                {
                    string target = Expect(T.Name).Value;
                    string? attribute = null;
                    if (IsOp("."))
                    {
                        Next();
                        attribute = Expect(T.Name).Value;
                    }
                    if (IsOp(","))
                        throw Error(line, "tuple assignment in set is not supported");
                    if (IsOp("="))
                    {
                        Next();
                        var value = ParseExpr();
                        ExpectTagEnd();
                        return new SetNode(target, attribute, value, null, line);
                    }
                    ExpectTagEnd();
                    var body = ParseBody(out string? end, "endset");
                    Require(end, "endset", line);
                    ExpectTagEnd();
                    return new SetNode(target, attribute, null, body, line);
                }
                case "break" or "continue":
                    ExpectTagEnd();
                    return new LoopControlNode(name.Value == "break", line);
                case "generation" or "endgeneration":
                    // HF's marker of the assistant's tokens: renders nothing.
                    ExpectTagEnd();
                    return null;
                default:
                    throw Error(
                        line,
                        $"statement '{name.Value}' is not supported (supported: if, for, set, break, continue)"
                    );
            }
        }

        private static void Require(string? end, string expected, int line)
        {
            if (end != expected)
                throw Error(line, $"block is not closed with {{% {expected} %}}");
        }

        // Precedence, lowest first (as Jinja's parser): a if b else c; or; and; not; comparisons and in; + -; ~;
        // * / // %; ** ; unary - +; then filters (|), tests (is) and postfix access bind tightest.
        private Expr ParseExpr() => ParseCondition(allowIf: true);

        private Expr ParseCondition(bool allowIf)
        {
            var expr = ParseOr();
            while (allowIf && IsName("if"))
            {
                int line = Next().Line;
                var test = ParseOr();
                Expr? otherwise = null;
                if (IsName("else"))
                {
                    Next();
                    otherwise = ParseCondition(allowIf: true);
                }
                expr = new CondExpr(test, expr, otherwise, line);
            }
            return expr;
        }

        private Expr ParseOr()
        {
            var left = ParseAnd();
            while (IsName("or"))
            {
                int line = Next().Line;
                left = new BinaryExpr("or", left, ParseAnd(), line);
            }
            return left;
        }

        private Expr ParseAnd()
        {
            var left = ParseNot();
            while (IsName("and"))
            {
                int line = Next().Line;
                left = new BinaryExpr("and", left, ParseNot(), line);
            }
            return left;
        }

        private Expr ParseNot()
        {
            if (IsName("not"))
            {
                int line = Next().Line;
                return new UnaryExpr("not", ParseNot(), line);
            }
            return ParseCompare();
        }

        private Expr ParseCompare()
        {
            var left = ParseAdd();
            while (true)
            {
                int line = Peek.Line;
                if (Peek.Kind == T.Op && Peek.Value is "==" or "!=" or "<" or "<=" or ">" or ">=")
                    left = new BinaryExpr(Next().Value, left, ParseAdd(), line);
                else if (IsName("in"))
                {
                    Next();
                    left = new BinaryExpr("in", left, ParseAdd(), line);
                }
                else if (IsName("not") && tokens[_pos + 1] is { Kind: T.Name, Value: "in" })
                {
                    _pos += 2;
                    left = new UnaryExpr("not", new BinaryExpr("in", left, ParseAdd(), line), line);
                }
                else
                    return left;
            }
        }

        private Expr ParseAdd()
        {
            var left = ParseConcat();
            while (IsOp("+") || IsOp("-"))
            {
                var t = Next();
                left = new BinaryExpr(t.Value, left, ParseConcat(), t.Line);
            }
            return left;
        }

        private Expr ParseConcat()
        {
            var left = ParseMul();
            while (IsOp("~"))
            {
                var t = Next();
                left = new BinaryExpr("~", left, ParseMul(), t.Line);
            }
            return left;
        }

        private Expr ParseMul()
        {
            var left = ParsePow();
            while (Peek.Kind == T.Op && Peek.Value is "*" or "/" or "//" or "%")
            {
                var t = Next();
                left = new BinaryExpr(t.Value, left, ParsePow(), t.Line);
            }
            return left;
        }

        private Expr ParsePow()
        {
            var left = ParseUnary();
            while (IsOp("**"))
            {
                var t = Next();
                left = new BinaryExpr("**", left, ParseUnary(), t.Line);
            }
            return left;
        }

        // As Jinja: in "-x | f" the filter applies to -x, so the operand of a sign is parsed without filters.
        private Expr ParseUnary(bool withFilters = true)
        {
            Expr expr = IsOp("-") || IsOp("+") ? SignOf(Next()) : ParsePostfix(ParsePrimary());
            return withFilters ? ParseFilters(expr) : expr;
            Expr SignOf(Token t) => new UnaryExpr(t.Value, ParseUnary(withFilters: false), t.Line);
        }

        private Expr ParseFilters(Expr expr)
        {
            while (true)
            {
                if (IsOp("|"))
                {
                    int line = Next().Line;
                    string name = Expect(T.Name).Value;
                    var (args, kwargs) = IsOp("(") ? ParseArgs() : ([], []);
                    expr = ParsePostfix(new FilterExpr(expr, name, args, kwargs, line));
                }
                else if (IsName("is"))
                {
                    int line = Next().Line;
                    bool negated = false;
                    if (IsName("not"))
                    {
                        Next();
                        negated = true;
                    }
                    var nameToken = Next();
                    if (nameToken.Kind != T.Name)
                        throw Error(line, $"expected a test name after 'is' but found '{Describe(nameToken)}'");
                    var args = new List<Expr>();
                    if (IsOp("("))
                        args = ParseArgs().Args;
                    else if (
                        Peek.Kind is T.String or T.Int or T.Float
                        || Peek.Kind == T.Name
                            && Peek.Value is not ("and" or "or" or "if" or "else" or "is" or "in" or "not")
                    )
                        args.Add(ParsePostfix(ParsePrimary())); // "is equalto 3", "is sameas none"
                    expr = new TestExpr(expr, nameToken.Value, negated, args, line);
                }
                else
                    return expr;
            }
        }

        private Expr ParsePostfix(Expr expr)
        {
            while (true)
            {
                int line = Peek.Line;
                if (IsOp("."))
                {
                    Next();
                    var t = Next();
                    if (t.Kind is not (T.Name or T.Int))
                        throw Error(line, $"expected an attribute name after '.' but found '{Describe(t)}'");
                    expr =
                        t.Kind == T.Int
                            ? new ItemExpr(
                                expr,
                                new Literal(long.Parse(t.Value, CultureInfo.InvariantCulture), line),
                                line
                            )
                            : new AttrExpr(expr, t.Value, line);
                }
                else if (IsOp("["))
                {
                    Next();
                    Expr? start = IsOp(":") ? null : ParseExpr();
                    if (IsOp(":"))
                    {
                        Next();
                        Expr? stop = IsOp(":") || IsOp("]") ? null : ParseExpr();
                        Expr? step = null;
                        if (IsOp(":"))
                        {
                            Next();
                            step = IsOp("]") ? null : ParseExpr();
                        }
                        Expect(T.Op, "]");
                        expr = new SliceExpr(expr, start, stop, step, line);
                    }
                    else
                    {
                        Expect(T.Op, "]");
                        expr = new ItemExpr(expr, start!, line);
                    }
                }
                else if (IsOp("("))
                {
                    var (args, kwargs) = ParseArgs();
                    expr = new CallExpr(expr, args, kwargs, line);
                }
                else
                    return expr;
            }
        }

        private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseArgs()
        {
            Expect(T.Op, "(");
            var args = new List<Expr>();
            var kwargs = new List<(string, Expr)>();
            while (!IsOp(")"))
            {
                if (Peek.Kind == T.Name && tokens[_pos + 1] is { Kind: T.Op, Value: "=" })
                {
                    string name = Next().Value;
                    Next();
                    kwargs.Add((name, ParseExpr()));
                }
                else
                    args.Add(ParseExpr());
                if (!IsOp(")"))
                    Expect(T.Op, ",");
            }
            Next();
            return (args, kwargs);
        }

        private Expr ParsePrimary()
        {
            var t = Next();
            switch (t.Kind)
            {
                case T.String:
                    // Adjacent string literals concatenate, as in Python.
                    var s = new StringBuilder(t.Value);
                    while (Peek.Kind == T.String)
                        s.Append(Next().Value);
                    return new Literal(s.ToString(), t.Line);
                case T.Int:
                    return new Literal(long.Parse(t.Value, CultureInfo.InvariantCulture), t.Line);
                case T.Float:
                    return new Literal(double.Parse(t.Value, CultureInfo.InvariantCulture), t.Line);
                case T.Name:
                    return t.Value switch
                    {
                        "true" or "True" => new Literal(true, t.Line),
                        "false" or "False" => new Literal(false, t.Line),
                        "none" or "None" => new Literal(null, t.Line),
                        _ => new NameExpr(t.Value, t.Line),
                    };
                case T.Op when t.Value == "(":
                {
                    if (IsOp(")"))
                    {
                        Next();
                        return new ListExpr([], t.Line);
                    }
                    var first = ParseExpr();
                    if (IsOp(")"))
                    {
                        Next();
                        return first;
                    }
                    var items = new List<Expr> { first };
                    while (IsOp(","))
                    {
                        Next();
                        if (IsOp(")"))
                            break;
                        items.Add(ParseExpr());
                    }
                    Expect(T.Op, ")");
                    return new ListExpr(items, t.Line); // a tuple behaves as a list here
                }
                case T.Op when t.Value == "[":
                {
                    var items = new List<Expr>();
                    while (!IsOp("]"))
                    {
                        items.Add(ParseExpr());
                        if (!IsOp("]"))
                            Expect(T.Op, ",");
                    }
                    Next();
                    return new ListExpr(items, t.Line);
                }
                case T.Op when t.Value == "{":
                {
                    var items = new List<(Expr, Expr)>();
                    while (!IsOp("}"))
                    {
                        var key = ParseExpr();
                        Expect(T.Op, ":");
                        items.Add((key, ParseExpr()));
                        if (!IsOp("}"))
                            Expect(T.Op, ",");
                    }
                    Next();
                    return new DictExpr(items, t.Line);
                }
                default:
                    throw Error(t.Line, $"unexpected '{Describe(t)}' in an expression");
            }
        }
    }

    // ---------------------------------------------------------------- interpreter

    private sealed class Scope(Scope? parent)
    {
        private readonly Dictionary<string, object?> _vars = new();

        public bool TryGet(string name, out object? value)
        {
            for (var s = this; s is not null; s = s.Parent)
                if (s._vars.TryGetValue(name, out value))
                    return true;
            value = null;
            return false;
        }

        public Scope? Parent => parent;

        public void Set(string name, object? value) => _vars[name] = value;
    }

    private sealed class BreakSignal : Exception;

    private sealed class ContinueSignal : Exception;

    private sealed class Interpreter
    {
        public void Run(List<Node> body, Scope scope, StringBuilder output)
        {
            foreach (var node in body)
                Execute(node, scope, output);
        }

        private void Execute(Node node, Scope scope, StringBuilder output)
        {
            switch (node)
            {
                case TextNode t:
                    output.Append(t.Text);
                    break;
                case OutputNode o:
                    output.Append(Str(Eval(o.Value, scope)));
                    break;
                case IfNode i:
                    foreach (var (test, body) in i.Branches)
                        if (Truthy(Eval(test, scope)))
                        {
                            Run(body, scope, output);
                            return;
                        }
                    Run(i.Else, scope, output);
                    break;
                case ForNode f:
                    ExecuteFor(f, scope, output);
                    break;
                case SetNode s:
                    object? value;
                    if (s.Value is not null)
                        value = Eval(s.Value, scope);
                    else
                    {
                        var sb = new StringBuilder();
                        Run(s.Body!, scope, sb);
                        value = sb.ToString();
                    }
                    if (s.Attribute is null)
                        scope.Set(s.Name, value);
                    else if (scope.TryGet(s.Name, out var target) && target is Namespace ns)
                        ns[s.Attribute] = value;
                    else
                        throw Error(s.Line, $"cannot set '{s.Name}.{s.Attribute}': '{s.Name}' is not a namespace()");
                    break;
                case LoopControlNode c:
                    throw c.IsBreak ? new BreakSignal() : new ContinueSignal();
            }
        }

        private void ExecuteFor(ForNode f, Scope outer, StringBuilder output)
        {
            var scope = new Scope(outer); // one scope for the loop: sets persist across iterations, not after it
            var iterable = Eval(f.Iterable, scope) switch
            {
                List<object?> list => list,
                Dictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
                string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
                var other => throw Error(f.Line, $"cannot loop over {TypeName(other)}"),
            };
            void Bind(Scope target, object? item)
            {
                if (f.Targets.Count == 1)
                {
                    target.Set(f.Targets[0], item);
                    return;
                }
                if (item is not List<object?> parts || parts.Count != f.Targets.Count)
                    throw Error(f.Line, $"cannot unpack {TypeName(item)} into {f.Targets.Count} names");
                for (int k = 0; k < parts.Count; k++)
                    target.Set(f.Targets[k], parts[k]);
            }
            var items = new List<object?>();
            foreach (var item in iterable)
            {
                if (f.Filter is not null)
                {
                    var probe = new Scope(scope);
                    Bind(probe, item);
                    if (!Truthy(Eval(f.Filter, probe)))
                        continue;
                }
                items.Add(item);
            }
            bool ran = false;
            for (int i = 0; i < items.Count; i++)
            {
                scope.Set(
                    "loop",
                    new Dictionary<string, object?>
                    {
                        ["index"] = (long)i + 1,
                        ["index0"] = (long)i,
                        ["revindex"] = (long)(items.Count - i),
                        ["revindex0"] = (long)(items.Count - i - 1),
                        ["first"] = i == 0,
                        ["last"] = i == items.Count - 1,
                        ["length"] = (long)items.Count,
                        ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance,
                        ["nextitem"] = i < items.Count - 1 ? items[i + 1] : Undefined.Instance,
                    }
                );
                Bind(scope, items[i]);
                try
                {
                    Run(f.Body, scope, output);
                }
                catch (ContinueSignal)
                {
                    continue;
                }
                catch (BreakSignal)
                {
                    break;
                }
                ran = true;
            }
            if (!ran)
                Run(f.Else, scope, output);
        }

        private object? Eval(Expr e, Scope scope)
        {
            switch (e)
            {
                case Literal l:
                    return l.Value;
                case NameExpr n:
                    if (scope.TryGet(n.Name, out var v))
                        return v;
                    return Globals.TryGetValue(n.Name, out var g) ? g : Undefined.Instance;
                case ListExpr l:
                    return l.Items.Select(x => Eval(x, scope)).ToList();
                case DictExpr d:
                {
                    var dict = new Dictionary<string, object?>();
                    foreach (var (k, val) in d.Items)
                        dict[Eval(k, scope) as string ?? throw Error(d.Line, "dictionary keys must be strings")] = Eval(
                            val,
                            scope
                        );
                    return dict;
                }
                case AttrExpr a:
                    return GetAttr(Eval(a.Target, scope), a.Name, a.Line);
                case ItemExpr i:
                {
                    var target = Eval(i.Target, scope);
                    var index = Eval(i.Index, scope);
                    if (index is string key && target is Dictionary<string, object?>)
                        return GetAttr(target, key, i.Line);
                    return GetItem(target, index, i.Line);
                }
                case SliceExpr s:
                    return Slice(Eval(s.Target, scope), Opt(s.Start), Opt(s.Stop), Opt(s.Step), s.Line);
                case CallExpr c:
                {
                    var fn = Eval(c.Target, scope);
                    if (fn is not Callable callable)
                        throw Error(c.Line, $"{Describe(c.Target)} is not a function we support");
                    return callable(
                        c.Args.Select(x => Eval(x, scope)).ToList(),
                        c.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope)),
                        c.Line
                    );
                }
                case FilterExpr f:
                    return Filters.Apply(
                        f.Name,
                        Eval(f.Target, scope),
                        f.Args.Select(x => Eval(x, scope)).ToList(),
                        f.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope)),
                        f.Line
                    );
                case TestExpr t:
                {
                    bool result = Tests.Apply(
                        t.Name,
                        Eval(t.Target, scope),
                        t.Args.Select(x => Eval(x, scope)).ToList(),
                        t.Line
                    );
                    return result != t.Negated;
                }
                case UnaryExpr u:
                {
                    var operand = Eval(u.Operand, scope);
                    return u.Op switch
                    {
                        "not" => !Truthy(operand),
                        "-" => operand switch
                        {
                            long x => (object)(-x),
                            double x => -x,
                            bool b => b ? -1L : 0L,
                            _ => throw Error(u.Line, $"cannot negate {TypeName(operand)}"),
                        },
                        _ => operand is long or double or bool
                            ? operand
                            : throw Error(u.Line, $"unary + of {TypeName(operand)}"),
                    };
                }
                case BinaryExpr b:
                {
                    if (b.Op == "and")
                    {
                        var l = Eval(b.Left, scope);
                        return Truthy(l) ? Eval(b.Right, scope) : l;
                    }
                    if (b.Op == "or")
                    {
                        var l = Eval(b.Left, scope);
                        return Truthy(l) ? l : Eval(b.Right, scope);
                    }
                    return Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope), b.Line);
                }
                case CondExpr c:
                    return Truthy(Eval(c.Test, scope)) ? Eval(c.Then, scope)
                        : c.Else is null ? Undefined.Instance
                        : Eval(c.Else, scope);
                default:
                    throw Error(e.Line, "unknown expression");
            }

            long? Opt(Expr? x) =>
                x is null
                    ? null
                    : Eval(x, scope) switch
                    {
                        null => null,
                        long n => n,
                        var other => throw Error(e.Line, $"slice bounds must be integers, not {TypeName(other)}"),
                    };
        }

        private static string Describe(Expr e) =>
            e switch
            {
                NameExpr n => $"'{n.Name}'",
                AttrExpr a => $"'.{a.Name}'",
                _ => "the called value",
            };
    }

    // ---------------------------------------------------------------- values

    private static readonly Dictionary<string, object?> Globals = new()
    {
        ["raise_exception"] = (Callable)(
            (args, _, line) =>
                throw new TokenizerException(
                    $"chat_template line {line}: the template raised: {(args.Count > 0 ? Str(args[0]) : "")}"
                )
        ),
        ["namespace"] = (Callable)(
            (args, kwargs, line) =>
            {
                var ns = new Namespace();
                foreach (var a in args)
                    if (a is Dictionary<string, object?> d)
                        foreach (var (k, v) in d)
                            ns[k] = v;
                    else
                        throw Error(line, "namespace() takes keyword arguments or a dictionary");
                foreach (var (k, v) in kwargs)
                    ns[k] = v;
                return ns;
            }
        ),
        ["range"] = (Callable)(
            (args, _, line) =>
            {
                var n = args.Select(a => a as long? ?? throw Error(line, "range() takes integers")).ToList();
                var (start, stop, step) = n.Count switch
                {
                    1 => (0L, n[0], 1L),
                    2 => (n[0], n[1], 1L),
                    3 => (n[0], n[1], n[2]),
                    _ => throw Error(line, "range() takes 1 to 3 arguments"),
                };
                if (step == 0)
                    throw Error(line, "range() step must not be zero");
                var list = new List<object?>();
                for (long i = start; step > 0 ? i < stop : i > stop; i += step)
                    list.Add(i);
                return list;
            }
        ),
        ["strftime_now"] = (Callable)(
            (args, _, line) =>
                Strftime(
                    DateTime.Now,
                    args.Count == 1 && args[0] is string f
                        ? f
                        : throw Error(line, "strftime_now(format) takes one string"),
                    line
                )
        ),
    };

    /// <summary>Python's strftime for the directives chat templates use (dates in system prompts).</summary>
    private static string Strftime(DateTime t, string format, int line)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            char d = format[++i];
            sb.Append(
                d switch
                {
                    'd' => t.ToString("dd", CultureInfo.InvariantCulture),
                    'm' => t.ToString("MM", CultureInfo.InvariantCulture),
                    'Y' => t.ToString("yyyy", CultureInfo.InvariantCulture),
                    'y' => t.ToString("yy", CultureInfo.InvariantCulture),
                    'b' => t.ToString("MMM", CultureInfo.InvariantCulture),
                    'B' => t.ToString("MMMM", CultureInfo.InvariantCulture),
                    'a' => t.ToString("ddd", CultureInfo.InvariantCulture),
                    'A' => t.ToString("dddd", CultureInfo.InvariantCulture),
                    'H' => t.ToString("HH", CultureInfo.InvariantCulture),
                    'M' => t.ToString("mm", CultureInfo.InvariantCulture),
                    'S' => t.ToString("ss", CultureInfo.InvariantCulture),
                    '-' when i + 1 < format.Length && format[i + 1] == 'd' && i++ >= 0 => t.Day.ToString(
                        CultureInfo.InvariantCulture
                    ),
                    '%' => "%",
                    _ => throw Error(line, $"strftime directive %{d} is not supported"),
                }
            );
        }
        return sb.ToString();
    }

    private static string TypeName(object? v) =>
        v switch
        {
            null => "none",
            Undefined => "an undefined value",
            bool => "a boolean",
            long => "an integer",
            double => "a float",
            string => "a string",
            List<object?> => "a list",
            Namespace => "a namespace",
            Dictionary<string, object?> => "a dictionary",
            Callable => "a function",
            _ => v.GetType().Name,
        };

    private static bool Truthy(object? v) =>
        v switch
        {
            null or Undefined => false,
            bool b => b,
            long n => n != 0,
            double d => d != 0,
            string s => s.Length > 0,
            List<object?> l => l.Count > 0,
            Dictionary<string, object?> d => d.Count > 0,
            _ => true,
        };

    /// <summary>
    /// How {{ }} prints a value, as @huggingface/jinja does: none and undefined print nothing, booleans "true"/"false",
    /// lists and dictionaries as JSON (Python's Jinja would print None, True and Python reprs; chat templates print
    /// only strings and numbers).
    /// </summary>
    private static string Str(object? v)
    {
        switch (v)
        {
            case null or Undefined:
                return "";
            case bool b:
                return b ? "true" : "false";
            case long n:
                return n.ToString(CultureInfo.InvariantCulture);
            case double d:
                return FormatFloat(d);
            case string s:
                return s;
            default:
                var sb = new StringBuilder();
                Filters.Json(v, null, 0, sb, 0);
                return sb.ToString();
        }
    }

    private static string FormatFloat(double d) =>
        double.IsInteger(d) && Math.Abs(d) < 1e16
            ? d.ToString("0.0", CultureInfo.InvariantCulture)
            : d.ToString("R", CultureInfo.InvariantCulture);

    private static object? GetAttr(object? target, string name, int line)
    {
        switch (target)
        {
            case Dictionary<string, object?> d:
                if (d.TryGetValue(name, out var v))
                    return v;
                return target is Namespace ? Undefined.Instance : (object?)DictMethod(d, name) ?? Undefined.Instance;
            case string s:
                return (object?)StringMethod(s, name, line) ?? Undefined.Instance;
            case List<object?>:
                return Undefined.Instance;
            default:
                // also of none or undefined, as @huggingface/jinja (Python's Jinja would raise)
                return Undefined.Instance;
        }
    }

    private static object? GetItem(object? target, object? index, int line)
    {
        switch (target, index)
        {
            case (List<object?> l, long i):
                long k = i < 0 ? l.Count + i : i;
                return k >= 0 && k < l.Count ? l[(int)k] : Undefined.Instance;
            case (string s, long i):
                var runes = s.EnumerateRunes().ToList();
                long r = i < 0 ? runes.Count + i : i;
                return r >= 0 && r < runes.Count ? runes[(int)r].ToString() : Undefined.Instance;
            case (Dictionary<string, object?> d, string key):
                return d.TryGetValue(key, out var v) ? v : Undefined.Instance;
            default:
                return Undefined.Instance;
        }
    }

    private static object? Slice(object? target, long? start, long? stop, long? step, int line)
    {
        List<object?> items = target switch
        {
            List<object?> l => l,
            string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
            _ => throw Error(line, $"cannot slice {TypeName(target)}"),
        };
        long n = items.Count,
            st = step ?? 1;
        if (st == 0)
            throw Error(line, "slice step must not be zero");
        long Clamp(long? v, long dflt, long lo, long hi) =>
            v is not { } x ? dflt : Math.Clamp(x < 0 ? x + n : x, lo, hi);
        var result = new List<object?>();
        if (st > 0)
            for (long i = Clamp(start, 0, 0, n), end = Clamp(stop, n, 0, n); i < end; i += st)
                result.Add(items[(int)i]);
        else
            for (long i = Clamp(start, n - 1, -1, n - 1), end = Clamp(stop, -1, -1, n - 1); i > end; i += st)
                result.Add(items[(int)i]);
        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    private static Callable? DictMethod(Dictionary<string, object?> d, string name) =>
        name switch
        {
            "items" => (_, _, _) => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
            "keys" => (_, _, _) => d.Keys.Select(k => (object?)k).ToList(),
            "values" => (_, _, _) => d.Values.ToList(),
            "get" => (args, _, line) =>
                args.Count is 1 or 2
                    ? d.TryGetValue(args[0] as string ?? "", out var v)
                        ? v
                        : args.Count == 2
                            ? args[1]
                            : null
                    : throw Error(line, "get() takes a key and an optional default"),
            _ => null,
        };

    private static Callable? StringMethod(string s, string name, int line)
    {
        string Arg(List<object?> args, int i) =>
            args.Count > i && args[i] is string a ? a : throw Error(line, $"{name}() expects a string argument");
        char[]? Chars(List<object?> args) => args.Count == 0 || args[0] is null ? null : Arg(args, 0).ToCharArray();
        return name switch
        {
            "strip" => (args, _, _) => Chars(args) is { } c ? s.Trim(c) : s.Trim(),
            "lstrip" => (args, _, _) => Chars(args) is { } c ? s.TrimStart(c) : s.TrimStart(),
            "rstrip" => (args, _, _) => Chars(args) is { } c ? s.TrimEnd(c) : s.TrimEnd(),
            "upper" => (_, _, _) => s.ToUpperInvariant(),
            "lower" => (_, _, _) => s.ToLowerInvariant(),
            "title" => (_, _, _) => Title(s),
            "capitalize" => (_, _, _) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant(),
            "startswith" => (args, _, _) => s.StartsWith(Arg(args, 0), StringComparison.Ordinal),
            "endswith" => (args, _, _) => s.EndsWith(Arg(args, 0), StringComparison.Ordinal),
            "replace" => (args, _, _) => s.Replace(Arg(args, 0), Arg(args, 1), StringComparison.Ordinal),
            "split" => (args, _, _) =>
            {
                if (args.Count == 0 || args[0] is null)
                    return s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
                        .Select(x => (object?)x)
                        .ToList();
                int max = args.Count > 1 && args[1] is long m && m >= 0 ? (int)m + 1 : int.MaxValue;
                return s.Split(Arg(args, 0), max).Select(x => (object?)x).ToList();
            },
            "find" => (args, _, _) => (long)s.IndexOf(Arg(args, 0), StringComparison.Ordinal),
            "count" => (args, _, _) =>
                (long)(
                    Arg(args, 0).Length == 0
                        ? s.Length + 1
                        : (s.Length - s.Replace(Arg(args, 0), "").Length) / Arg(args, 0).Length
                ),
            "isdigit" => (_, _, _) => s.Length > 0 && s.All(char.IsDigit),
            "isspace" => (_, _, _) => s.Length > 0 && s.All(char.IsWhiteSpace),
            _ => null,
        };
    }

    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousIsLetter = false;
        foreach (char c in s)
        {
            sb.Append(previousIsLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousIsLetter = char.IsLetter(c);
        }
        return sb.ToString();
    }

    private static object? Binary(string op, object? l, object? r, int line)
    {
        switch (op)
        {
            case "==":
                return AreEqual(l, r);
            case "!=":
                return !AreEqual(l, r);
            case "in":
                return Contains(r, l, line);
            case "~":
                return Str(l) + Str(r);
            case "<" or "<=" or ">" or ">=":
            {
                int c = (l, r) switch
                {
                    (string a, string b) => string.CompareOrdinal(a, b),
                    _ when IsNumber(l) && IsNumber(r) => ToDouble(l).CompareTo(ToDouble(r)),
                    _ => throw Error(line, $"cannot compare {TypeName(l)} with {TypeName(r)}"),
                };
                return op switch
                {
                    "<" => c < 0,
                    "<=" => c <= 0,
                    ">" => c > 0,
                    _ => c >= 0,
                };
            }
            case "+":
                switch (l, r)
                {
                    case (List<object?> a, List<object?> b):
                        return a.Concat(b).ToList();
                    case (string, _) or (_, string) when l is not (null or Undefined) && r is not (null or Undefined):
                        return Joined(l) + Joined(r); // as @huggingface/jinja (JavaScript's +); Python would raise
                }
                break;
        }
        if (!IsNumber(l) || !IsNumber(r))
            throw Error(line, $"operator '{op}' is not supported between {TypeName(l)} and {TypeName(r)}");
        if (l is not double && r is not double && op is not "/")
        {
            long a = ToLong(l),
                b = ToLong(r);
            return op switch
            {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "//" => b == 0 ? throw Error(line, "division by zero") : (long)Math.Floor((double)a / b),
                "%" => b == 0 ? throw Error(line, "division by zero") : ((a % b) + b) % b, // Python's sign rule
                "**" => (long)Math.Pow(a, b),
                _ => throw Error(line, $"operator '{op}' is not supported"),
            };
        }
        double x = ToDouble(l),
            y = ToDouble(r);
        return op switch
        {
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            "/" => y == 0 ? throw Error(line, "division by zero") : x / y,
            "//" => Math.Floor(x / y),
            "%" => x - y * Math.Floor(x / y),
            "**" => Math.Pow(x, y),
            _ => throw Error(line, $"operator '{op}' is not supported"),
        };
    }

    /// <summary>A value as JavaScript's + turns it into text: a list's items joined by ",".</summary>
    private static string Joined(object? v) => v is List<object?> l ? string.Join(",", l.Select(Str)) : Str(v);

    private static bool IsNumber(object? v) => v is long or double or bool;

    private static double ToDouble(object? v) =>
        v switch
        {
            long n => n,
            double d => d,
            bool b => b ? 1 : 0,
            _ => 0,
        };

    private static long ToLong(object? v) =>
        v switch
        {
            long n => n,
            bool b => b ? 1 : 0,
            double d => (long)d,
            _ => 0,
        };

    private static bool AreEqual(object? a, object? b) =>
        (a, b) switch
        {
            (null, null) or (Undefined, Undefined) => true,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => AreEqual(p.First, p.Second)),
            (Dictionary<string, object?> x, Dictionary<string, object?> y) => x.Count == y.Count
                && x.All(kv => y.TryGetValue(kv.Key, out var v) && AreEqual(kv.Value, v)),
            _ when IsNumber(a) && IsNumber(b) => ToDouble(a) == ToDouble(b),
            _ => false,
        };

    private static bool Contains(object? container, object? item, int line) =>
        container switch
        {
            string s => item is string sub
                ? s.Contains(sub, StringComparison.Ordinal)
                : throw Error(line, $"'in <string>' needs a string, not {TypeName(item)}"),
            List<object?> l => l.Any(x => AreEqual(x, item)),
            Dictionary<string, object?> d => item is string k && d.ContainsKey(k),
            Undefined => throw Error(line, "'in' of an undefined value"),
            _ => throw Error(line, $"'in' is not supported for {TypeName(container)}"),
        };

    // ---------------------------------------------------------------- filters and tests

    private static class Filters
    {
        public static object? Apply(
            string name,
            object? v,
            List<object?> args,
            Dictionary<string, object?> kwargs,
            int line
        )
        {
            switch (name)
            {
                case "trim":
                    return Text(v, name, line).Trim();
                case "upper":
                    return Text(v, name, line).ToUpperInvariant();
                case "lower":
                    return Text(v, name, line).ToLowerInvariant();
                case "title":
                    return Title(Text(v, name, line));
                case "capitalize":
                    return StringMethod(Text(v, name, line), "capitalize", line)!([], [], line);
                case "string":
                    return Str(v);
                case "safe":
                    return v;
                case "length" or "count":
                    return v switch
                    {
                        string s => (long)s.EnumerateRunes().Count(),
                        List<object?> l => (long)l.Count,
                        Dictionary<string, object?> d => (long)d.Count,
                        _ => throw Error(line, $"{TypeName(v)} has no length"),
                    };
                case "first" or "last":
                    var seq = AsList(v, name, line);
                    return seq.Count == 0 ? Undefined.Instance
                        : name == "first" ? seq[0]
                        : seq[^1];
                case "reverse":
                    if (v is string rs)
                        return string.Concat(rs.EnumerateRunes().Reverse().Select(r => r.ToString()));
                    var rev = AsList(v, name, line).ToList();
                    rev.Reverse();
                    return rev;
                case "list":
                    return AsList(v, name, line).ToList();
                case "join":
                    string sep =
                        args.Count > 0 ? Str(args[0])
                        : kwargs.TryGetValue("d", out var d1) ? Str(d1)
                        : "";
                    return string.Join(sep, AsList(v, name, line).Select(Str));
                case "default" or "d":
                    bool boolean =
                        args.Count > 1 && Truthy(args[1]) || kwargs.TryGetValue("boolean", out var bv) && Truthy(bv);
                    object? fallback = args.Count > 0 ? args[0] : kwargs.GetValueOrDefault("default_value", "");
                    return v is Undefined || boolean && !Truthy(v) ? fallback : v;
                case "replace":
                    if (args.Count < 2)
                        throw Error(line, "replace takes the old and the new text");
                    return Text(v, name, line).Replace(Str(args[0]), Str(args[1]), StringComparison.Ordinal);
                case "int":
                    return v switch
                    {
                        long n => n,
                        double x => (long)x,
                        bool b => b ? 1L : 0L,
                        string s
                            when long.TryParse(
                                s.Trim(),
                                NumberStyles.Integer,
                                CultureInfo.InvariantCulture,
                                out long p
                            ) => p,
                        _ => args.Count > 0 ? args[0] : 0L,
                    };
                case "float":
                    return v switch
                    {
                        long n => (double)n,
                        double x => x,
                        bool b => b ? 1.0 : 0.0,
                        string s
                            when double.TryParse(
                                s.Trim(),
                                NumberStyles.Float,
                                CultureInfo.InvariantCulture,
                                out double p
                            ) => p,
                        _ => args.Count > 0 ? args[0] : 0.0,
                    };
                case "abs":
                    return v is long n2 ? Math.Abs(n2)
                        : v is double x2 ? (object)Math.Abs(x2)
                        : throw Error(line, $"abs of {TypeName(v)}");
                case "items":
                    return v is Dictionary<string, object?> dict
                        ? dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()
                        : throw Error(line, $"items of {TypeName(v)}");
                case "tojson":
                {
                    object? indentArg = args.Count > 0 ? args[0] : kwargs.GetValueOrDefault("indent");
                    int? indent = indentArg is long i ? (int)i : null;
                    var sb = new StringBuilder();
                    Json(v, indent, 0, sb, line);
                    return sb.ToString();
                }
                default:
                    throw Error(line, $"filter '{name}' is not supported");
            }
        }

        private static string Text(object? v, string filter, int line) =>
            v as string ?? throw Error(line, $"filter '{filter}' needs a string, not {TypeName(v)}");

        private static List<object?> AsList(object? v, string filter, int line) =>
            v switch
            {
                List<object?> l => l,
                string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
                Dictionary<string, object?> d => d.Keys.Select(k => (object?)k).ToList(),
                _ => throw Error(line, $"filter '{filter}' needs a sequence, not {TypeName(v)}"),
            };

        /// <summary>Python json.dumps(ensure_ascii=False) as HF's tojson: ", " and ": " separators, or "," + newlines
        /// with indent.</summary>
        public static void Json(object? v, int? indent, int depth, StringBuilder sb, int line)
        {
            switch (v)
            {
                case null or Undefined:
                    sb.Append("null");
                    break;
                case bool b:
                    sb.Append(b ? "true" : "false");
                    break;
                case long n:
                    sb.Append(n.ToString(CultureInfo.InvariantCulture));
                    break;
                case double d:
                    sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                    break; // as JSON.stringify
                case string s:
                    JsonString(s, sb);
                    break;
                case List<object?> l:
                    Container('[', ']', l.Count, i => Json(l[i], indent, depth + 1, sb, line));
                    break;
                case Dictionary<string, object?> dict:
                    var entries = dict.ToList();
                    Container('{', '}', entries.Count, i =>
                    {
                        JsonString(entries[i].Key, sb);
                        sb.Append(": ");
                        Json(entries[i].Value, indent, depth + 1, sb, line);
                    });
                    break;
                default:
                    throw Error(line, $"tojson cannot write {TypeName(v)}");
            }

            void Container(char open, char close, int count, Action<int> item)
            {
                sb.Append(open);
                if (count > 0 && indent is { } ind)
                {
                    string pad = "\n" + new string(' ', ind * (depth + 1));
                    for (int i = 0; i < count; i++)
                    {
                        sb.Append(i > 0 ? "," : "").Append(pad);
                        item(i);
                    }
                    sb.Append('\n').Append(' ', ind * depth);
                }
                else
                    for (int i = 0; i < count; i++)
                    {
                        if (i > 0)
                            sb.Append(", ");
                        item(i);
                    }
                sb.Append(close);
            }
        }

        private static void JsonString(string s, StringBuilder sb)
        {
            sb.Append('"');
            foreach (char c in s)
                sb.Append(
                    c switch
                    {
                        '"' => "\\\"",
                        '\\' => "\\\\",
                        '\n' => "\\n",
                        '\r' => "\\r",
                        '\t' => "\\t",
                        '\b' => "\\b",
                        '\f' => "\\f",
                        < ' ' => $"\\u{(int)c:x4}",
                        _ => c.ToString(),
                    }
                );
            sb.Append('"');
        }
    }

    private static class Tests
    {
        public static bool Apply(string name, object? v, List<object?> args, int line) =>
            name switch
            {
                "defined" => v is not Undefined,
                "undefined" => v is Undefined,
                "none" => v is null,
                "string" => v is string,
                "number" => v is long or double,
                "integer" => v is long,
                "float" => v is double,
                "boolean" => v is bool,
                "true" => v is true,
                "false" => v is false,
                "mapping" => v is Dictionary<string, object?>,
                "iterable" => v is string or List<object?> or Dictionary<string, object?>,
                "sequence" => v is string or List<object?> or Dictionary<string, object?>,
                "callable" => v is Callable,
                "odd" => v is long n && n % 2 != 0,
                "even" => v is long m && m % 2 == 0,
                "divisibleby" => v is long a && args.Count == 1 && args[0] is long b && b != 0 && a % b == 0,
                "eq" or "equalto" or "==" or "sameas" => args.Count == 1
                    ? AreEqual(v, args[0])
                    : throw Error(line, $"test '{name}' takes one argument"),
                "ne" or "!=" => args.Count == 1
                    ? !AreEqual(v, args[0])
                    : throw Error(line, $"test '{name}' takes one argument"),
                "in" => args.Count == 1
                    ? Contains(args[0], v, line)
                    : throw Error(line, "test 'in' takes one argument"),
                "lower" => v is string s1 && s1 == s1.ToLowerInvariant(),
                "upper" => v is string s2 && s2 == s2.ToUpperInvariant(),
                _ => throw Error(line, $"test '{name}' is not supported"),
            };
    }
}
